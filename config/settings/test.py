"""Test settings: the same code paths, faster hashing, isolated files."""

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks are enqueued into the database like production; tests that need them
# run the real worker (`call_command("db_worker", batch=True)`).
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Later views of cached document pages are written at once, inside the test's
# transaction (a timer thread would write through another connection);
# portico/portal/tests/test_view_counts.py tests the batched writing.
PORTAL_VIEW_COUNT_FLUSH_SECONDS = 0
