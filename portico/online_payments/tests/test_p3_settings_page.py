"""Settings → Online payments: the staff page (keys never shown back, mode badge,
webhook URL, test gateway switch, owners and admins only)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.online_payments.models import OnlinePaymentSettings
from portico.online_payments.services import online_payment_settings_get, stripe_secret_key

URL = "/app/settings/online-payments/"
PUBLISHABLE = "pk_test_51AbCdEfGhIjKlMn"
SECRET = "sk_test_51AbCdEfGhIjKlMnOpQrStUv"
WEBHOOK = "whsec_AbCdEf0123456789abcdef"


def form_data(**changes) -> dict:
    data = {
        "stripe_enabled": "on",
        "stripe_publishable_key": PUBLISHABLE,
        "stripe_secret_key": SECRET,
        "stripe_webhook_secret": WEBHOOK,
        "payment_instructions": "IBAN DE00 1234",
        "prevent_duplicate_payments": "on",
        "minimum_partial_amount": "5",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_page_is_in_the_settings_menu_and_shows_the_webhook_url(staff_client, organization):
    response = staff_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/app/settings/online-payments/"' in html  # sidebar link
    webhook = reverse("stripe_webhook", kwargs={"organization_id": organization.pk})
    assert webhook in html
    assert "Not connected" in html


def test_saving_keys_shows_test_mode_and_never_the_secrets(staff_client, organization):
    response = staff_client.post(URL, form_data())

    assert response.status_code == 302
    row = online_payment_settings_get(organization=organization)
    assert row.stripe_enabled and stripe_secret_key(row) == SECRET
    assert row.minimum_partial_amount == Decimal("5")
    html = staff_client.get(URL).content.decode()
    assert "Stripe: test mode" in html
    assert SECRET not in html and WEBHOOK not in html
    assert "sk_test_…StUv" in html and "whsec_…cdef" in html


def test_a_blank_secret_keeps_the_saved_one(staff_client, organization):
    staff_client.post(URL, form_data())

    response = staff_client.post(
        URL, form_data(stripe_secret_key="", stripe_webhook_secret="", payment_instructions="X")
    )

    assert response.status_code == 302
    row = online_payment_settings_get(organization=organization)
    assert stripe_secret_key(row) == SECRET
    assert row.payment_instructions == "X"


def test_a_bad_key_is_shown_on_the_form_and_nothing_is_saved(staff_client, organization):
    response = staff_client.post(URL, form_data(stripe_secret_key="sk_live_51Other"))

    assert response.status_code == 422
    assert "same mode" in response.content.decode() or "mode" in response.content.decode()
    assert not OnlinePaymentSettings.objects.filter(organization=organization).exists()


def test_live_keys_show_the_live_badge(staff_client, organization):
    staff_client.post(
        URL,
        form_data(stripe_publishable_key="pk_live_51AbC", stripe_secret_key="sk_live_51AbCdEfGhIj"),
    )

    assert "Stripe: live mode" in staff_client.get(URL).content.decode()


@pytest.mark.parametrize("role", [Role.STAFF])
def test_staff_members_see_the_page_but_cannot_change_it(client, organization, role):
    member = MembershipFactory(organization=organization, role=role)
    client.force_login(member.user)

    page = client.get(URL)
    response = client.post(URL, form_data())

    assert page.status_code == 200
    assert "Only an owner or an admin" in page.content.decode()
    assert response.status_code == 403
    assert not OnlinePaymentSettings.objects.filter(organization=organization).exists()


def test_the_test_gateway_switch_is_disabled_where_not_allowed(
    staff_client, organization, settings
):
    settings.PORTICO_TEST_GATEWAY_ALLOWED = False

    page = staff_client.get(URL)
    response = staff_client.post(URL, form_data(test_gateway_enabled="on"))

    html = page.content.decode()
    assert "PORTICO_ALLOW_TEST_GATEWAY" in html
    assert 'name="test_gateway_enabled"' in html and "disabled" in html
    assert response.status_code == 422
    assert not online_payment_settings_get(organization=organization).test_gateway_enabled


def test_the_test_gateway_can_be_turned_on_where_allowed(staff_client, organization, settings):
    settings.PORTICO_TEST_GATEWAY_ALLOWED = True

    staff_client.post(
        URL,
        form_data(
            stripe_enabled=None,
            stripe_publishable_key="",
            stripe_secret_key="",
            stripe_webhook_secret="",
            test_gateway_enabled="on",
        ),
    )

    assert online_payment_settings_get(organization=organization).test_gateway_enabled
    assert "Test gateway on" in staff_client.get(URL).content.decode()
