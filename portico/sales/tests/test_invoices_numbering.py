"""Invoice numbers under concurrent creation (unique, consecutive, no gaps) and
concurrent conversion of one sales order.

Runs on PostgreSQL, where transactions really run side by side and the
number series row lock is what keeps numbers apart.
"""

import threading
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from portico.accounts.tests.factories import OrganizationFactory
from portico.customers.tests.factories import CustomerFactory
from portico.sales.history import history_record
from portico.sales.models import Invoice
from portico.sales.services.common import DocumentStateError
from portico.sales.services.invoices import InvoiceData, invoice_create
from portico.sales.services.orders import (
    SalesOrderData,
    sales_order_confirm,
    sales_order_convert_to_invoice,
    sales_order_create,
)
from portico.sales.tests.factories import line

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite lets one writer in at a time, so creation is never concurrent there; "
        "run with DATABASE_URL=postgres://…",
    ),
]

THREADS = 8
INVOICES_PER_THREAD = 6


def run_concurrently(work, threads: int = THREADS) -> list[BaseException]:
    """Start ``work`` in ``threads`` threads at the same moment; their errors."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            work()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return errors


def test_invoices_created_at_the_same_time_get_unique_consecutive_numbers():
    # given: a fresh organisation, whose number series does not exist yet
    customer = CustomerFactory(organization=OrganizationFactory())
    organization = customer.organization
    data = InvoiceData(customer_id=customer.pk, date=timezone.localdate(), lines=[line()])

    def create_invoices():
        for _ in range(INVOICES_PER_THREAD):
            invoice_create(organization=organization, data=data)

    # when
    errors = run_concurrently(create_invoices)

    # then
    assert errors == []
    numbers = sorted(
        Invoice.objects.filter(organization=organization).values_list("number", flat=True)
    )
    expected = THREADS * INVOICES_PER_THREAD
    assert numbers == [f"INV-{n:05d}" for n in range(1, expected + 1)]


def test_a_creation_that_fails_gives_its_number_back():
    # given: every third invoice fails after taking its number
    customer = CustomerFactory(organization=OrganizationFactory())
    organization = customer.organization
    data = InvoiceData(customer_id=customer.pk, date=timezone.localdate(), lines=[line()])
    calls = iter(range(10_000))
    lock = threading.Lock()

    def sometimes_failing_history(**kwargs):
        with lock:
            call = next(calls)
        if call % 3 == 2:
            raise RuntimeError("the database went away")
        return history_record(**kwargs)

    failures = []

    def create_invoices():
        for _ in range(INVOICES_PER_THREAD):
            try:
                invoice_create(organization=organization, data=data)
            except RuntimeError:
                failures.append(1)

    # when
    with mock.patch("portico.sales.services.invoices.history_record", sometimes_failing_history):
        errors = run_concurrently(create_invoices)

    # then: the numbers of the failed creations were reused, none is missing
    assert errors == []
    created = THREADS * INVOICES_PER_THREAD - len(failures)
    assert failures and created
    numbers = sorted(
        Invoice.objects.filter(organization=organization).values_list("number", flat=True)
    )
    assert numbers == [f"INV-{n:05d}" for n in range(1, created + 1)]


def test_an_order_converted_twice_at_once_becomes_one_invoice():
    # given
    customer = CustomerFactory(organization=OrganizationFactory())
    order = sales_order_confirm(
        order=sales_order_create(
            organization=customer.organization,
            data=SalesOrderData(customer_id=customer.pk, date=timezone.localdate(), lines=[line()]),
        )
    )

    # when: two people click "Convert to invoice" at the same moment
    errors = run_concurrently(lambda: sales_order_convert_to_invoice(order=order), threads=2)

    # then
    assert [type(error) for error in errors] == [DocumentStateError]
    assert "already been invoiced (INV-00001)" in str(errors[0])
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-00001"]
