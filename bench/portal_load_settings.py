"""Settings of the gunicorn server that bench/portal_load.py loads.

Production-like (config.settings.base: DEBUG off, cached templates, the
real session and authentication stack) plus one bare view for comparison.
Plain HTTP on 127.0.0.1, so not config.settings.production (which redirects
to HTTPS and wants secure cookies).
"""

from config.settings.base import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "portal_load_urls"
# Static files as in production (whitenoise's manifest), collected into a
# directory of the bench's own by portal_load.py before gunicorn starts.
STATIC_ROOT = BASE_DIR / "var" / "bench" / "staticfiles"  # noqa: F405
