"""Applying money to a customer's open invoices: payments and credit notes alike.

Both lock the invoices they touch in id order (so two people applying money
to the same invoices wait for each other instead of deadlocking), then check
each amount against the locked balance.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.money import format_money, quantize_money
from portico.customers.models import Customer
from portico.sales.models import OPEN_INVOICE_STATUSES, Invoice
from portico.sales.services.balances import invoice_lock
from portico.sales.services.common import SalesError


@dataclass
class InvoiceApplication:
    """An amount to apply to one locked, checked invoice."""

    invoice: Invoice
    amount: Decimal


def money_amount(*, amount, currency: str, field: str = "amount") -> Decimal:
    """``amount`` as a Decimal with no more digits than ``currency`` has (JPY: none)."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise SalesError(_("Enter an amount."), field=field) from error
    if not value.is_finite():
        raise SalesError(_("Enter an amount."), field=field)
    if quantize_money(value, currency) != value:
        raise SalesError(
            _("%(amount)s has more decimals than %(currency)s allows.")
            % {"amount": format(value.normalize(), "f"), "currency": currency},
            field=field,
        )
    return value


def applications_merge(
    *, applications: Iterable[tuple[int, Decimal]], currency: str
) -> dict[int, Decimal]:
    """Positive amounts by invoice id (an invoice named twice gets the sum);
    a negative amount is refused, zero amounts are left out."""
    merged: dict[int, Decimal] = {}
    for invoice_id, raw_amount in applications:
        amount = money_amount(amount=raw_amount, currency=currency, field="invoices")
        if amount < 0:
            raise SalesError(
                _("An amount applied to an invoice cannot be negative."), field="invoices"
            )
        if amount == 0:
            continue
        merged[int(invoice_id)] = merged.get(int(invoice_id), Decimal(0)) + amount
    return merged


def applications_lock(
    *,
    organization: Organization,
    customer: Customer,
    currency: str,
    amounts: dict[int, Decimal],
    full_payment_rule: bool,
) -> list[InvoiceApplication]:
    """Lock the invoices in id order and check each amount against its balance.

    Each invoice must be the customer's, open (sent or partially paid,
    overdue included) and in ``currency``; an amount may not exceed the
    balance due. With ``full_payment_rule`` an invoice that does not allow
    partial payments must be paid in full by its one amount.
    """
    checked = []
    for invoice_id in sorted(amounts):
        amount = amounts[invoice_id]
        try:
            invoice = invoice_lock(organization=organization, invoice_id=invoice_id)
        except Invoice.DoesNotExist as error:
            raise SalesError(_("An invoice chosen no longer exists."), field="invoices") from error
        if invoice.customer_id != customer.pk:
            raise SalesError(
                _("%(invoice)s is not an invoice of %(customer)s.")
                % {"invoice": invoice.number, "customer": customer.display_name},
                field="invoices",
            )
        if invoice.status not in OPEN_INVOICE_STATUSES:
            raise SalesError(
                _(
                    "%(invoice)s is %(status)s: only sent or partially paid invoices can be "
                    "paid or credited."
                )
                % {"invoice": invoice.number, "status": invoice.get_status_display().lower()},
                field="invoices",
            )
        if invoice.currency != currency:
            raise SalesError(
                _("%(invoice)s is in %(invoice_currency)s, not %(currency)s.")
                % {
                    "invoice": invoice.number,
                    "invoice_currency": invoice.currency,
                    "currency": currency,
                },
                field="invoices",
            )
        if amount > invoice.balance_due:
            raise SalesError(
                _("%(amount)s is more than the %(balance)s still due on %(invoice)s.")
                % {
                    "amount": format_money(amount, currency),
                    "balance": format_money(invoice.balance_due, currency),
                    "invoice": invoice.number,
                },
                field="invoices",
            )
        if (
            full_payment_rule
            and not invoice.allow_partial_payments
            and amount != invoice.balance_due
        ):
            raise SalesError(
                _(
                    "%(invoice)s does not allow partial payments: apply the full "
                    "%(balance)s or nothing."
                )
                % {
                    "invoice": invoice.number,
                    "balance": format_money(invoice.balance_due, currency),
                },
                field="invoices",
            )
        checked.append(InvoiceApplication(invoice=invoice, amount=amount))
    return checked
