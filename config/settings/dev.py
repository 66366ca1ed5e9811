"""Local development (`make run`): DEBUG on, mail kept in the outbox."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings.base import *  # noqa: E402,F403

import warnings  # noqa: E402

# Static files come from the finders in development; there is no collectstatic.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
