"""A throw-away database for one benchmark run (never the development one).

SQLite runs use a fresh file under var/bench/; with a PostgreSQL
``DATABASE_URL`` the named bench database is dropped and created on that
server. Shared by every script in bench/.
"""

import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def is_postgres(url: str) -> bool:
    return url.split("://", 1)[0] in {"postgres", "postgresql", "pgsql"}


@dataclass(frozen=True)
class BenchDatabase:
    sqlite_path: Path
    postgres_name: str

    def _remove_sqlite_file(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)

    def _recreate_postgres(self, url: str, *, create: bool) -> str:
        """Drop the bench database on the server ``url`` names (and create it afresh)."""
        import psycopg

        parts = urlsplit(url)
        # Connect to the database the URL names (or to "postgres" if that is ours).
        admin_path = "/postgres" if parts.path.strip("/") == self.postgres_name else parts.path
        with psycopg.connect(
            urlunsplit(parts._replace(path=admin_path, query="")), autocommit=True
        ) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.postgres_name} WITH (FORCE)")
            if create:
                admin.execute(f"CREATE DATABASE {self.postgres_name}")
        return urlunsplit(parts._replace(path=f"/{self.postgres_name}"))

    def create(self, requested_url: str) -> str:
        """The URL of a fresh, empty database for this run."""
        if is_postgres(requested_url):
            return self._recreate_postgres(requested_url, create=True)
        self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        self._remove_sqlite_file()
        return f"sqlite:///{self.sqlite_path}"

    def drop(self, requested_url: str) -> None:
        if is_postgres(requested_url):
            self._recreate_postgres(requested_url, create=False)
        else:
            self._remove_sqlite_file()

    def describe(self) -> str:
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                return f"PostgreSQL {cursor.fetchone()[0]}, database {self.postgres_name}"
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}, {self.sqlite_path.relative_to(BASE_DIR)}"


def setup_django(database_url: str) -> None:
    """Production-like: DEBUG off (no query log, cached templates); the test
    settings only for static files from the finders and in-memory mail."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(BASE_DIR))
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
