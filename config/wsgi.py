import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.env import SettingsError  # noqa: E402

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except SettingsError as error:
    print(f"Portico cannot start: {error}", file=sys.stderr)
    sys.exit(2)
