"""Local development (`make run`): DEBUG on, mail kept in the outbox."""

import os
import warnings

os.environ.setdefault("DEBUG", "true")

from config.settings.base import *  # noqa: E402,F403

# Static files come from the finders in development; there is no collectstatic.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
