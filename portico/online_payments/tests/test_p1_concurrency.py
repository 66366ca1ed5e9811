"""Races on PostgreSQL: two Pay nows for one invoice, two card submits, racing confirmations.

Each thread has its own connection, so the row locks taken by
``checkout_prepare`` / ``checkout_confirm`` are what keeps it to one checkout
and one payment.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from portico.online_payments.models import Checkout
from portico.online_payments.services import (
    DuplicatePaymentError,
    checkout_confirm,
    checkout_prepare,
    test_gateway_charge,
)
from portico.online_payments.tests.p1_support import enable_test_gateway, invoice_of, make_access
from portico.payments.models import Payment, PaymentAllocation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite lets one writer in at a time; run with DATABASE_URL=postgres://…",
    ),
]

THREADS = 6


def race(work, times: int = THREADS) -> tuple[list, list[BaseException]]:
    barrier = threading.Barrier(times)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_pay_now_racing_for_one_invoice_makes_one_checkout():
    access = make_access()
    enable_test_gateway(access.organization)
    invoice = invoice_of(access)

    results, errors = race(
        lambda: checkout_prepare(access=access, provider="test", selections=[(invoice.pk, None)])
    )

    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, DuplicatePaymentError) for error in errors), errors
    assert Checkout.objects.count() == 1


def test_card_submits_racing_pay_once():
    access = make_access()
    enable_test_gateway(access.organization)
    invoice = invoice_of(access)
    checkout = checkout_prepare(access=access, provider="test", selections=[(invoice.pk, None)])

    results, errors = race(
        lambda: test_gateway_charge(
            access=access,
            checkout_id=checkout.pk,
            card_number="4242424242424242",
            expiry_month=12,
            expiry_year=timezone.now().year + 1,
            cvc="123",
        )
    )

    assert errors == []
    assert len({payment.pk for payment in results}) == 1
    assert Payment.objects.count() == 1


def test_two_checkouts_confirming_at_once_never_over_allocate():
    access = make_access()
    enable_test_gateway(access.organization, prevent_duplicate_payments=False)
    invoice = invoice_of(access, "100.00")
    checkouts = [
        checkout_prepare(access=access, provider="test", selections=[(invoice.pk, None)])
        for _ in range(THREADS)
    ]
    queue = list(checkouts)
    lock = threading.Lock()

    def confirm_next():
        with lock:
            checkout = queue.pop()
        return checkout_confirm(
            checkout_id=checkout.pk,
            provider_reference=f"test_race_{checkout.pk}",
            amount_minor=checkout.amount_minor,
            currency=checkout.currency,
        )

    results, errors = race(confirm_next)

    assert errors == []
    assert Payment.objects.count() == THREADS
    allocated = PaymentAllocation.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))
    assert allocated["total"] == Decimal("100.00")
    credit = Payment.objects.aggregate(total=Sum("unused_amount"))["total"]
    assert credit == Decimal("100.00") * (THREADS - 1)
    invoice.refresh_from_db()
    assert invoice.balance_due == 0
