"""Stripe Checkout Sessions: what Portico sends to Stripe (a local fake of its
API), what it keeps, and what happens when Stripe fails."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.online_payments.models import Checkout, CheckoutStatus
from portico.online_payments.services import OnlinePaymentError, payable_invoices
from portico.online_payments.stripe_gateway import (
    stripe_checkout_start,
    stripe_checkout_sync,
    stripe_idempotency_key,
)
from portico.online_payments.tests.p2_support import (
    SECRET_KEY,
    make_stripe_access,
    open_invoice,
    stripe_checkout,
    stripe_connect,
)
from portico.payments.models import Payment
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.models import InvoiceStatus

SUCCESS = "https://portal.example/pay/1/"
CANCEL = "https://portal.example/pay/1/cancel/"


@pytest.fixture
def stripe_access(db):
    return make_stripe_access()


def start(checkout) -> str:
    return stripe_checkout_start(checkout=checkout, success_url=SUCCESS, cancel_url=CANCEL)


def test_the_session_names_each_invoice_in_minor_units_with_metadata(fake_stripe, stripe_access):
    # given: two invoices, the older one paid in part
    older = open_invoice(stripe_access.customer, "250.00", day=1)
    newer = open_invoice(stripe_access.customer, "99.99", day=5)
    checkout = stripe_checkout(stripe_access, (newer, None), (older, "100.50"))

    # when
    url = start(checkout)

    # then: one request, to the Checkout Sessions endpoint, with the checkout's key
    [request] = fake_stripe.session_creations()
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert request.idempotency_key == stripe_idempotency_key(checkout)
    assert request.idempotency_key.startswith(f"portico-checkout-{checkout.pk}-")
    form = request.form
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == str(checkout.pk)
    assert form["metadata[checkout_id]"] == str(checkout.pk)
    assert form["metadata[organization_id]"] == str(stripe_access.organization_id)
    assert form["payment_intent_data[metadata][checkout_id]"] == str(checkout.pk)
    assert form["customer_email"] == stripe_access.contact.email
    assert form["success_url"] == SUCCESS
    assert form["cancel_url"] == CANCEL
    # oldest invoice first; integers of cents, never floats
    assert form["line_items[0][price_data][product_data][name]"] == (
        f"Invoice {older.number} (part payment)"
    )
    assert form["line_items[0][price_data][unit_amount]"] == "10050"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[1][price_data][product_data][name]"] == f"Invoice {newer.number}"
    assert form["line_items[1][price_data][unit_amount]"] == "9999"
    assert "line_items[2][quantity]" not in form
    # the session is kept, and the contact is sent to it
    checkout.refresh_from_db()
    session = fake_stripe.sessions[checkout.provider_session_id]
    assert url == session["url"]
    assert session["amount_total"] == checkout.amount_minor == 20049


def test_yen_cross_as_whole_units(fake_stripe, stripe_access):
    customer = stripe_access.customer
    customer.currency = "JPY"
    customer.save(update_fields=["currency"])
    invoice = open_invoice(customer, "5000", currency="JPY")
    checkout = stripe_checkout(stripe_access, (invoice, "1250"))

    start(checkout)

    [request] = fake_stripe.session_creations()
    assert request.form["line_items[0][price_data][currency]"] == "jpy"
    assert request.form["line_items[0][price_data][unit_amount]"] == "1250"
    assert checkout.amount_minor == 1250


def test_the_session_expires_with_the_lock_at_least_thirty_minutes_ahead(
    fake_stripe, stripe_access
):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None))
    before = timezone.now()

    start(checkout)

    [request] = fake_stripe.session_creations()
    expires_at = int(request.form["expires_at"])
    assert expires_at >= (before + timedelta(minutes=30)).timestamp()
    assert expires_at <= (before + timedelta(minutes=32)).timestamp()
    checkout.refresh_from_db()
    assert int(checkout.expires_at.timestamp()) == expires_at


def test_a_contact_without_email_sends_none(fake_stripe, stripe_access):
    contact = ContactPersonFactory(customer=stripe_access.customer, email="")
    access = PortalAccessFactory(contact=contact, active=True, user__email="no-mail@example.com")
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(access, (invoice, None))

    start(checkout)

    assert "customer_email" not in fake_stripe.session_creations()[0].form


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(500, "api_error"), (400, "invalid_request_error"), (401, "invalid_request_error")],
)
def test_stripe_refusing_fails_the_checkout_and_releases_the_lock(
    fake_stripe, stripe_access, status, error_type, caplog
):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None))
    assert payable_invoices(access=stripe_access) == []  # locked while pending
    fake_stripe.fail_next(status, error_type=error_type)

    with pytest.raises(OnlinePaymentError, match="Nothing was charged"):
        start(checkout)

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.FAILED
    assert checkout.provider_session_id == ""
    assert payable_invoices(access=stripe_access) == [invoice]
    assert "Stripe refused or could not create" in caplog.text
    # and a new Pay now for the invoice is accepted
    assert stripe_checkout(stripe_access, (invoice, None)).status == CheckoutStatus.PENDING


def test_stripe_unreachable_fails_the_checkout(stripe_access, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None))

    with pytest.raises(OnlinePaymentError, match="try again"):
        start(checkout)

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.FAILED


def test_a_retried_request_reuses_the_idempotency_key(fake_stripe, stripe_access, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None))
    fake_stripe.fail_next(500)

    start(checkout)

    first, second = fake_stripe.session_creations()
    assert first.idempotency_key == second.idempotency_key == stripe_idempotency_key(checkout)
    assert first.form == second.form
    assert len(fake_stripe.sessions) == 1


def test_starting_twice_gives_the_same_session(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None))

    first = start(checkout)
    again = start(Checkout.objects.get(pk=checkout.pk))

    assert first == again
    assert len(fake_stripe.sessions) == 1


def test_a_checkout_not_pending_or_stripe_not_enabled_is_not_started(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None))
    row = stripe_connect(stripe_access.organization)
    row.stripe_enabled = False
    row.save()

    with pytest.raises(OnlinePaymentError):
        start(checkout)

    assert fake_stripe.requests == []
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.FAILED
    with pytest.raises(OnlinePaymentError):
        start(checkout)


# --- the return page asking Stripe ----------------------------------------------------


def _started(fake_stripe, access, *selections):
    checkout = stripe_checkout(access, *selections)
    start(checkout)
    checkout.refresh_from_db()
    return checkout


def test_sync_of_a_paid_session_records_the_payment(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer, "80.00")
    checkout = _started(fake_stripe, stripe_access, (invoice, "30.00"))
    session = fake_stripe.session_pay(checkout.provider_session_id)

    synced = stripe_checkout_sync(checkout=checkout)

    assert synced.status == CheckoutStatus.SUCCEEDED
    payment = synced.payment
    assert payment.amount == Decimal("30.00")
    assert payment.provider == "stripe"
    assert payment.provider_reference == session["payment_intent"]
    assert synced.provider_payment_id == session["payment_intent"]
    invoice.refresh_from_db()
    assert invoice.balance_due == Decimal("50.00")
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    # asking again changes nothing
    assert stripe_checkout_sync(checkout=synced).payment == payment
    assert Payment.objects.count() == 1
    gets = fake_stripe.requests_to("GET", f"/v1/checkout/sessions/{checkout.provider_session_id}")
    assert len(gets) == 1  # a final checkout is not asked about again


def test_sync_of_an_open_session_waits(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    checkout = _started(fake_stripe, stripe_access, (invoice, None))

    assert stripe_checkout_sync(checkout=checkout).status == CheckoutStatus.PENDING
    assert Payment.objects.count() == 0


def test_sync_of_an_expired_session_fails_the_checkout(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    checkout = _started(fake_stripe, stripe_access, (invoice, None))
    fake_stripe.session_expire(checkout.provider_session_id)

    synced = stripe_checkout_sync(checkout=checkout)

    assert synced.status == CheckoutStatus.FAILED
    assert payable_invoices(access=stripe_access) == [invoice]


def test_sync_when_stripe_fails_leaves_the_checkout_pending(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    checkout = _started(fake_stripe, stripe_access, (invoice, None))
    fake_stripe.session_pay(checkout.provider_session_id)
    fake_stripe.fail_next(503)

    assert stripe_checkout_sync(checkout=checkout).status == CheckoutStatus.PENDING
    assert stripe_checkout_sync(checkout=checkout).status == CheckoutStatus.SUCCEEDED


def test_sync_refuses_a_session_that_names_another_checkout(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    other_invoice = open_invoice(stripe_access.customer, day=2)
    checkout = _started(fake_stripe, stripe_access, (invoice, None))
    other = _started(fake_stripe, stripe_access, (other_invoice, None))
    # the checkout's session (tampered) names the other checkout, and is paid
    session = fake_stripe.sessions[checkout.provider_session_id]
    session["metadata"]["checkout_id"] = session["client_reference_id"] = str(other.pk)
    fake_stripe.session_pay(checkout.provider_session_id)

    assert stripe_checkout_sync(checkout=checkout).status == CheckoutStatus.PENDING
    assert Payment.objects.count() == 0


def test_the_fake_records_bodies_as_stripe_receives_them(fake_stripe, stripe_access):
    """The fake decodes Stripe's form encoding: nested keys, no JSON."""
    invoice = open_invoice(stripe_access.customer)
    start(stripe_checkout(stripe_access, (invoice, None)))

    [request] = fake_stripe.session_creations()
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    with pytest.raises(json.JSONDecodeError):
        json.loads(request.form.get("line_items", "") or "x")


def test_another_organisations_keys_are_its_own(fake_stripe, stripe_access):
    other = PortalAccessFactory(active=True, contact__customer=CustomerFactory())
    row = stripe_connect(other.organization)
    from portico.online_payments.secrets import secret_encrypt

    row.stripe_secret_key_encrypted = secret_encrypt("sk_test_otherorganisation")
    row.save()
    start(stripe_checkout(stripe_access, (open_invoice(stripe_access.customer), None)))
    start(stripe_checkout(other, (open_invoice(other.customer), None)))

    first, second = fake_stripe.session_creations()
    assert first.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert second.headers["authorization"] == "Bearer sk_test_otherorganisation"
