"""Sales documents for tests, built through the real services where it matters.

``make_quote``/``make_invoice`` … go through the services (numbers, totals,
history); the factory classes make rows directly for list and isolation tests.
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from portico.customers.tests.factories import CustomerFactory
from portico.sales.models import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
)
from portico.sales.services.common import LineData


def line(
    description="Consulting", quantity="1", rate="100", discount="0", tax_id=None, item_id=None
):
    return LineData(
        description=description,
        quantity=Decimal(quantity),
        rate=Decimal(rate),
        discount_percent=Decimal(discount),
        tax_id=tax_id,
        item_id=item_id,
    )


class _DocumentFactory(factory.django.DjangoModelFactory):
    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    currency = factory.SelfAttribute("customer.currency")
    date = factory.LazyFunction(timezone.localdate)
    subtotal = Decimal("100.00")
    total = Decimal("100.00")

    class Meta:
        abstract = True


class _LineFactory(factory.django.DjangoModelFactory):
    organization = factory.SelfAttribute("document.organization")
    position = factory.Sequence(lambda n: n + 1)
    description = "Consulting"
    quantity = Decimal(1)
    rate = Decimal("100.00")
    amount = Decimal("100.00")

    class Meta:
        abstract = True


class QuoteFactory(_DocumentFactory):
    class Meta:
        model = Quote

    number = factory.Sequence(lambda n: f"QT-{n + 1:05d}")
    expiry_date = factory.LazyAttribute(lambda o: o.date + timedelta(days=30))


class QuoteLineFactory(_LineFactory):
    class Meta:
        model = QuoteLine

    document = factory.SubFactory(QuoteFactory)


class SalesOrderFactory(_DocumentFactory):
    class Meta:
        model = SalesOrder

    number = factory.Sequence(lambda n: f"SO-{n + 1:05d}")


class SalesOrderLineFactory(_LineFactory):
    class Meta:
        model = SalesOrderLine

    document = factory.SubFactory(SalesOrderFactory)


class InvoiceFactory(_DocumentFactory):
    class Meta:
        model = Invoice

    number = factory.Sequence(lambda n: f"INV-{n + 1:05d}")
    due_date = factory.LazyAttribute(lambda o: o.date + timedelta(days=30))
    balance_due = factory.SelfAttribute("total")


class InvoiceLineFactory(_LineFactory):
    class Meta:
        model = InvoiceLine

    document = factory.SubFactory(InvoiceFactory)


class CreditNoteFactory(_DocumentFactory):
    class Meta:
        model = CreditNote

    number = factory.Sequence(lambda n: f"CN-{n + 1:05d}")
    credits_remaining = factory.SelfAttribute("total")


class CreditNoteLineFactory(_LineFactory):
    class Meta:
        model = CreditNoteLine

    document = factory.SubFactory(CreditNoteFactory)
