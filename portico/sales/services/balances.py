"""An invoice's balance, from its payments and applied credits.

Payments (portico.payments) and credit notes both change what a customer
owes; both call ``invoice_refresh_balance`` in their transaction, with the
invoice row locked, so the stored balance and status never drift.
"""

from decimal import Decimal

from django.db.models import Sum

from portico.sales.models import Invoice, InvoiceStatus

# Statuses whose payment state follows the balance; draft and void do not.
PAYABLE_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)


def invoice_lock(*, organization, invoice_id: int) -> Invoice:
    """The invoice, locked for the rest of the caller's transaction."""
    return Invoice.objects.select_for_update().get(organization=organization, pk=invoice_id)


def invoice_refresh_balance(*, invoice: Invoice) -> Invoice:
    """Recompute paid, credited and balance due; move between sent /
    partially paid / paid accordingly. The caller holds the row lock."""
    from portico.payments.models import PaymentAllocation

    paid = PaymentAllocation.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)
    credited = invoice.credit_applications.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    invoice.amount_paid = paid
    invoice.credits_applied = credited
    invoice.balance_due = max(invoice.total - paid - credited, Decimal(0))
    if invoice.status in PAYABLE_STATUSES:
        if invoice.balance_due == 0:
            invoice.status = InvoiceStatus.PAID
        elif paid + credited > 0:
            invoice.status = InvoiceStatus.PARTIALLY_PAID
        else:
            invoice.status = InvoiceStatus.SENT
    invoice.save(
        update_fields=["amount_paid", "credits_applied", "balance_due", "status", "updated_at"]
    )
    return invoice
