"""Racing confirmations on PostgreSQL: duplicate webhooks, the webhook against
the return page, and two checkouts paying one invoice at the same moment.

Each thread has its own database connection (closed at the thread's end), so
the races are real: the checkout row lock, the webhook event's unique id and
the payment's unique provider reference are what keep it to one payment.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.test import Client

from portico.online_payments.models import (
    Checkout,
    CheckoutStatus,
    OnlinePaymentSettings,
    WebhookEvent,
)
from portico.online_payments.stripe_gateway import stripe_checkout_start, stripe_checkout_sync
from portico.online_payments.tests.p2_support import (
    make_stripe_access,
    open_invoice,
    stripe_checkout,
    webhook_post,
)
from portico.payments.models import Payment, PaymentAllocation
from portico.sales.models import InvoiceStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite lets one writer in at a time, so confirmations never race there; "
        "run with DATABASE_URL=postgres://…",
    ),
]

THREADS = 8


def run_concurrently(*works) -> tuple[list, list[BaseException]]:
    """Start each of ``works`` in its own thread at the same moment; results and errors."""
    barrier = threading.Barrier(len(works))
    results: list = []
    errors: list[BaseException] = []

    def run(work):
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _started(access, *selections):
    checkout = stripe_checkout(access, *selections)
    stripe_checkout_start(checkout=checkout, success_url="https://x/ok", cancel_url="https://x/no")
    checkout.refresh_from_db()
    return checkout


def test_the_same_event_delivered_at_once_by_many_makes_one_payment(fake_stripe):
    access = make_stripe_access()
    invoice = open_invoice(access.customer, "100.00")
    checkout = _started(access, (invoice, None))
    session = fake_stripe.session_pay(checkout.provider_session_id)
    payload = fake_stripe.event("checkout.session.completed", session, event_id="evt_race")

    def deliver():
        return webhook_post(Client(), access.organization, payload).status_code

    results, errors = run_concurrently(*[deliver] * THREADS)

    assert errors == []
    assert results == [200] * THREADS
    assert Payment.objects.count() == 1
    assert WebhookEvent.objects.filter(event_id="evt_race").count() == 1
    invoice.refresh_from_db()
    assert invoice.balance_due == 0
    assert invoice.status == InvoiceStatus.PAID


def test_different_events_of_one_session_at_once_make_one_payment(fake_stripe):
    access = make_stripe_access()
    invoice = open_invoice(access.customer, "100.00")
    checkout = _started(access, (invoice, "25.00"))
    session = fake_stripe.session_pay(checkout.provider_session_id)
    payloads = [
        fake_stripe.event(
            "checkout.session.completed" if n % 2 else "checkout.session.async_payment_succeeded",
            session,
        )
        for n in range(THREADS)
    ]

    results, errors = run_concurrently(
        *[
            lambda payload=payload: webhook_post(Client(), access.organization, payload)
            for payload in payloads
        ]
    )

    assert errors == []
    assert Payment.objects.count() == 1
    assert WebhookEvent.objects.count() == THREADS
    invoice.refresh_from_db()
    assert invoice.balance_due == Decimal("75.00")


def test_the_webhook_and_the_return_page_racing_make_one_payment(fake_stripe):
    access = make_stripe_access()
    invoice = open_invoice(access.customer, "100.00")
    checkout = _started(access, (invoice, None))
    session = fake_stripe.session_pay(checkout.provider_session_id)
    payload = fake_stripe.event("checkout.session.completed", session)

    def webhook():
        return webhook_post(Client(), access.organization, payload).status_code

    def return_page():
        return stripe_checkout_sync(checkout=Checkout.objects.get(pk=checkout.pk)).status

    results, errors = run_concurrently(*[webhook, return_page] * (THREADS // 2))

    assert errors == []
    assert Payment.objects.count() == 1
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.SUCCEEDED
    assert checkout.payment.provider_reference == session["payment_intent"]
    assert PaymentAllocation.objects.aggregate(total=Sum("amount"))["total"] == Decimal("100.00")


def test_two_checkouts_paying_one_invoice_at_once_never_over_allocate(fake_stripe):
    # given: duplicate prevention off, two Pay nows for the whole of one invoice, both paid
    access = make_stripe_access()
    OnlinePaymentSettings.objects.filter(organization=access.organization).update(
        prevent_duplicate_payments=False
    )
    invoice = open_invoice(access.customer, "100.00")
    first = _started(access, (invoice, None))
    second = _started(access, (invoice, None))
    payloads = [
        fake_stripe.event(
            "checkout.session.completed", fake_stripe.session_pay(checkout.provider_session_id)
        )
        for checkout in (first, second)
    ]

    # when: both webhooks (twice each) and both return pages at the same moment
    works = []
    for checkout, payload in zip((first, second), payloads, strict=True):
        works += [
            lambda payload=payload: webhook_post(Client(), access.organization, payload),
            lambda payload=payload: webhook_post(Client(), access.organization, payload),
            lambda pk=checkout.pk: stripe_checkout_sync(checkout=Checkout.objects.get(pk=pk)),
        ]
    _results, errors = run_concurrently(*works)

    # then: two payments; the invoice got its 100.00 once, the other 100.00 is credit
    assert errors == []
    payments = list(Payment.objects.order_by("pk"))
    assert len(payments) == 2
    assert sum(payment.amount for payment in payments) == Decimal("200.00")
    allocated = PaymentAllocation.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))
    assert allocated["total"] == Decimal("100.00")
    assert sum(payment.unused_amount for payment in payments) == Decimal("100.00")
    invoice.refresh_from_db()
    assert invoice.balance_due == 0
    assert invoice.status == InvoiceStatus.PAID
    assert set(Checkout.objects.values_list("status", flat=True)) == {CheckoutStatus.SUCCEEDED}


def test_many_checkouts_of_several_invoices_at_once_never_over_allocate(fake_stripe):
    access = make_stripe_access()
    OnlinePaymentSettings.objects.filter(organization=access.organization).update(
        prevent_duplicate_payments=False
    )
    older = open_invoice(access.customer, "100.00", day=1)
    newer = open_invoice(access.customer, "50.00", day=2)
    checkouts = [_started(access, (older, "60.00"), (newer, "30.00")) for _ in range(THREADS // 2)]
    payloads = [
        fake_stripe.event(
            "checkout.session.completed", fake_stripe.session_pay(checkout.provider_session_id)
        )
        for checkout in checkouts
    ]

    _results, errors = run_concurrently(
        *[
            lambda payload=payload: webhook_post(Client(), access.organization, payload)
            for payload in payloads
        ]
    )

    assert errors == []
    assert Payment.objects.count() == len(checkouts)
    for invoice in (older, newer):
        invoice.refresh_from_db()
        allocated = PaymentAllocation.objects.filter(invoice=invoice).aggregate(t=Sum("amount"))
        assert allocated["t"] == invoice.total
        assert invoice.balance_due == 0
    total_paid = Payment.objects.aggregate(t=Sum("amount"))["t"]
    credit = Payment.objects.aggregate(t=Sum("unused_amount"))["t"]
    assert total_paid == Decimal("90.00") * len(checkouts)
    assert credit == total_paid - Decimal("150.00")
