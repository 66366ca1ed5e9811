"""Payments for list and isolation tests, made as rows directly; tests of
behaviour go through ``portico.payments.services``."""

from decimal import Decimal

import factory
from django.utils import timezone

from portico.customers.tests.factories import CustomerFactory
from portico.payments.models import Payment, PaymentAllocation
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    currency = factory.SelfAttribute("customer.currency")
    number = factory.Sequence(lambda n: f"PAY-{n + 1:05d}")
    date = factory.LazyFunction(timezone.localdate)
    amount = Decimal("100.00")


class PaymentAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentAllocation

    payment = factory.SubFactory(PaymentFactory)
    organization = factory.SelfAttribute("payment.organization")
    invoice = factory.SubFactory(
        InvoiceFactory,
        customer=factory.SelfAttribute("..payment.customer"),
        status=InvoiceStatus.SENT,
    )
    amount = factory.SelfAttribute("payment.amount")


def open_invoice(customer, total="100.00", **fields):
    """A sent invoice of ``customer`` with nothing paid yet."""
    fields.setdefault("status", InvoiceStatus.SENT)
    return InvoiceFactory(
        customer=customer,
        total=Decimal(total),
        subtotal=Decimal(total),
        balance_due=Decimal(total),
        **fields,
    )
