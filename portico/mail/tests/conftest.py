import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)

TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def notice_template(settings) -> str:
    """``mail_tests/notice``: a template pair only the tests use."""
    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]} for engine in settings.TEMPLATES
    ]
    return "mail_tests/notice"


@pytest.fixture
def run_db_worker() -> Callable[[], None]:
    """Run ``manage.py db_worker --batch``: every task ready now, then exit.

    The worker installs SIGINT/SIGTERM handlers for a graceful stop; they are
    put back afterwards so Ctrl+C still stops pytest.
    """

    def run() -> None:
        handlers = {number: signal.getsignal(number) for number in _WORKER_SIGNALS}
        try:
            call_command(
                "db_worker",
                batch=True,
                interval=0,
                startup_delay=False,
                reload=False,
                verbosity=0,
            )
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)

    return run


_WORKER_SIGNALS = [
    signal.SIGINT,
    signal.SIGTERM,
    *([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else []),
]
