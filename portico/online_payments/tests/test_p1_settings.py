"""Settings → Online payments: key formats, modes, encryption at rest, the test gateway."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from portico.accounts.tests.factories import OrganizationFactory
from portico.online_payments.models import OnlinePaymentSettings
from portico.online_payments.secrets import SecretDecryptError, secret_decrypt, secret_encrypt
from portico.online_payments.services import (
    OnlinePaymentError,
    online_payment_settings_get,
    online_payment_settings_update,
    providers_available,
    stripe_mode,
    stripe_secret_key,
    stripe_webhook_secret,
)

PUBLISHABLE = "pk_test_51AbCdEfGhIjKlMn"
SECRET = "sk_test_51AbCdEfGhIjKlMnOpQrStUv"
WEBHOOK = "whsec_AbCdEf0123456789abcdef"


def update(organization, **changes):
    values = {
        "stripe_enabled": False,
        "stripe_publishable_key": "",
        "stripe_secret_key": None,
        "stripe_webhook_secret": None,
        "test_gateway_enabled": False,
        "payment_instructions": "",
        "prevent_duplicate_payments": True,
        "minimum_partial_amount": Decimal("1"),
    }
    values.update(changes)
    return online_payment_settings_update(organization=organization, **values)


@pytest.fixture
def organization(db):
    return OrganizationFactory()


def test_defaults_are_unsaved_and_off(organization):
    row = online_payment_settings_get(organization=organization)

    assert row.pk is None
    assert not row.stripe_enabled and not row.test_gateway_enabled
    assert row.prevent_duplicate_payments is True
    assert providers_available(organization=organization) == []


def test_connecting_stripe_stores_the_secrets_encrypted(organization):
    update(
        organization,
        stripe_enabled=True,
        stripe_publishable_key=PUBLISHABLE,
        stripe_secret_key=SECRET,
        stripe_webhook_secret=WEBHOOK,
    )

    row = OnlinePaymentSettings.objects.get(organization=organization)
    assert row.stripe_secret_key_encrypted and SECRET not in row.stripe_secret_key_encrypted
    assert WEBHOOK not in row.stripe_webhook_secret_encrypted
    assert stripe_secret_key(row) == SECRET
    assert stripe_webhook_secret(row) == WEBHOOK
    assert stripe_mode(row) == "test"
    assert providers_available(organization=organization) == ["stripe"]
    # What the database itself holds, read without the ORM.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stripe_secret_key_encrypted, stripe_webhook_secret_encrypted "
            "FROM online_payments_onlinepaymentsettings WHERE id = %s",
            [row.pk],
        )
        stored = " ".join(cursor.fetchone())
    assert "sk_test" not in stored and "whsec_" not in stored


def test_blank_or_none_secrets_keep_the_stored_ones(organization):
    update(organization, stripe_publishable_key=PUBLISHABLE, stripe_secret_key=SECRET)
    update(
        organization,
        stripe_publishable_key=PUBLISHABLE,
        stripe_secret_key="",
        stripe_webhook_secret=WEBHOOK,
    )

    row = update(organization, stripe_enabled=True, stripe_publishable_key=PUBLISHABLE)

    assert stripe_secret_key(row) == SECRET
    assert stripe_webhook_secret(row) == WEBHOOK
    assert row.stripe_enabled


def test_live_keys_show_live_mode(organization):
    row = update(
        organization,
        stripe_publishable_key="pk_live_51Abc",
        stripe_secret_key="rk_live_51Abc",
        stripe_webhook_secret=WEBHOOK,
        stripe_enabled=True,
    )

    assert stripe_mode(row) == "live"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stripe_publishable_key": "sk_test_123"}, "stripe_publishable_key"),
        ({"stripe_publishable_key": "pk_demo_123"}, "stripe_publishable_key"),
        ({"stripe_secret_key": "pk_test_123"}, "stripe_secret_key"),
        ({"stripe_secret_key": "sk_test_12 3"}, "stripe_secret_key"),
        ({"stripe_webhook_secret": "wh_123"}, "stripe_webhook_secret"),
        (
            {"stripe_publishable_key": "pk_live_123", "stripe_secret_key": "sk_test_123"},
            "stripe_secret_key",
        ),
        ({"stripe_enabled": True, "stripe_publishable_key": PUBLISHABLE}, "stripe_secret_key"),
        (
            {
                "stripe_enabled": True,
                "stripe_publishable_key": PUBLISHABLE,
                "stripe_secret_key": SECRET,
            },
            "stripe_webhook_secret",
        ),
        ({"minimum_partial_amount": Decimal("-1")}, "minimum_partial_amount"),
        ({"minimum_partial_amount": "abc"}, "minimum_partial_amount"),
        ({"payment_instructions": "x" * 2001}, "payment_instructions"),
    ],
)
def test_bad_settings_are_refused_with_the_field(organization, changes, field):
    with pytest.raises(OnlinePaymentError) as refused:
        update(organization, **changes)

    assert refused.value.field == field
    assert not OnlinePaymentSettings.objects.filter(organization=organization).exists()


def test_a_publishable_key_of_the_other_mode_than_the_stored_secret_is_refused(organization):
    update(organization, stripe_publishable_key=PUBLISHABLE, stripe_secret_key=SECRET)

    with pytest.raises(OnlinePaymentError) as refused:
        update(organization, stripe_publishable_key="pk_live_123")

    assert refused.value.field == "stripe_publishable_key"


def test_the_test_gateway_turns_on_where_allowed(organization, settings):
    settings.PORTICO_TEST_GATEWAY_ALLOWED = True

    update(organization, test_gateway_enabled=True, payment_instructions="  IBAN DE00  ")

    assert providers_available(organization=organization) == ["test"]
    assert online_payment_settings_get(organization=organization).payment_instructions == (
        "IBAN DE00"
    )


def test_the_test_gateway_is_refused_where_not_allowed(organization, settings):
    settings.PORTICO_TEST_GATEWAY_ALLOWED = False

    with pytest.raises(OnlinePaymentError) as refused:
        update(organization, test_gateway_enabled=True)

    assert refused.value.field == "test_gateway_enabled"


def test_a_test_gateway_turned_on_earlier_is_not_offered_where_not_allowed(organization, settings):
    OnlinePaymentSettings.objects.create(organization=organization, test_gateway_enabled=True)
    settings.PORTICO_TEST_GATEWAY_ALLOWED = False

    assert providers_available(organization=organization) == []


def _production_setting(extra_env: dict) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "portico.example",
        "DEBUG": "false",
        **extra_env,
    }
    if "PORTICO_ALLOW_TEST_GATEWAY" not in extra_env:
        env.pop("PORTICO_ALLOW_TEST_GATEWAY", None)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.PORTICO_TEST_GATEWAY_ALLOWED)",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_production_settings_refuse_the_test_gateway_unless_allowed():
    assert _production_setting({}) == "False"
    assert _production_setting({"PORTICO_ALLOW_TEST_GATEWAY": "true"}) == "True"


def test_secrets_round_trip_and_differ_each_time(settings):
    first, second = secret_encrypt("sk_test_abc"), secret_encrypt("sk_test_abc")

    assert first != second
    assert secret_decrypt(first) == secret_decrypt(second) == "sk_test_abc"
    assert secret_encrypt("") == "" and secret_decrypt("") == ""


def test_secrets_survive_a_key_rotation_with_a_fallback(settings):
    token = secret_encrypt("whsec_abc")
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY = "a-new-key-" + "y" * 50
    with pytest.raises(SecretDecryptError):
        secret_decrypt(token)
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert secret_decrypt(token) == "whsec_abc"
