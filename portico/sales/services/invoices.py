"""Invoices: create, edit, mark as sent, void.

Payments (portico.payments) and credit notes change an invoice's balance
through ``portico.sales.services.balances``; this module keeps an invoice's
own state. Every change locks the invoice row, so two people cannot, say,
void an invoice while a payment is being recorded against it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.money import format_money
from portico.sales.history import history_record
from portico.sales.models import DocumentType, Invoice, InvoiceLine, InvoiceStatus
from portico.sales.numbering import number_take
from portico.sales.services.balances import invoice_lock, invoice_refresh_balance
from portico.sales.services.common import (
    DocumentData,
    DocumentStateError,
    SalesError,
    address_text,
    check_currency,
    contacts_for_document,
    customer_for_document,
    prepare_lines,
    replace_lines,
)

MAX_PAYMENT_TERMS = 3650


@dataclass
class InvoiceData(DocumentData):
    """An invoice's fields as staff edit them.

    ``due_date`` left empty follows from the date and the payment terms;
    ``payment_terms`` left empty are the customer's; ``allow_partial_payments``
    left empty is the organisation's default.
    """

    due_date: date | None = None
    payment_terms: int | None = None
    allow_partial_payments: bool | None = None


def invoice_due_date(*, invoice_date: date, payment_terms: int) -> date:
    """When an invoice dated ``invoice_date`` is due: ``payment_terms`` days later."""
    return invoice_date + timedelta(days=payment_terms)


def _terms_and_due_date(*, data: InvoiceData, default_terms: int) -> tuple[int, date]:
    terms = default_terms if data.payment_terms is None else data.payment_terms
    if not 0 <= terms <= MAX_PAYMENT_TERMS:
        raise SalesError(
            _("Payment terms must be between 0 and %(max)s days.") % {"max": MAX_PAYMENT_TERMS},
            field="payment_terms",
        )
    due_date = data.due_date or invoice_due_date(invoice_date=data.date, payment_terms=terms)
    if due_date < data.date:
        raise SalesError(_("The due date cannot be before the invoice date."), field="due_date")
    return terms, due_date


def invoice_create(*, organization: Organization, data: InvoiceData, actor=None) -> Invoice:
    """A draft invoice made from scratch, numbered in the same transaction."""
    customer = customer_for_document(organization=organization, customer_id=data.customer_id)
    currency = check_currency(customer=customer, currency=data.currency)
    contacts = contacts_for_document(customer=customer, contact_ids=data.contact_ids)
    lines = prepare_lines(organization=organization, lines=data.lines)
    terms, due_date = _terms_and_due_date(data=data, default_terms=customer.payment_terms)
    allow_partial = (
        organization.allow_partial_payments
        if data.allow_partial_payments is None
        else data.allow_partial_payments
    )
    with transaction.atomic():
        invoice = Invoice.objects.create(
            organization=organization,
            customer=customer,
            number=number_take(organization=organization, document_type=DocumentType.INVOICE),
            date=data.date,
            due_date=due_date,
            payment_terms=terms,
            reference=data.reference,
            currency=currency,
            billing_address=address_text(customer, "billing"),
            shipping_address=address_text(customer, "shipping"),
            notes=data.notes,
            terms=data.terms,
            allow_partial_payments=allow_partial,
            status=InvoiceStatus.DRAFT,
            created_by=actor,
        )
        replace_lines(document=invoice, line_model=InvoiceLine, lines=lines)
        invoice.balance_due = invoice.total
        invoice.save()
        invoice.contacts.set(contacts)
        history_record(document=invoice, kind="created", actor=actor)
    return invoice


def invoice_check_editable(*, invoice: Invoice) -> None:
    """Raise DocumentStateError unless staff may edit ``invoice`` now."""
    if invoice.status == InvoiceStatus.VOID:
        raise DocumentStateError(_("A void invoice cannot be edited."))
    if invoice.status == InvoiceStatus.PAID:
        raise DocumentStateError(_("A paid invoice cannot be edited."))


def invoice_update(*, invoice: Invoice, data: InvoiceData, actor=None) -> Invoice:
    """Save staff's edits of a draft, sent or partly paid invoice.

    Payments and credits already applied stay: the customer cannot change,
    and the new total may not fall below what has been paid or credited.
    """
    organization = invoice.organization
    customer = customer_for_document(organization=organization, customer_id=data.customer_id)
    contacts = contacts_for_document(customer=customer, contact_ids=data.contact_ids)
    lines = prepare_lines(organization=organization, lines=data.lines)
    with transaction.atomic():
        locked = invoice_lock(organization=organization, invoice_id=invoice.pk)
        invoice_check_editable(invoice=locked)
        settled = locked.amount_paid + locked.credits_applied
        customer_changed = customer.pk != locked.customer_id
        if customer_changed and settled > 0:
            raise DocumentStateError(
                _(
                    "Payments or credits are applied to this invoice, so its customer "
                    "cannot change."
                ),
                field="customer",
            )
        # Lines are in the invoice's currency; a new customer brings theirs.
        if customer_changed:
            currency = check_currency(customer=customer, currency=data.currency)
        elif data.currency and data.currency != locked.currency:
            raise SalesError(
                _("This invoice is in %(expected)s; lines in %(given)s cannot be added.")
                % {"expected": locked.currency, "given": data.currency},
                field="currency",
            )
        else:
            currency = locked.currency
        terms, due_date = _terms_and_due_date(data=data, default_terms=locked.payment_terms)
        locked.customer = customer
        locked.currency = currency
        if customer_changed:
            locked.billing_address = address_text(customer, "billing")
            locked.shipping_address = address_text(customer, "shipping")
        locked.date = data.date
        locked.due_date = due_date
        locked.payment_terms = terms
        locked.reference = data.reference
        locked.notes = data.notes
        locked.terms = data.terms
        if data.allow_partial_payments is not None:
            locked.allow_partial_payments = data.allow_partial_payments
        replace_lines(document=locked, line_model=InvoiceLine, lines=lines)
        if locked.total < settled:
            raise SalesError(
                _(
                    "The total cannot be less than the %(amount)s already paid or credited "
                    "on this invoice."
                )
                % {"amount": format_money(settled, locked.currency)},
                field="lines",
            )
        locked.save()
        locked.contacts.set(contacts)
        invoice_refresh_balance(invoice=locked)
        history_record(document=locked, kind="edited", actor=actor)
    return locked


def invoice_mark_sent(*, invoice: Invoice, actor=None) -> Invoice:
    """A draft invoice becomes sent: the customer now owes its balance."""
    with transaction.atomic():
        locked = invoice_lock(organization=invoice.organization, invoice_id=invoice.pk)
        if locked.status == InvoiceStatus.VOID:
            raise DocumentStateError(_("A void invoice cannot be sent."))
        if locked.status != InvoiceStatus.DRAFT:
            raise DocumentStateError(_("This invoice has already been sent."))
        locked.status = InvoiceStatus.SENT
        locked.sent_at = timezone.now()
        locked.save(update_fields=["status", "sent_at", "updated_at"])
        # Credits applied to the draft, or a zero total, settle it at once.
        invoice_refresh_balance(invoice=locked)
        history_record(document=locked, kind="sent", actor=actor)
    return locked


def invoice_void(*, invoice: Invoice, actor=None) -> Invoice:
    """Cancel an invoice: nothing is owed on it any more. Refused while
    payments or credits are applied to it, naming them."""
    from portico.payments.models import PaymentAllocation

    with transaction.atomic():
        locked = invoice_lock(organization=invoice.organization, invoice_id=invoice.pk)
        if locked.status == InvoiceStatus.VOID:
            raise DocumentStateError(_("This invoice is already void."))
        payments = list(
            PaymentAllocation.objects.filter(invoice=locked)
            .order_by("payment__date", "payment_id")
            .values_list("payment__number", flat=True)
        )
        if payments:
            raise DocumentStateError(
                _(
                    "Payments are recorded against this invoice (%(payments)s). Delete them "
                    "before voiding it."
                )
                % {"payments": ", ".join(payments)}
            )
        credits = list(
            locked.credit_applications.order_by("date", "id").values_list(
                "credit_note__number", flat=True
            )
        )
        if credits:
            raise DocumentStateError(
                _(
                    "Credits are applied to this invoice (%(credit_notes)s). Remove them "
                    "before voiding it."
                )
                % {"credit_notes": ", ".join(dict.fromkeys(credits))}
            )
        locked.status = InvoiceStatus.VOID
        locked.voided_at = timezone.now()
        locked.balance_due = Decimal(0)
        locked.save(update_fields=["status", "voided_at", "balance_due", "updated_at"])
        history_record(document=locked, kind="voided", actor=actor)
    return locked
