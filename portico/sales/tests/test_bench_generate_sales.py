import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F, Sum

from portico.customers.tests.factories import CustomerFactory
from portico.payments.models import Payment
from portico.projects.models import TimeEntry
from portico.sales.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSeries,
    Quote,
    SalesOrder,
)
from portico.sales.numbering import number_take

pytestmark = pytest.mark.django_db


def test_the_generator_makes_a_consistent_sales_history(organization, settings):
    settings.DEBUG = True
    CustomerFactory.create_batch(5, organization=organization)

    call_command(
        "bench_generate_sales",
        organization=organization.portal_name,
        invoices=300,
        quotes=40,
        sales_orders=20,
        time_entries=250,
        verbosity=0,
    )

    invoices = Invoice.objects.filter(organization=organization)
    assert invoices.count() == 300
    assert Quote.objects.filter(organization=organization).count() == 40
    assert SalesOrder.objects.filter(organization=organization).count() == 20
    assert TimeEntry.objects.filter(organization=organization).count() == 250
    # totals are the sums of their lines; balances follow payments
    for invoice in invoices.prefetch_related("lines")[:50]:
        lines = list(invoice.lines.all())
        assert invoice.total == sum(line.amount + line.tax_amount for line in lines)
    assert not invoices.exclude(balance_due=F("total") - F("amount_paid")).exists()
    paid = invoices.filter(status__in=[InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID])
    assert Payment.objects.filter(organization=organization).count() == paid.count()
    assert (
        Payment.objects.filter(organization=organization).aggregate(s=Sum("amount"))["s"]
        == paid.aggregate(s=Sum("amount_paid"))["s"]
    )
    assert InvoiceLine.objects.filter(organization=organization).count() >= 300
    # numbering continues after the generated documents
    with transaction.atomic():
        assert number_take(organization=organization, document_type="invoice") == "INV-00301"
    assert (
        NumberSeries.objects.get(organization=organization, document_type="quote").next_number == 41
    )


def test_the_generator_needs_customers_and_debug(organization, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("bench_generate_sales", organization=organization.portal_name, invoices=1)
    settings.DEBUG = True
    with pytest.raises(CommandError, match="no customers"):
        call_command("bench_generate_sales", organization=organization.portal_name, invoices=1)
