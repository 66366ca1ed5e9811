"""Stripe's webhook: real HMAC signatures (Stripe's scheme) and one payment per
event, however often it is delivered."""

import json
import time
from decimal import Decimal

import pytest
from django.test import Client

from portico.accounts.tests.factories import OrganizationFactory
from portico.online_payments.models import Checkout, CheckoutStatus, WebhookEvent
from portico.online_payments.services import payable_invoices
from portico.online_payments.stripe_gateway import stripe_checkout_start
from portico.online_payments.testing.fake_stripe import stripe_event_payload
from portico.online_payments.tests.p2_support import (
    WEBHOOK_SECRET,
    make_stripe_access,
    open_invoice,
    stripe_checkout,
    stripe_connect,
    stripe_signature_header,
    webhook_post,
    webhook_url,
)
from portico.payments.models import Payment
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.models import InvoiceStatus


@pytest.fixture
def stripe_access(db):
    return make_stripe_access()


@pytest.fixture
def stripe_client():
    """Stripe has no CSRF token: the webhook must not ask for one."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def started(fake_stripe, stripe_access):
    """A checkout of 60.00 on a 100.00 invoice, its session created at (the fake) Stripe."""
    invoice = open_invoice(stripe_access.customer, "100.00")
    checkout = stripe_checkout(stripe_access, (invoice, "60.00"))
    stripe_checkout_start(checkout=checkout, success_url="https://x/ok", cancel_url="https://x/no")
    checkout.refresh_from_db()
    checkout.invoice = invoice
    return checkout


def _paid_event(fake_stripe, checkout, **kwargs) -> bytes:
    session = fake_stripe.session_pay(checkout.provider_session_id)
    return fake_stripe.event("checkout.session.completed", session, **kwargs)


def test_a_signed_completed_event_records_the_payment(stripe_client, fake_stripe, started):
    payload = _paid_event(fake_stripe, started, event_id="evt_paid_1")

    response = webhook_post(stripe_client, started.organization, payload)

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.status == CheckoutStatus.SUCCEEDED
    payment = started.payment
    assert payment.amount == Decimal("60.00")
    assert (
        payment.provider_reference
        == fake_stripe.sessions[started.provider_session_id]["payment_intent"]
    )
    started.invoice.refresh_from_db()
    assert started.invoice.balance_due == Decimal("40.00")
    assert started.invoice.status == InvoiceStatus.PARTIALLY_PAID
    event = WebhookEvent.objects.get(event_id="evt_paid_1")
    assert event.event_type == "checkout.session.completed"
    assert event.organization == started.organization
    assert event.processed_at is not None
    assert event.outcome == f"paid: payment {payment.pk}"


def test_the_same_event_delivered_100_times_makes_one_payment(stripe_client, fake_stripe, started):
    payload = _paid_event(fake_stripe, started, event_id="evt_repeated")

    statuses = {
        webhook_post(stripe_client, started.organization, payload).status_code for _ in range(100)
    }

    assert statuses == {200}
    assert Payment.objects.count() == 1
    assert WebhookEvent.objects.filter(event_id="evt_repeated").count() == 1
    started.invoice.refresh_from_db()
    assert started.invoice.balance_due == Decimal("40.00")


def test_completed_then_async_succeeded_make_one_payment(stripe_client, fake_stripe, started):
    completed = _paid_event(fake_stripe, started)
    succeeded = fake_stripe.event(
        "checkout.session.async_payment_succeeded", started.provider_session_id
    )

    webhook_post(stripe_client, started.organization, completed)
    webhook_post(stripe_client, started.organization, succeeded)

    assert Payment.objects.count() == 1
    assert WebhookEvent.objects.count() == 2


def test_a_completed_but_unpaid_session_waits_for_the_async_event(
    stripe_client, fake_stripe, started
):
    session = fake_stripe.session_pay(started.provider_session_id, payment_status="unpaid")
    completed = fake_stripe.event("checkout.session.completed", session)

    response = webhook_post(stripe_client, started.organization, completed)

    assert response.content == b"waiting: not paid yet"
    assert Payment.objects.count() == 0
    session["payment_status"] = "paid"
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded", session)
    webhook_post(stripe_client, started.organization, succeeded)
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    "event_type", ["checkout.session.expired", "checkout.session.async_payment_failed"]
)
def test_an_expired_or_failed_session_releases_the_lock(
    stripe_client, fake_stripe, started, stripe_access, event_type
):
    assert payable_invoices(access=stripe_access) == []
    payload = fake_stripe.event(event_type, started.provider_session_id)

    response = webhook_post(stripe_client, started.organization, payload)

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.status == CheckoutStatus.FAILED
    assert payable_invoices(access=stripe_access) == [started.invoice]
    assert Payment.objects.count() == 0


def test_money_taken_after_the_checkout_failed_is_still_recorded(
    stripe_client, fake_stripe, started
):
    webhook_post(
        stripe_client,
        started.organization,
        fake_stripe.event("checkout.session.expired", started.provider_session_id),
    )

    webhook_post(stripe_client, started.organization, _paid_event(fake_stripe, started))

    started.refresh_from_db()
    assert started.status == CheckoutStatus.SUCCEEDED
    assert Payment.objects.count() == 1


# --- signatures -----------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_nothing_recorded(
    stripe_client, fake_stripe, started, caplog
):
    payload = _paid_event(fake_stripe, started)

    response = webhook_post(stripe_client, started.organization, payload, secret="whsec_wrong")

    assert response.status_code == 400
    assert Payment.objects.count() == 0
    assert WebhookEvent.objects.count() == 0
    assert "Stripe webhook for organization" in caplog.text


def test_a_tampered_body_is_refused(stripe_client, fake_stripe, started):
    payload = _paid_event(fake_stripe, started)
    header = stripe_signature_header(payload, WEBHOOK_SECRET)
    tampered = payload.replace(b'"amount_total": 6000', b'"amount_total": 1')

    response = stripe_client.post(
        webhook_url(started.organization),
        data=tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )

    assert tampered != payload
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_a_missing_signature_is_refused(stripe_client, fake_stripe, started):
    payload = _paid_event(fake_stripe, started)

    response = stripe_client.post(
        webhook_url(started.organization), data=payload, content_type="application/json"
    )

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("age", [301, 3600])
def test_a_stale_signature_is_refused(stripe_client, fake_stripe, started, age):
    """A replay of a genuine delivery, signed more than 5 minutes ago."""
    payload = _paid_event(fake_stripe, started)

    response = webhook_post(
        stripe_client, started.organization, payload, timestamp=int(time.time()) - age
    )

    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_a_recent_signature_is_accepted(stripe_client, fake_stripe, started):
    payload = _paid_event(fake_stripe, started)

    response = webhook_post(
        stripe_client, started.organization, payload, timestamp=int(time.time()) - 250
    )

    assert response.status_code == 200
    assert Payment.objects.count() == 1


def test_a_signature_with_another_organisations_secret_is_refused(
    stripe_client, fake_stripe, started
):
    other = PortalAccessFactory(active=True)
    row = stripe_connect(other.organization)
    from portico.online_payments.secrets import secret_encrypt

    row.stripe_webhook_secret_encrypted = secret_encrypt("whsec_otherorganisation")
    row.save()
    payload = _paid_event(fake_stripe, started)

    # signed for the other organisation, sent to this one's URL
    response = webhook_post(
        stripe_client, started.organization, payload, secret="whsec_otherorganisation"
    )

    assert response.status_code == 400


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_correctly_signed_non_event_is_refused(stripe_client, started, body):
    response = stripe_client.post(
        webhook_url(started.organization),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature_header(body.decode("latin-1"), WEBHOOK_SECRET),
    )

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_an_organisation_without_stripe_refuses_webhooks(stripe_client, db):
    organization = OrganizationFactory()
    payload = stripe_event_payload("checkout.session.completed", {"id": "cs_x"})

    response = webhook_post(stripe_client, organization, payload)

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_an_unknown_organisation_is_refused(stripe_client, db):
    response = stripe_client.post(
        "/webhooks/stripe/999999/", data=b"{}", content_type="application/json"
    )

    assert response.status_code == 400


def test_only_post(stripe_client, started):
    assert stripe_client.get(webhook_url(started.organization)).status_code == 405


# --- events Portico does not act on --------------------------------------------------


def test_an_unknown_event_type_is_acknowledged_and_ignored(
    stripe_client, fake_stripe, started, caplog
):
    caplog.set_level("INFO")
    payload = stripe_event_payload(
        "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_unknown"
    )

    response = webhook_post(stripe_client, started.organization, payload)

    assert response.status_code == 200
    assert response.content == b"ignored"
    assert WebhookEvent.objects.get(event_id="evt_unknown").outcome == "ignored"
    assert "evt_unknown of type customer.created ignored" in caplog.text


def test_a_session_of_no_checkout_of_this_organisation_is_ignored(
    stripe_client, fake_stripe, started, caplog
):
    # another organisation's checkout id, and a checkout id that does not exist
    other_access = PortalAccessFactory(active=True)
    stripe_connect(other_access.organization)
    other = stripe_checkout(other_access, (open_invoice(other_access.customer), None))
    session = fake_stripe.session_pay(started.provider_session_id)
    for checkout_id, organization_id in [
        (other.pk, started.organization_id),
        (other.pk, other.organization_id),
        (999999, started.organization_id),
        ("DROP TABLE", started.organization_id),
    ]:
        forged = dict(
            session,
            metadata={"checkout_id": str(checkout_id), "organization_id": str(organization_id)},
            client_reference_id=str(checkout_id),
        )
        payload = stripe_event_payload("checkout.session.completed", forged)

        response = webhook_post(stripe_client, started.organization, payload)

        assert response.status_code == 200
        assert response.content.startswith(b"ignored")
    assert Payment.objects.count() == 0
    assert Checkout.objects.get(pk=other.pk).status == CheckoutStatus.PENDING
    assert "matches no checkout" in caplog.text


def test_a_session_id_other_than_the_checkouts_is_ignored(stripe_client, fake_stripe, started):
    session = dict(fake_stripe.session_pay(started.provider_session_id), id="cs_test_forged")

    response = webhook_post(
        stripe_client,
        started.organization,
        stripe_event_payload("checkout.session.completed", session),
    )

    assert response.content.startswith(b"ignored")
    assert Payment.objects.count() == 0


def test_a_paid_amount_other_than_the_checkouts_is_refused(stripe_client, fake_stripe, started):
    session = dict(fake_stripe.session_pay(started.provider_session_id), amount_total=100)

    response = webhook_post(
        stripe_client,
        started.organization,
        stripe_event_payload("checkout.session.completed", session, event_id="evt_amount"),
    )

    assert response.status_code == 200
    assert response.content.startswith(b"refused")
    assert Payment.objects.count() == 0
    started.refresh_from_db()
    assert started.status == CheckoutStatus.PENDING
    assert WebhookEvent.objects.get(event_id="evt_amount").outcome.startswith("refused")


def test_an_event_about_something_else_than_a_session_is_ignored(stripe_client, started):
    payload = json.dumps(
        {
            "id": "evt_odd",
            "type": "checkout.session.completed",
            "data": {"object": {"object": "payment_intent", "id": "pi_1"}},
        }
    ).encode()

    response = webhook_post(stripe_client, started.organization, payload)

    assert response.status_code == 200
    assert response.content.startswith(b"ignored")
