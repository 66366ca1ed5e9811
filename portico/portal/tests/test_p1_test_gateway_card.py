"""The test gateway's card page in the portal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.online_payments.models import Checkout, CheckoutStatus
from portico.online_payments.services import checkout_prepare
from portico.online_payments.tests.p1_support import enable_test_gateway, invoice_of
from portico.payments.models import Payment
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.models import InvoiceStatus

NEXT_YEAR = timezone.now().year + 1


@pytest.fixture
def checkout(portal_access):
    enable_test_gateway(portal_access.organization)
    older = invoice_of(portal_access, "100.00", days_ago=4)
    newer = invoice_of(portal_access, "60.00", days_ago=1)
    return checkout_prepare(
        access=portal_access,
        provider="test",
        selections=[(older.pk, Decimal("40.00")), (newer.pk, None)],
    )


@pytest.fixture
def card_url(portal_reverse, portal_access, checkout):
    return portal_reverse(portal_access.organization, "portal:test_gateway_card", pk=checkout.pk)


def card_data(number="4242 4242 4242 4242", expiry=f"12 / {NEXT_YEAR % 100}", cvc="123"):
    return {"card_number": number, "expiry": expiry, "cvc": cvc}


def test_the_page_shows_test_mode_the_amount_invoices_and_test_numbers(
    portal_client, card_url, checkout
):
    response = portal_client.get(card_url)

    assert response.status_code == 200
    page = response.content.decode()
    assert "TEST MODE — no real money moves." in page
    assert "$100.00" in page  # the total: 40 + 60
    for line in checkout.lines.select_related("invoice"):
        assert line.invoice.number in page
    for number in ("4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 9995"):
        assert number in page
    assert 'autocomplete="off"' in page


def test_a_test_card_pays_and_goes_to_the_status_page(
    portal_client, card_url, checkout, portal_reverse, portal_access
):
    response = portal_client.post(card_url, card_data())

    assert response.status_code == 302
    assert response.url == portal_reverse(
        portal_access.organization, "portal:checkout_status", pk=checkout.pk
    )
    payment = Payment.objects.get()
    assert payment.amount == Decimal("100.00")
    statuses = {line.invoice.number: line.invoice.status for line in checkout.lines.all()}
    assert sorted(statuses.values()) == [InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID]


def test_a_declined_card_shows_the_message_and_records_nothing(portal_client, card_url, checkout):
    response = portal_client.post(card_url, card_data("4000 0000 0000 0002"))

    assert response.status_code == 422
    assert "Your card was declined." in response.content.decode()
    assert not Payment.objects.exists()
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PENDING

    retry = portal_client.post(card_url, card_data())
    assert retry.status_code == 302 and Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (card_data("1234 5678 9012 3456"), "Use one of the test card numbers shown."),
        (card_data(expiry="13/30"), "Enter the expiry date as MM / YY."),
        (card_data(expiry="soon"), "Enter the expiry date as MM / YY."),
        (card_data(expiry="01/20"), "This card has expired."),
        (card_data(cvc="1"), "Enter the 3 or 4 digit security code."),
        (card_data(number=""), "This field is required."),
    ],
)
def test_card_mistakes_show_next_to_the_field(portal_client, card_url, data, message):
    response = portal_client.post(card_url, data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_a_paid_checkout_says_so(portal_client, card_url):
    portal_client.post(card_url, card_data())

    response = portal_client.get(card_url)

    assert response.status_code == 200
    assert "This payment is complete." in response.content.decode()
    assert "data-test-card-form" not in response.content.decode()
    # A second submit (another tab) pays nothing more.
    assert portal_client.post(card_url, card_data()).status_code == 302
    assert Payment.objects.count() == 1


def test_an_expired_checkout_says_so(portal_client, card_url, checkout):
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = portal_client.get(card_url)
    posted = portal_client.post(card_url, card_data())

    assert "This payment expired before it was completed." in response.content.decode()
    assert posted.status_code == 200 and "data-test-card-form" not in posted.content.decode()
    assert not Payment.objects.exists()


def test_a_stripe_checkout_is_not_found_here(portal_client, card_url, checkout):
    Checkout.objects.filter(pk=checkout.pk).update(provider="stripe")

    assert portal_client.get(card_url).status_code == 404


def test_a_colleagues_checkout_is_not_found(client, card_url, portal_access):
    colleague = PortalAccessFactory(
        active=True,
        contact__customer=portal_access.customer,
        organization=portal_access.organization,
    )
    client.force_login(colleague.user)

    assert client.get(card_url).status_code == 404
    assert client.post(card_url, card_data()).status_code == 404
    assert not Payment.objects.exists()


def test_the_page_is_part_of_the_invoices_module(portal_client, card_url, portal_access):
    portal_access.modules = [PortalModule.QUOTES]
    portal_access.save()

    assert portal_client.get(card_url).status_code == 404
    assert portal_client.post(card_url, card_data()).status_code == 404
    assert not Payment.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, card_url):
    response = client.get(card_url)

    assert response.status_code == 302 and "/sign-in/" in response.url
