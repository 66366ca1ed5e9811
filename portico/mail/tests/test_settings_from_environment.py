"""EMAIL_URL (config/env.py) and how ``manage.py`` fails on a bad environment."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.env import EMAIL_BACKENDS, SettingsError, email_from_url, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("outbox://", {"EMAIL_BACKEND": "portico.mail.backends.OutboxOnlyBackend"}),
        (
            "smtp://mailer:s%40cret@mail.example.com:587?tls=true&timeout=7.5",
            {
                "EMAIL_HOST": "mail.example.com",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "mailer",
                "EMAIL_HOST_PASSWORD": "s@cret",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
                "EMAIL_TIMEOUT": 7.5,
            },
        ),
        (
            "smtp://127.0.0.1:1025",
            {
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": 1025,
                "EMAIL_HOST_USER": "",
                "EMAIL_USE_TLS": False,
                "EMAIL_TIMEOUT": 20,
            },
        ),
        ("smtps://mail.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("smtp://mail.example.com?tls=false", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
    ],
)
def test_email_url_gives_django_settings(url, expected):
    config = email_from_url(url)

    if url.startswith("smtp"):
        assert config["EMAIL_BACKEND"] == EMAIL_BACKENDS["smtp"]
    assert {key: config[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("gmail", "is not understood"),
        ("smtp://", "names no SMTP host"),
        ("smtp://mail.example.com:notaport", "is malformed"),
        ("smtp://mail.example.com:70000", "is malformed"),
        ("smtp://mail.example.com?timeout=soon", "timeout must be a positive number"),
        ("smtp://mail.example.com?timeout=0", "timeout must be a positive number"),
        ("smtp://mail.example.com?tls=maybe", "tls='maybe' is not a boolean"),
        ("smtp://mail.example.com?starttls=true", "unknown option starttls"),
        ("smtps://mail.example.com?tls=true", "both smtps and ?tls=true"),
    ],
)
def test_a_bad_email_url_is_refused_with_the_reason(url, reason):
    with pytest.raises(SettingsError, match=reason.replace("?", r"\?")):
        email_from_url(url)


def test_a_refused_url_does_not_show_its_password():
    with pytest.raises(SettingsError) as refused:
        email_from_url("smtp://mailer:hunter2@mail.example.com?tls=maybe")

    assert "hunter2" not in str(refused.value)
    assert "smtp://mailer:***@mail.example.com" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://app:pw@db:5432/portico", "postgres://app:***@db:5432/portico"),
        ("smtp://u:p/a@b@mail:25", "smtp://u:***@mail:25"),
        ("postgres://postgres@127.0.0.1/test", "postgres://postgres@127.0.0.1/test"),
        ("outbox://", "outbox://"),
    ],
)
def test_redact_url_hides_only_the_password(url, shown):
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://app:pw@db/portico"),
        ("DATABASE_URL", "postgres://app:hunter2@db:port/portico"),
        ("DATABASE_URL", "postgres://app:hunter2@db:5432"),
        ("EMAIL_URL", "smtp://mailer:hunter2@mail.example.com:port"),
        ("EMAIL_URL", "smtp://mailer:hunter2@mail.example.com?timeout=soon"),
        ("EMAIL_URL", "smtp://mail.example.com?tls=maybe"),
    ],
)
def test_manage_py_refuses_a_malformed_url_in_one_line(name, value):
    # Given a malformed URL in the environment
    environment = {**os.environ, name: value}
    environment.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own default

    # When manage.py starts
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then it exits with status 2 and one line saying why, without secrets
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Portico cannot start: {name}=")
    assert "hunter2" not in result.stderr
    assert result.stdout == ""
