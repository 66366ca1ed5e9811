"""Test settings: the same code paths, faster hashing, isolated files."""

from config.settings.base import *  # noqa: F403
from config.settings.base import TASKS  # noqa: F401

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks are enqueued into the database like production; tests run them
# explicitly (portico.core.testing.run_pending_tasks) to exercise the worker path.
LOGGING = {"version": 1, "disable_existing_loggers": False}
