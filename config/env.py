"""Reading settings from the environment, failing fast with one clear line.

Every setting that differs between machines comes from here (HackSoft's
``config/env.py``). A bad value raises :class:`SettingsError`, which
``manage.py`` and ``wsgi.py`` turn into a single line on stderr and exit 2.
"""

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url


class SettingsError(Exception):
    """A setting taken from the environment cannot be used."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, fit for an error message.

    Everything up to the last ``@`` counts as credentials, so a password with
    an unescaped ``/`` or ``@`` is still hidden.
    """
    match = re.match(r"(?P<start>[^:/]+://[^:@/]*):.*@(?P<rest>[^@]*)$", url, flags=re.DOTALL)
    return f"{match['start']}:***@{match['rest']}" if match else url


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Django DATABASES['default'] from ``DATABASE_URL``.

    Supported: ``sqlite:///relative/or/absolute.sqlite3`` and
    ``postgres://user:pass@host:port/name`` (psycopg 3).
    """
    shown = redact_url(url)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise SettingsError(
            f"DATABASE_URL={shown!r} is not understood: use sqlite:///path.sqlite3 "
            "or postgres://user:password@host:5432/name"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as error:  # dj-database-url raises several types
        raise SettingsError(f"DATABASE_URL={shown!r} is malformed: {error}") from error
    if scheme == "sqlite":
        name = config.get("NAME") or ""
        if not name or name == ":memory:":
            raise SettingsError(f"DATABASE_URL={shown!r} names no SQLite file")
        path = Path(name)
        if not path.is_absolute():
            path = base_dir / path
        path.parent.mkdir(parents=True, exist_ok=True)
        config["NAME"] = str(path)
        # SQLite: WAL lets the worker and the web process read while one writes;
        # IMMEDIATE makes write transactions take the lock up front, so
        # select_for_update-style sections never dead-lock on lock upgrade.
        # Kept open between requests: opening the file and setting the
        # pragmas costs more than a cached portal page takes to serve.
        config["CONN_MAX_AGE"] = 600
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
    else:
        if not config.get("NAME"):
            raise SettingsError(f"DATABASE_URL={shown!r} names no database")
        config["ENGINE"] = "django.db.backends.postgresql"
        if env_bool("DATABASE_PREPARED_STATEMENTS", True):
            # Parameters bound by the server, and a statement run 5 times on a
            # connection is prepared once: the server stops parsing and planning
            # the same queries again (half of a cached portal page's database
            # time). Turn off behind a pooler that cannot keep prepared
            # statements (PgBouncer in transaction mode before 1.21).
            config.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    return config


EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "outbox": "portico.mail.backends.OutboxOnlyBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
}


EMAIL_URL_OPTIONS = {"tls", "timeout"}


def email_from_url(url: str) -> dict:
    """Django e-mail settings from ``EMAIL_URL``.

    ``outbox://`` keeps mail in the outbox and prints it to the console (the
    demo default); ``smtp://user:password@host:port`` delivers by SMTP,
    ``?tls=true`` for STARTTLS, ``smtps://`` for implicit TLS, ``?timeout=20``
    the seconds to wait for the server.
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise SettingsError(f"EMAIL_URL={shown!r} is malformed: {error}") from error
    scheme = parts.scheme
    if scheme in {"outbox", "console", "memory"}:
        return {"EMAIL_BACKEND": EMAIL_BACKENDS[scheme]}
    if scheme not in {"smtp", "smtps"}:
        raise SettingsError(
            f"EMAIL_URL={shown!r} is not understood: use outbox://, "
            "smtp://user:password@host:port or smtps://…"
        )
    if not parts.hostname:
        raise SettingsError(f"EMAIL_URL={shown!r} names no SMTP host")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(options) - EMAIL_URL_OPTIONS)
    if unknown:
        raise SettingsError(
            f"EMAIL_URL={shown!r} has unknown option {', '.join(unknown)} "
            f"(known: {', '.join(sorted(EMAIL_URL_OPTIONS))})"
        )
    use_ssl = scheme == "smtps"
    use_tls = _option_bool(options.get("tls", "false"), name="tls", shown=shown)
    if use_ssl and use_tls:
        raise SettingsError(f"EMAIL_URL={shown!r} asks for both smtps and ?tls=true")
    try:
        timeout = float(options.get("timeout", "20"))
    except ValueError:
        timeout = 0.0
    if not 0 < timeout < float("inf"):
        raise SettingsError(f"EMAIL_URL={shown!r}: timeout must be a positive number of seconds")
    return {
        "EMAIL_BACKEND": EMAIL_BACKENDS["smtp"],
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_TIMEOUT": int(timeout) if timeout.is_integer() else timeout,
    }


def _option_bool(raw: str, *, name: str, shown: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"EMAIL_URL={shown!r}: {name}={raw!r} is not a boolean (use true or false)")
