"""Portico settings: one module, every machine-specific value from the environment."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from config.env import (  # noqa: F401  (SettingsError is re-exported)
    SettingsError,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)
# The development key only exists so `make run` works out of the box;
# config.settings.production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "portico-development-key-not-for-production"
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Our apps first: portico.mail's db_worker wraps django_tasks_db's.
    "portico.core",
    "portico.accounts",
    "portico.customers",
    "portico.catalog",
    "portico.sales",
    "portico.payments",
    "portico.projects",
    "portico.portal_access",
    "portico.portal",
    "portico.comments",
    "portico.activity",
    "portico.online_payments",
    "portico.mail",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portico.accounts.context_processors.organization",
                "portico.portal.page_cache.csrf_placeholder",
            ],
        },
    },
    {
        # Plain-text e-mail parts and subjects: the same templates without
        # HTML escaping, so "Lind & Sons" does not arrive as "Lind &amp; Sons".
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "sqlite:///var/portico.sqlite3"), base_dir=BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# User.email is unique case-insensitively (a UniqueConstraint on Lower(email)),
# which this check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = ["portico.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for one day

# Login throttling: after LOGIN_FAILURES_BEFORE_DELAY failures for one e-mail
# (or one client address), each further attempt waits longer; after
# LOGIN_FAILURES_BEFORE_LOCK the key is locked for LOGIN_LOCK_SECONDS.
LOGIN_FAILURES_BEFORE_DELAY = 3
LOGIN_FAILURES_BEFORE_LOCK = 10
LOGIN_LOCK_SECONDS = 15 * 60
LOGIN_FAILURE_WINDOW_SECONDS = 60 * 60

SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_ENGINE = "portico.core.sessions"

# Local memory in each process. "portal_pages" holds rendered portal pages
# keyed by the data versions they show (portico/portal/page_cache.py): it must
# stay per process (a shared cache would outlive a database restore).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "portal_pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "portal-pages",
        "OPTIONS": {"MAX_ENTRIES": 1000},  # pages of 20–60 KB: up to ~50 MB a process
    },
}
# How long a cached portal page may be served while nothing it shows changed
# (it also bounds anything time-relative on it); 0 turns the cache off.
PORTAL_PAGE_CACHE_SECONDS = env_int("PORTAL_PAGE_CACHE_SECONDS", 120)
# Later views of cached document pages are added up in each process and
# written this often (portico/portal/view_counts.py); 0 writes each at once.
PORTAL_VIEW_COUNT_FLUSH_SECONDS = 1.0

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("de", _("German")),
    ("en", _("English")),
    ("en-gb", _("English (United Kingdom)")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("it", _("Italian")),
    ("ja", _("Japanese")),
    ("nl", _("Dutch")),
    ("pt", _("Portuguese")),
    ("pt-br", _("Portuguese (Brazil)")),
    ("sv", _("Swedish")),
    ("zh-hans", _("Chinese (Simplified)")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Comment attachments (PDF and images): the largest file accepted.
COMMENT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

EMAIL_URL = env_str("EMAIL_URL", "outbox://")
globals().update(email_from_url(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Portico <no-reply@portico.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Outbox delivery: a batch shares one SMTP connection; failures back off
# exponentially from OUTBOX_RETRY_BASE_SECONDS up to OUTBOX_RETRY_MAX_SECONDS
# and a message is marked failed after OUTBOX_MAX_ATTEMPTS.
OUTBOX_BATCH_SIZE = 500
OUTBOX_MAX_ATTEMPTS = 8
OUTBOX_RETRY_BASE_SECONDS = 30
OUTBOX_RETRY_MAX_SECONDS = 60 * 60
OUTBOX_CLAIM_SECONDS = 5 * 60
# Sent rows are marked in groups: one UPDATE per this many messages (or
# seconds); a worker killed in between sends those again (at least once).
OUTBOX_MARK_SENT_EVERY = 50
OUTBOX_MARK_SENT_SECONDS = 1.0
# On SQLite a marking that finds the write lock taken (a bulk job writing) is
# tried again later; with this many rows unmarked it waits for the lock.
OUTBOX_MARK_SENT_MAX_PENDING = 250

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Online payments: a Pay now locks its invoices against another one for this
# long (the checkout then expires); the built-in test gateway, which takes no
# real money, may be turned on (production turns it off, see production.py).
CHECKOUT_LOCK_MINUTES = 30
PORTICO_TEST_GATEWAY_ALLOWED = True
# Stripe's API (tests point it at a local fake). Each request gives up after
# STRIPE_TIMEOUT_SECONDS; a network error or a 5xx is retried (with the same
# idempotency key) STRIPE_MAX_NETWORK_RETRIES times.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_TIMEOUT_SECONDS = 20
STRIPE_MAX_NETWORK_RETRIES = 2

# The public address of this site, used in e-mails (links must be absolute).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.utils.autoreload": {"level": "WARNING"},
    },
}

# Notifications: a member who got this many e-mail notifications within the
# window gets the next ones together, in one digest at the end of the window.
NOTIFICATION_DIGEST_THRESHOLD = 10
NOTIFICATION_DIGEST_WINDOW_SECONDS = 5 * 60
# The staff bell asks for its unread count this often while the tab is visible.
NOTIFICATION_POLL_SECONDS = 30
