"""The return page after Pay now (polling until the payment is final) and the
cancel link, for Stripe (against the fake) and the test gateway."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portico.online_payments.models import Checkout, CheckoutStatus, Provider
from portico.online_payments.services import payable_invoices
from portico.online_payments.stripe_gateway import stripe_checkout_start
from portico.online_payments.tests.p2_support import (
    make_stripe_access,
    open_invoice,
    stripe_checkout,
    webhook_post,
)
from portico.payments.models import Payment
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalAccessFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the return page's "asked Stripe recently" marks
    yield
    cache.clear()


@pytest.fixture
def stripe_access(db):
    return make_stripe_access()


@pytest.fixture
def contact_client(stripe_access) -> Client:
    client = Client()
    client.force_login(stripe_access.user)
    return client


@pytest.fixture
def started(fake_stripe, stripe_access):
    invoice = open_invoice(stripe_access.customer, "100.00")
    checkout = stripe_checkout(stripe_access, (invoice, "40.00"))
    stripe_checkout_start(checkout=checkout, success_url="https://x/ok", cancel_url="https://x/no")
    checkout.refresh_from_db()
    checkout.invoice = invoice
    return checkout


def status_url(checkout) -> str:
    return reverse(
        "portal:checkout_status",
        kwargs={"portal_name": checkout.organization.portal_name, "pk": checkout.pk},
    )


def cancel_url(checkout) -> str:
    return reverse(
        "portal:checkout_cancel",
        kwargs={"portal_name": checkout.organization.portal_name, "pk": checkout.pk},
    )


def _session_reads(fake_stripe, checkout) -> int:
    return len(
        fake_stripe.requests_to("GET", f"/v1/checkout/sessions/{checkout.provider_session_id}")
    )


def test_back_from_stripe_before_the_webhook_shows_processing_and_polls(
    contact_client, fake_stripe, started
):
    response = contact_client.get(status_url(started))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Payment processing…" in html
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="{status_url(started)}"' in html
    assert 'data-state="processing"' in html
    assert started.invoice.number in html
    assert _session_reads(fake_stripe, started) == 1  # asked Stripe once


def test_the_poll_answers_the_panel_alone_and_asks_stripe_at_most_every_few_seconds(
    contact_client, fake_stripe, started
):
    contact_client.get(status_url(started))

    responses = [contact_client.get(status_url(started), HTTP_HX_REQUEST="true") for _ in range(3)]

    for response in responses:
        html = response.content.decode()
        assert html.lstrip().startswith("<section")
        assert "<html" not in html
    assert _session_reads(fake_stripe, started) == 1
    cache.clear()  # a few seconds later
    contact_client.get(status_url(started), HTTP_HX_REQUEST="true")
    assert _session_reads(fake_stripe, started) == 2


def test_once_stripe_says_paid_the_page_records_the_payment_and_stops_polling(
    contact_client, fake_stripe, started, stripe_access
):
    contact_client.get(status_url(started))
    fake_stripe.session_pay(started.provider_session_id)
    cache.clear()

    response = contact_client.get(status_url(started), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert 'data-state="paid"' in html
    assert "hx-trigger" not in html
    payment = Payment.objects.get()
    assert payment.amount == Decimal("40.00")
    receipt = reverse(
        "portal:payment_detail",
        kwargs={"portal_name": stripe_access.organization.portal_name, "pk": payment.pk},
    )
    assert f'href="{receipt}"' in html
    assert "$40.00" in html
    assert "$60.00" in html  # the invoice's balance now


def test_the_webhook_confirming_shows_paid_on_the_next_poll(contact_client, fake_stripe, started):
    session = fake_stripe.session_pay(started.provider_session_id)
    webhook_post(
        Client(), started.organization, fake_stripe.event("checkout.session.completed", session)
    )
    reads = _session_reads(fake_stripe, started)

    response = contact_client.get(status_url(started), HTTP_HX_REQUEST="true")

    assert 'data-state="paid"' in response.content.decode()
    assert _session_reads(fake_stripe, started) == reads  # a final checkout: Stripe not asked
    assert Payment.objects.count() == 1


def test_no_receipt_link_without_the_payments_module(contact_client, fake_stripe, started):
    access = PortalAccessFactory._meta.model.objects.get(contact=started.contact)
    access.modules = [PortalModule.INVOICES]
    access.save(update_fields=["modules"])
    fake_stripe.session_pay(started.provider_session_id)

    html = contact_client.get(status_url(started)).content.decode()

    assert 'data-state="paid"' in html
    assert "/payments/" not in html


def test_a_failed_checkout_offers_to_try_again(contact_client, fake_stripe, started):
    fake_stripe.session_expire(started.provider_session_id)

    html = contact_client.get(status_url(started)).content.decode()

    assert 'data-state="failed"' in html
    assert "hx-trigger" not in html
    pay = reverse("portal:pay", kwargs={"portal_name": started.organization.portal_name})
    assert f'href="{pay}"' in html
    assert "Try again" in html


def test_a_pending_checkout_past_its_expiry_shows_expired(
    contact_client, stripe_access, fake_stripe
):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None), provider=Provider.TEST)
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    html = contact_client.get(status_url(checkout)).content.decode()

    assert 'data-state="expired"' in html
    assert "hx-trigger" not in html
    assert fake_stripe.requests == []


def test_a_pending_test_gateway_checkout_links_to_its_card_page(contact_client, stripe_access):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None), provider=Provider.TEST)

    html = contact_client.get(status_url(checkout)).content.decode()

    card = reverse(
        "portal:test_gateway_card",
        kwargs={"portal_name": checkout.organization.portal_name, "pk": checkout.pk},
    )
    assert f'href="{card}"' in html


def test_another_contacts_checkout_is_not_found(fake_stripe, started, stripe_access):
    colleague = PortalAccessFactory(active=True, contact__customer=stripe_access.customer)
    client = Client()
    client.force_login(colleague.user)

    assert client.get(status_url(started)).status_code == 404
    assert client.post(cancel_url(started)).status_code == 404
    started.refresh_from_db()
    assert started.status == CheckoutStatus.PENDING


def test_status_is_get_only(contact_client, started):
    assert contact_client.post(status_url(started)).status_code == 405


# --- cancel ---------------------------------------------------------------------------


def test_cancel_from_stripe_expires_the_session_and_releases_the_lock(
    contact_client, fake_stripe, started, stripe_access
):
    assert payable_invoices(access=stripe_access) == []

    response = contact_client.get(cancel_url(started))  # Stripe's cancel link is a GET

    assert response.status_code == 200
    html = response.content.decode()
    assert "Payment cancelled" in html
    assert "Nothing was charged" in html
    started.refresh_from_db()
    assert started.status == CheckoutStatus.FAILED
    assert fake_stripe.sessions[started.provider_session_id]["status"] == "expired"
    assert fake_stripe.requests_to(
        "POST", f"/v1/checkout/sessions/{started.provider_session_id}/expire"
    )
    assert payable_invoices(access=stripe_access) == [started.invoice]


def test_cancel_after_paying_at_stripe_records_the_payment(contact_client, fake_stripe, started):
    fake_stripe.session_pay(started.provider_session_id)

    response = contact_client.get(cancel_url(started))

    assert response.status_code == 302
    assert response.url == status_url(started)
    started.refresh_from_db()
    assert started.status == CheckoutStatus.SUCCEEDED
    assert Payment.objects.count() == 1


def test_cancel_when_stripe_is_down_still_releases_the_lock(
    contact_client, fake_stripe, started, stripe_access
):
    fake_stripe.fail_next(503, times=3)

    response = contact_client.get(cancel_url(started))

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.status == CheckoutStatus.FAILED


def test_cancel_of_a_test_gateway_checkout(contact_client, stripe_access, fake_stripe):
    invoice = open_invoice(stripe_access.customer)
    checkout = stripe_checkout(stripe_access, (invoice, None), provider=Provider.TEST)

    response = contact_client.post(cancel_url(checkout))

    assert response.status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.FAILED
    assert fake_stripe.requests == []
    # cancelling again just shows the page; the status page says cancelled too
    assert contact_client.post(cancel_url(checkout)).status_code == 200
    assert 'data-state="cancelled"' in contact_client.get(status_url(checkout)).content.decode()


def test_cancel_of_a_paid_checkout_changes_nothing(contact_client, fake_stripe, started):
    fake_stripe.session_pay(started.provider_session_id)
    contact_client.get(status_url(started))

    response = contact_client.get(cancel_url(started))

    assert response.status_code == 302
    started.refresh_from_db()
    assert started.status == CheckoutStatus.SUCCEEDED


def test_the_page_speaks_the_contacts_language(fake_stripe, db):
    access = make_stripe_access(language="fr")
    client = Client()
    client.force_login(access.user)
    invoice = open_invoice(access.customer)
    checkout = stripe_checkout(access, (invoice, None), provider=Provider.TEST)

    html = client.get(status_url(checkout)).content.decode()

    assert 'lang="fr"' in html
