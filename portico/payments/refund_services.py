"""Refunds recorded against a payment's unused credit.

A refund gives back money the customer paid and that no invoice uses: it can
never exceed the payment's ``unused_amount``, which it lowers. Money already
applied to an invoice is returned with a credit note on that invoice instead
(the refund form offers it). Issuing the refund at the provider (Stripe's
dashboard, a bank transfer) happens outside Portico.
"""

from datetime import date as date_type
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.money import format_money
from portico.payments.models import Payment, PaymentRefund
from portico.payments.services import PaymentError
from portico.sales.history import history_record
from portico.sales.services.common import SalesError
from portico.sales.services.invoice_applications import money_amount


class RefundError(PaymentError):
    """A refund that cannot be recorded; the message says why."""


def payment_refund_record(
    *,
    organization: Organization,
    payment_id: int,
    amount: Decimal,
    date: date_type,
    reference: str = "",
    notes: str = "",
    actor=None,
) -> PaymentRefund:
    """Record money given back out of a payment's unused credit.

    The payment is locked, so two refunds recorded at once can never take
    more than the credit there is.
    """
    with transaction.atomic():
        try:
            payment = Payment.objects.select_for_update().get(
                organization=organization, pk=payment_id
            )
        except Payment.DoesNotExist as error:
            raise RefundError(_("This payment no longer exists.")) from error
        try:
            amount = money_amount(amount=amount, currency=payment.currency)
        except SalesError as error:
            raise RefundError(error.message, field="amount") from error
        if amount <= 0:
            raise RefundError(_("The refund must be more than zero."), field="amount")
        if date is None:
            raise RefundError(_("Enter the date of the refund."), field="date")
        if amount > payment.unused_amount:
            if payment.unused_amount > 0:
                message = _(
                    "Only %(unused)s of this payment is unused customer credit, so at most "
                    "%(unused)s can be refunded here. To give back money applied to an "
                    "invoice, create a credit note for that invoice."
                ) % {"unused": format_money(payment.unused_amount, payment.currency)}
            else:
                message = _(
                    "All of this payment is applied to invoices, so there is no credit to "
                    "refund. To give back money applied to an invoice, create a credit note "
                    "for that invoice."
                )
            raise RefundError(message, field="amount")
        refund = PaymentRefund.objects.create(
            organization=organization,
            payment=payment,
            amount=amount,
            date=date,
            reference=reference.strip(),
            notes=notes.strip(),
            created_by=actor,
        )
        payment.unused_amount -= amount
        payment.save(update_fields=["unused_amount", "updated_at"])
        history_record(
            document=payment,
            kind="refund_recorded",
            actor=actor,
            amount=format_money(amount, payment.currency),
            reference=refund.reference,
        )
    return refund
