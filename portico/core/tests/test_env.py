"""config/env.py: settings read from the environment, failing with one clear line."""

import pytest

from config.env import SettingsError, database_from_url, email_from_url, env_bool, env_list

# --- DATABASE_URL -------------------------------------------------------------


def test_a_relative_sqlite_file_lives_under_the_project(tmp_path):
    # when
    config = database_from_url("sqlite:///var/portico.sqlite3", base_dir=tmp_path)

    # then
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "var" / "portico.sqlite3")
    assert (tmp_path / "var").is_dir()
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_an_absolute_sqlite_file_stays_where_it_is(tmp_path):
    config = database_from_url(f"sqlite:///{tmp_path}/db.sqlite3", base_dir=tmp_path / "x")

    assert config["NAME"] == str(tmp_path / "db.sqlite3")


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_a_postgres_url(tmp_path, scheme):
    # when
    config = database_from_url(
        f"{scheme}://portico:s%40cret@db.internal:6543/sales", base_dir=tmp_path
    )

    # then
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("portico", "s@cret")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 6543, "sales")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is not understood"),
        ("mysql://u@h/db", "is not understood"),
        ("postgres//u@h/db", "is not understood"),
        ("postgres://u@h:port/db", "is malformed"),
        ("postgres://u@h:5432/", "names no database"),
        ("sqlite://", "names no SQLite file"),
        ("sqlite:///:memory:", "names no SQLite file"),
    ],
)
def test_a_malformed_database_url_is_refused_naming_the_variable(tmp_path, url, problem):
    with pytest.raises(SettingsError) as raised:
        database_from_url(url, base_dir=tmp_path)

    message = str(raised.value)
    assert message.startswith("DATABASE_URL=")
    assert problem in message
    assert "\n" not in message


def test_the_database_password_stays_out_of_the_error(tmp_path):
    with pytest.raises(SettingsError) as raised:
        database_from_url("postgres://u:hunter2@h:port/db", base_dir=tmp_path)

    assert "hunter2" not in str(raised.value)
    assert "DATABASE_URL='postgres://u:***@h:port/db'" in str(raised.value)


# --- EMAIL_URL ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("outbox://", "portico.mail.backends.OutboxOnlyBackend"),
        ("console://", "django.core.mail.backends.console.EmailBackend"),
        ("memory://", "django.core.mail.backends.locmem.EmailBackend"),
    ],
)
def test_email_urls_without_a_server(url, backend):
    assert email_from_url(url) == {"EMAIL_BACKEND": backend}


def test_smtp_with_starttls():
    # when
    config = email_from_url("smtp://mailer:p%40ss@smtp.example.com:587?tls=true&timeout=5")

    # then
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 5,
    }


def test_smtps_defaults_to_port_465_and_smtp_to_25():
    assert email_from_url("smtps://smtp.example.com")["EMAIL_PORT"] == 465
    assert email_from_url("smtps://smtp.example.com")["EMAIL_USE_SSL"] is True
    assert email_from_url("smtp://smtp.example.com")["EMAIL_PORT"] == 25


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is not understood"),
        ("ftp://files.example.com", "is not understood"),
        ("smtp://", "names no SMTP host"),
        ("smtp://smtp.example.com:abc", "is malformed"),
        ("smtp://smtp.example.com:99999", "is malformed"),
        ("smtp://[::1", "is malformed"),
        ("smtps://smtp.example.com?tls=true", "asks for both smtps and ?tls=true"),
        ("smtp://smtp.example.com?timeout=soon", "timeout"),
        ("smtp://smtp.example.com?timeout=0", "timeout"),
        ("smtp://smtp.example.com?tls=maybe", "tls"),
    ],
)
def test_a_malformed_email_url_is_refused_naming_the_variable(url, problem):
    with pytest.raises(SettingsError) as raised:
        email_from_url(url)

    message = str(raised.value)
    assert message.startswith("EMAIL_URL=")
    assert problem in message


def test_the_smtp_password_stays_out_of_the_error():
    with pytest.raises(SettingsError) as raised:
        email_from_url("smtp://mailer:hunter2@smtp.example.com:abc")

    assert "hunter2" not in str(raised.value)


# --- plain values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("YES", True), ("1", True), ("off", False), ("0", False), ("", False)],
)
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("PORTICO_TEST_FLAG", raw)

    assert env_bool("PORTICO_TEST_FLAG") is expected


def test_env_bool_refuses_other_words(monkeypatch):
    monkeypatch.setenv("DEBUG", "sometimes")

    with pytest.raises(SettingsError, match="DEBUG='sometimes' is not a boolean"):
        env_bool("DEBUG")


def test_env_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example , b.example,, ")
    monkeypatch.delenv("PORTICO_UNSET", raising=False)

    assert env_list("ALLOWED_HOSTS", []) == ["a.example", "b.example"]
    assert env_list("PORTICO_UNSET", ["default"]) == ["default"]
