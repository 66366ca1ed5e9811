"""Production: refuses to start with development defaults.

Use with ``DJANGO_SETTINGS_MODULE=config.settings.production``; passes
``manage.py check --deploy``.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import DEVELOPMENT_SECRET_KEY, SECRET_KEY, SettingsError, env_bool

if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise SettingsError("SECRET_KEY must be set to a random value of at least 50 characters")
if DEBUG:  # noqa: F405
    raise SettingsError("DEBUG must be off in production")
if not ALLOWED_HOSTS or ALLOWED_HOSTS == ["127.0.0.1", "localhost", "[::1]"]:  # noqa: F405
    raise SettingsError("ALLOWED_HOSTS must name the public host names, comma-separated")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The built-in test gateway marks invoices paid without taking money: refused
# in production unless explicitly allowed (a staging site, say).
PORTICO_TEST_GATEWAY_ALLOWED = env_bool("PORTICO_ALLOW_TEST_GATEWAY", default=False)
