"""Payments received: record, delete, and apply a customer's unused credit.

A payment is in the customer's currency. Its allocations go to the
customer's open invoices (each at most the invoice's balance due); what is
left over is the customer's credit (``unused_amount``), kept only when staff
say so. Every change locks the payment and then the invoices in id order and
recomputes each invoice's balance in the same transaction.
"""

from collections.abc import Iterable
from datetime import date as date_type
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.money import format_money
from portico.customers.models import Customer
from portico.payments.models import Payment, PaymentAllocation, PaymentMode
from portico.sales.history import history_of, history_record
from portico.sales.models import OPEN_INVOICE_STATUSES, DocumentType, Invoice
from portico.sales.numbering import number_take
from portico.sales.services.balances import invoice_lock, invoice_refresh_balance
from portico.sales.services.common import SalesError
from portico.sales.services.invoice_applications import (
    InvoiceApplication,
    applications_lock,
    applications_merge,
    money_amount,
)


class PaymentError(SalesError):
    """A payment that cannot be recorded, deleted or applied; the message says why."""


def _customer(*, organization: Organization, customer_id: int | None) -> Customer:
    customer = Customer.objects.filter(organization=organization, pk=customer_id).first()
    if customer is None:
        raise PaymentError(_("Choose a customer."), field="customer")
    return customer


def _lock_and_check(
    *,
    organization: Organization,
    customer: Customer,
    currency: str,
    allocations: Iterable[tuple[int, Decimal]],
) -> list[InvoiceApplication]:
    try:
        amounts = applications_merge(applications=allocations, currency=currency)
        return applications_lock(
            organization=organization,
            customer=customer,
            currency=currency,
            amounts=amounts,
            full_payment_rule=True,
        )
    except PaymentError:
        raise
    except SalesError as error:
        raise PaymentError(error.message, field=error.field) from error


def customer_open_balance(*, organization: Organization, customer: Customer, currency: str):
    """What the customer still owes on its open invoices in ``currency``."""
    return Invoice.objects.filter(
        organization=organization,
        customer=customer,
        currency=currency,
        status__in=OPEN_INVOICE_STATUSES,
    ).aggregate(total=Sum("balance_due"))["total"] or Decimal(0)


def _record_on_invoices(
    *, payment: Payment, applications: list[InvoiceApplication], kind: str, actor
) -> None:
    for application in applications:
        invoice_refresh_balance(invoice=application.invoice)
        history_record(
            document=application.invoice,
            kind=kind,
            actor=actor,
            payment=payment.number,
            amount=format_money(application.amount, payment.currency),
        )
        history_record(
            document=payment,
            kind="credit_applied_to",
            actor=actor,
            amount=format_money(application.amount, payment.currency),
            invoice=application.invoice.number,
        )


def payment_record(
    *,
    organization: Organization,
    customer_id: int,
    amount: Decimal,
    date: date_type,
    mode: str = PaymentMode.BANK_TRANSFER,
    reference: str = "",
    notes: str = "",
    allocations: Iterable[tuple[int, Decimal]] = (),
    keep_excess_as_credit: bool = False,
    actor=None,
    provider: str = "",
    provider_reference: str = "",
) -> Payment:
    """Record money received from a customer and apply it to its open invoices.

    ``allocations`` are (invoice id, amount) pairs. The part of ``amount``
    they do not use becomes the customer's credit, but only with
    ``keep_excess_as_credit``: otherwise an unapplied amount (say, a payment
    above everything the customer owes) is refused, so a typo never turns
    into credit silently.

    ``provider``/``provider_reference`` (online payments: "stripe" and its
    PaymentIntent id) are unique per organisation: recording the same
    provider payment twice raises ``IntegrityError``.
    """
    customer = _customer(organization=organization, customer_id=customer_id)
    currency = customer.currency
    try:
        amount = money_amount(amount=amount, currency=currency)
    except SalesError as error:
        raise PaymentError(error.message, field="amount") from error
    if amount <= 0:
        raise PaymentError(_("The amount received must be more than zero."), field="amount")
    if mode not in PaymentMode.values:
        raise PaymentError(_("Choose how the payment was made."), field="mode")
    if date is None:
        raise PaymentError(_("Enter the date of the payment."), field="date")
    with transaction.atomic():
        applications = _lock_and_check(
            organization=organization, customer=customer, currency=currency, allocations=allocations
        )
        applied = sum((application.amount for application in applications), Decimal(0))
        if applied > amount:
            raise PaymentError(
                _(
                    "The amounts applied to invoices (%(applied)s) add up to more than the "
                    "payment of %(amount)s."
                )
                % {
                    "applied": format_money(applied, currency),
                    "amount": format_money(amount, currency),
                },
                field="invoices",
            )
        excess = amount - applied
        if excess > 0 and not keep_excess_as_credit:
            open_balance = customer_open_balance(
                organization=organization, customer=customer, currency=currency
            )
            if amount > open_balance:
                message = _(
                    "The payment of %(amount)s is more than the %(open)s %(customer)s owes. "
                    "Tick “Keep the excess as customer credit” to record the rest as credit."
                ) % {
                    "amount": format_money(amount, currency),
                    "open": format_money(open_balance, currency),
                    "customer": customer.display_name,
                }
            else:
                message = _(
                    "%(excess)s of this payment is not applied to any invoice. Apply it, or "
                    "tick “Keep the excess as customer credit”."
                ) % {"excess": format_money(excess, currency)}
            raise PaymentError(message, field="keep_excess_as_credit")
        payment = Payment.objects.create(
            organization=organization,
            customer=customer,
            number=number_take(organization=organization, document_type=DocumentType.PAYMENT),
            date=date,
            amount=amount,
            currency=currency,
            mode=mode,
            reference=reference.strip(),
            notes=notes.strip(),
            unused_amount=excess,
            provider=provider,
            provider_reference=provider_reference,
            created_by=actor,
        )
        PaymentAllocation.objects.bulk_create(
            [
                PaymentAllocation(
                    organization=organization,
                    payment=payment,
                    invoice=application.invoice,
                    amount=application.amount,
                )
                for application in applications
            ]
        )
        history_record(
            document=payment,
            kind="payment_received",
            actor=actor,
            amount=format_money(amount, currency),
        )
        _record_on_invoices(
            payment=payment, applications=applications, kind="payment_recorded", actor=actor
        )
    return payment


def _payment_lock(*, organization: Organization, payment_id: int) -> Payment:
    try:
        return (
            Payment.objects.select_for_update()
            .select_related("customer")
            .get(organization=organization, pk=payment_id)
        )
    except Payment.DoesNotExist as error:
        raise PaymentError(_("This payment no longer exists.")) from error


def payment_apply_credit(
    *,
    organization: Organization,
    payment_id: int,
    allocations: Iterable[tuple[int, Decimal]],
    actor=None,
) -> Payment:
    """Apply some of a payment's unused credit to open invoices of its customer."""
    with transaction.atomic():
        payment = _payment_lock(organization=organization, payment_id=payment_id)
        applications = _lock_and_check(
            organization=organization,
            customer=payment.customer,
            currency=payment.currency,
            allocations=allocations,
        )
        if not applications:
            raise PaymentError(_("Enter an amount to apply to an invoice."), field="invoices")
        applied = sum((application.amount for application in applications), Decimal(0))
        if applied > payment.unused_amount:
            raise PaymentError(
                _("Only %(unused)s of this payment is unused; %(applied)s cannot be applied.")
                % {
                    "unused": format_money(payment.unused_amount, payment.currency),
                    "applied": format_money(applied, payment.currency),
                },
                field="invoices",
            )
        existing = {
            allocation.invoice_id: allocation
            for allocation in PaymentAllocation.objects.filter(
                payment=payment, invoice_id__in=[a.invoice.pk for a in applications]
            )
        }
        for application in applications:
            allocation = existing.get(application.invoice.pk)
            if allocation is None:
                PaymentAllocation.objects.create(
                    organization=organization,
                    payment=payment,
                    invoice=application.invoice,
                    amount=application.amount,
                )
            else:
                allocation.amount += application.amount
                allocation.save(update_fields=["amount", "updated_at"])
        payment.unused_amount -= applied
        payment.save(update_fields=["unused_amount", "updated_at"])
        _record_on_invoices(
            payment=payment, applications=applications, kind="payment_credit_applied", actor=actor
        )
    return payment


def payment_delete(*, payment: Payment, actor=None) -> None:
    """Delete a payment: its allocations go, and each invoice owes again what it paid."""
    organization = payment.organization
    with transaction.atomic():
        locked = _payment_lock(organization=organization, payment_id=payment.pk)
        allocations = list(locked.allocations.order_by("invoice_id"))
        invoices = [
            invoice_lock(organization=organization, invoice_id=allocation.invoice_id)
            for allocation in allocations
        ]
        history_of(document=locked).delete()
        locked.delete()  # the allocations go with it
        for invoice, allocation in zip(invoices, allocations, strict=True):
            invoice_refresh_balance(invoice=invoice)
            history_record(
                document=invoice,
                kind="payment_deleted",
                actor=actor,
                payment=locked.number,
                amount=format_money(allocation.amount, locked.currency),
            )
