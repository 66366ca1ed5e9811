"""The built-in test gateway: documented test numbers, declines leave the checkout open."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.online_payments.models import Checkout, CheckoutStatus
from portico.online_payments.services import (
    OnlinePaymentError,
    checkout_prepare,
    test_gateway_charge,
)
from portico.online_payments.tests.p1_support import enable_test_gateway, invoice_of, make_access
from portico.payments.models import Payment
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.models import InvoiceStatus

NEXT_YEAR = timezone.now().year + 1


@pytest.fixture
def access(db):
    access = make_access()
    enable_test_gateway(access.organization)
    return access


@pytest.fixture
def checkout(access):
    invoice = invoice_of(access, "100.00")
    return checkout_prepare(access=access, provider="test", selections=[(invoice.pk, None)])


def charge(access, checkout, number, **changes):
    values = {
        "access": access,
        "checkout_id": checkout.pk,
        "card_number": number,
        "expiry_month": 12,
        "expiry_year": NEXT_YEAR,
        "cvc": "123",
    }
    values.update(changes)
    return test_gateway_charge(**values)


def test_4242_pays(access, checkout):
    payment = charge(access, checkout, "4242 4242 4242 4242")

    assert payment.provider == "test" and payment.provider_reference.startswith("test_")
    assert len(payment.provider_reference) == len("test_") + 24
    assert payment.amount == Decimal("100.00")
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.SUCCEEDED
    assert checkout.lines.get().invoice.status == InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000-0000-0000-9995", "Your card has insufficient funds."),
        ("5555 5555 5555 4444", "Use one of the test card numbers shown."),
    ],
)
def test_other_numbers_are_declined_and_the_checkout_stays_open(access, checkout, number, message):
    with pytest.raises(OnlinePaymentError) as declined:
        charge(access, checkout, number)

    assert declined.value.message == message
    assert not Payment.objects.exists()
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PENDING
    # Another number may be tried.
    assert charge(access, checkout, "4242424242424242").amount == Decimal("100.00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"card_number": "4242"}, "card_number"),
        ({"card_number": "abcd efgh ijkl mnop"}, "card_number"),
        ({"expiry_month": 13}, "expiry"),
        ({"expiry_year": 2001}, "expiry"),
        ({"expiry_month": "x"}, "expiry"),
        ({"cvc": "12"}, "cvc"),
        ({"cvc": "12a"}, "cvc"),
    ],
)
def test_malformed_card_details_are_refused(access, checkout, changes, field):
    values = {"card_number": "4242424242424242", **changes}
    number = values.pop("card_number")

    with pytest.raises(OnlinePaymentError) as refused:
        charge(access, checkout, number, **values)

    assert refused.value.field == field
    assert not Payment.objects.exists()


def test_a_two_digit_year_is_this_century(access, checkout):
    assert charge(access, checkout, "4242424242424242", expiry_year=NEXT_YEAR % 100)


def test_paying_twice_returns_the_same_payment(access, checkout):
    first = charge(access, checkout, "4242424242424242")

    assert charge(access, checkout, "4242424242424242") == first
    assert Payment.objects.count() == 1


def test_an_expired_checkout_cannot_be_charged(access, checkout):
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OnlinePaymentError) as refused:
        charge(access, checkout, "4242424242424242")

    assert "expired" in refused.value.message
    assert not Payment.objects.exists()


def test_another_contacts_checkout_is_not_known(access, checkout):
    colleague = PortalAccessFactory(
        active=True, contact__customer=access.customer, organization=access.organization
    )

    with pytest.raises(OnlinePaymentError):
        charge(colleague, checkout, "4242424242424242")

    assert not Payment.objects.exists()


def test_a_gateway_turned_off_meanwhile_refuses(access, checkout, settings):
    settings.PORTICO_TEST_GATEWAY_ALLOWED = False

    with pytest.raises(OnlinePaymentError):
        charge(access, checkout, "4242424242424242")

    assert not Payment.objects.exists()
