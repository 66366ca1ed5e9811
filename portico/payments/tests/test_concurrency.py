"""Payments and credits applied to the same invoices at the same moment.

Runs on PostgreSQL, where transactions really run side by side: the invoice
row locks (taken in id order) are what keep balances from going below zero.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from portico.accounts.tests.factories import OrganizationFactory
from portico.customers.tests.factories import CustomerFactory
from portico.payments import services
from portico.payments.models import Payment, PaymentAllocation
from portico.payments.services import PaymentError
from portico.payments.tests.factories import open_invoice
from portico.sales.models import Invoice, InvoiceStatus
from portico.sales.services import credit_notes
from portico.sales.services.credit_notes import CreditNoteData
from portico.sales.tests.factories import line

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite lets one writer in at a time; run with DATABASE_URL=postgres://…",
    ),
]

THREADS = 8


def run_concurrently(works) -> list[BaseException]:
    """Start each of ``works`` in its own thread at the same moment; their errors."""
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work):
        try:
            barrier.wait()
            work()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(work,)) for work in works]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return errors


def test_payments_at_the_same_time_never_pay_an_invoice_twice():
    # given: 100 due; eight people record 30 each at once
    customer = CustomerFactory(organization=OrganizationFactory(), currency="EUR")
    invoice = open_invoice(customer, "100.00")

    def pay():
        services.payment_record(
            organization=customer.organization,
            customer_id=customer.pk,
            amount=Decimal(30),
            date=timezone.localdate(),
            allocations=[(invoice.pk, Decimal(30))],
        )

    # when
    errors = run_concurrently([pay] * THREADS)

    # then: three fit, the others are refused with a message
    assert len(errors) == THREADS - 3
    assert all(isinstance(error, PaymentError) for error in errors)
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.balance_due) == (Decimal(90), Decimal(10))
    assert Payment.objects.filter(customer=customer).count() == 3
    numbers = sorted(Payment.objects.values_list("number", flat=True))
    assert numbers == ["PAY-00001", "PAY-00002", "PAY-00003"]


def test_payments_and_credit_notes_on_crossing_invoices_do_not_deadlock():
    # given: two invoices; payments name them in one order, credit notes in the other
    customer = CustomerFactory(organization=OrganizationFactory(), currency="EUR")
    first = open_invoice(customer, "500.00")
    second = open_invoice(customer, "500.00")
    notes = []
    for _ in range(THREADS // 2):
        note = credit_notes.credit_note_create(
            organization=customer.organization,
            data=CreditNoteData(
                customer_id=customer.pk, date=timezone.localdate(), lines=[line(rate="40")]
            ),
        )
        notes.append(credit_notes.credit_note_open(credit_note=note))

    def pay():
        services.payment_record(
            organization=customer.organization,
            customer_id=customer.pk,
            amount=Decimal(60),
            date=timezone.localdate(),
            allocations=[(first.pk, Decimal(30)), (second.pk, Decimal(30))],
        )

    def credit(note):
        return lambda: credit_notes.credit_note_apply(
            credit_note=note, applications=[(second.pk, Decimal(20)), (first.pk, Decimal(20))]
        )

    # when
    errors = run_concurrently([pay] * (THREADS // 2) + [credit(note) for note in notes])

    # then
    assert errors == []
    for invoice in Invoice.objects.filter(pk__in=[first.pk, second.pk]):
        paid = PaymentAllocation.objects.filter(invoice=invoice).aggregate(t=Sum("amount"))["t"]
        assert paid == Decimal(120)
        assert invoice.credits_applied == Decimal(80)
        assert invoice.balance_due == Decimal(300)
        assert invoice.status == InvoiceStatus.PARTIALLY_PAID
