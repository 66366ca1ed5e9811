"""Credit notes: what a business owes back to a customer, applied to its invoices.

A credit note is a draft while staff edit it (lines like an invoice's,
optionally against one invoice of the same customer), then open: its total
becomes credit to apply to the customer's open invoices. It closes when
nothing remains, and can be voided until credit has been applied.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.money import format_money
from portico.customers.models import Customer
from portico.sales.history import history_record
from portico.sales.models import (
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    DocumentType,
    Invoice,
    InvoiceStatus,
)
from portico.sales.numbering import number_take
from portico.sales.services.balances import invoice_lock, invoice_refresh_balance
from portico.sales.services.common import (
    DocumentData,
    DocumentStateError,
    SalesError,
    address_text,
    check_currency,
    customer_for_document,
    prepare_lines,
    replace_lines,
)
from portico.sales.services.invoice_applications import applications_lock, applications_merge

# Invoices a credit note may be raised against: issued ones, not drafts or void.
CREDITABLE_INVOICE_STATUSES = (
    InvoiceStatus.SENT,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
)


@dataclass
class CreditNoteData(DocumentData):
    """A credit note's fields as staff edit them."""

    invoice_id: int | None = None
    reason: str = ""


def _related_invoice(
    *, organization: Organization, customer: Customer, invoice_id: int | None
) -> Invoice | None:
    if not invoice_id:
        return None
    invoice = Invoice.objects.filter(organization=organization, pk=invoice_id).first()
    if invoice is None or invoice.customer_id != customer.pk:
        raise SalesError(
            _("Choose an invoice of %(customer)s.") % {"customer": customer.display_name},
            field="invoice",
        )
    if invoice.status not in CREDITABLE_INVOICE_STATUSES:
        raise SalesError(
            _(
                "%(invoice)s is %(status)s: a credit note can only be raised against an issued "
                "invoice."
            )
            % {"invoice": invoice.number, "status": invoice.get_status_display().lower()},
            field="invoice",
        )
    return invoice


def _lock(*, credit_note: CreditNote) -> CreditNote:
    return CreditNote.objects.select_for_update().get(
        organization_id=credit_note.organization_id, pk=credit_note.pk
    )


def credit_note_create(
    *, organization: Organization, data: CreditNoteData, actor=None
) -> CreditNote:
    """A draft credit note, numbered in the same transaction."""
    customer = customer_for_document(organization=organization, customer_id=data.customer_id)
    currency = check_currency(customer=customer, currency=data.currency)
    invoice = _related_invoice(
        organization=organization, customer=customer, invoice_id=data.invoice_id
    )
    if invoice is not None and invoice.currency != currency:
        raise SalesError(
            _("%(invoice)s is in %(invoice_currency)s; this credit note would be in %(currency)s.")
            % {
                "invoice": invoice.number,
                "invoice_currency": invoice.currency,
                "currency": currency,
            },
            field="invoice",
        )
    lines = prepare_lines(organization=organization, lines=data.lines)
    with transaction.atomic():
        credit_note = CreditNote.objects.create(
            organization=organization,
            customer=customer,
            number=number_take(organization=organization, document_type=DocumentType.CREDIT_NOTE),
            date=data.date,
            reference=data.reference.strip(),
            currency=currency,
            billing_address=address_text(customer, "billing"),
            shipping_address=address_text(customer, "shipping"),
            notes=data.notes,
            terms=data.terms,
            invoice=invoice,
            reason=data.reason.strip(),
            status=CreditNoteStatus.DRAFT,
            created_by=actor,
        )
        replace_lines(document=credit_note, line_model=CreditNoteLine, lines=lines)
        credit_note.save()
        history_record(document=credit_note, kind="created", actor=actor)
    return credit_note


def credit_note_update(*, credit_note: CreditNote, data: CreditNoteData, actor=None) -> CreditNote:
    """Save staff's edits of a draft credit note; an open one no longer changes."""
    organization = credit_note.organization
    customer = customer_for_document(organization=organization, customer_id=data.customer_id)
    invoice = _related_invoice(
        organization=organization, customer=customer, invoice_id=data.invoice_id
    )
    lines = prepare_lines(organization=organization, lines=data.lines)
    with transaction.atomic():
        locked = _lock(credit_note=credit_note)
        if locked.status != CreditNoteStatus.DRAFT:
            raise DocumentStateError(
                _("Only a draft credit note can be edited; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        if customer.pk != locked.customer_id:
            locked.currency = check_currency(customer=customer, currency=data.currency)
            locked.billing_address = address_text(customer, "billing")
            locked.shipping_address = address_text(customer, "shipping")
        elif data.currency and data.currency != locked.currency:
            raise SalesError(
                _("This credit note is in %(expected)s; lines in %(given)s cannot be added.")
                % {"expected": locked.currency, "given": data.currency},
                field="currency",
            )
        if invoice is not None and invoice.currency != locked.currency:
            raise SalesError(
                _("%(invoice)s is in %(invoice_currency)s, not %(currency)s.")
                % {
                    "invoice": invoice.number,
                    "invoice_currency": invoice.currency,
                    "currency": locked.currency,
                },
                field="invoice",
            )
        locked.customer = customer
        locked.date = data.date
        locked.reference = data.reference.strip()
        locked.notes = data.notes
        locked.terms = data.terms
        locked.invoice = invoice
        locked.reason = data.reason.strip()
        replace_lines(document=locked, line_model=CreditNoteLine, lines=lines)
        locked.save()
        history_record(document=locked, kind="edited", actor=actor)
    return locked


def credit_note_open(*, credit_note: CreditNote, actor=None) -> CreditNote:
    """Draft → open: the whole total becomes credit the customer can use."""
    with transaction.atomic():
        locked = _lock(credit_note=credit_note)
        if locked.status != CreditNoteStatus.DRAFT:
            raise DocumentStateError(
                _("Only a draft credit note can be opened; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        if locked.total <= 0:
            raise DocumentStateError(_("A credit note of zero cannot be opened."))
        locked.status = CreditNoteStatus.OPEN
        locked.credits_remaining = locked.total
        locked.save(update_fields=["status", "credits_remaining", "updated_at"])
        history_record(document=locked, kind="opened", actor=actor)
    return locked


def credit_note_apply(
    *,
    credit_note: CreditNote,
    applications: Iterable[tuple[int, Decimal]],
    actor=None,
) -> CreditNote:
    """Apply credit to open invoices of the same customer, in the same currency.

    ``applications`` are (invoice id, amount) pairs; together they may not
    exceed the credit remaining, nor each the invoice's balance due. The
    credit note closes when nothing remains.
    """
    organization = credit_note.organization
    with transaction.atomic():
        locked = _lock(credit_note=credit_note)
        if locked.status != CreditNoteStatus.OPEN:
            raise DocumentStateError(
                _("Only an open credit note can be applied; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        amounts = applications_merge(applications=applications, currency=locked.currency)
        if not amounts:
            raise SalesError(_("Enter an amount to apply to an invoice."), field="invoices")
        checked = applications_lock(
            organization=organization,
            customer=locked.customer,
            currency=locked.currency,
            amounts=amounts,
            full_payment_rule=False,
        )
        applied = sum((application.amount for application in checked), Decimal(0))
        if applied > locked.credits_remaining:
            raise SalesError(
                _("Only %(remaining)s of credit remains; %(applied)s cannot be applied.")
                % {
                    "remaining": format_money(locked.credits_remaining, locked.currency),
                    "applied": format_money(applied, locked.currency),
                },
                field="invoices",
            )
        today = timezone.localdate()
        CreditApplication.objects.bulk_create(
            [
                CreditApplication(
                    organization=organization,
                    credit_note=locked,
                    invoice=application.invoice,
                    amount=application.amount,
                    date=today,
                )
                for application in checked
            ]
        )
        locked.credits_remaining -= applied
        if locked.credits_remaining == 0:
            locked.status = CreditNoteStatus.CLOSED
        locked.save(update_fields=["credits_remaining", "status", "updated_at"])
        for application in checked:
            invoice_refresh_balance(invoice=application.invoice)
            amount = format_money(application.amount, locked.currency)
            history_record(
                document=application.invoice,
                kind="credit_applied",
                actor=actor,
                credit_note=locked.number,
                amount=amount,
            )
            history_record(
                document=locked,
                kind="credit_applied_to",
                actor=actor,
                amount=amount,
                invoice=application.invoice.number,
            )
    return locked


def credit_application_remove(
    *, organization: Organization, application_id: int, actor=None
) -> CreditNote:
    """Take back credit applied to an invoice: the invoice owes it again and the
    credit note has it to apply elsewhere (a closed one reopens)."""
    with transaction.atomic():
        application = (
            CreditApplication.objects.filter(organization=organization, pk=application_id)
            .only("id", "credit_note_id", "invoice_id")
            .first()
        )
        if application is None:
            raise SalesError(_("This credit is no longer applied."))
        locked = CreditNote.objects.select_for_update().get(
            organization=organization, pk=application.credit_note_id
        )
        invoice = invoice_lock(organization=organization, invoice_id=application.invoice_id)
        # Removed by someone else while this waited for the locks?
        application = CreditApplication.objects.filter(pk=application.pk).first()
        if application is None:
            raise SalesError(_("This credit is no longer applied."))
        if invoice.status == InvoiceStatus.VOID:
            raise DocumentStateError(_("Credit applied to a void invoice cannot be removed."))
        application.delete()
        locked.credits_remaining += application.amount
        if locked.status == CreditNoteStatus.CLOSED:
            locked.status = CreditNoteStatus.OPEN
        locked.save(update_fields=["credits_remaining", "status", "updated_at"])
        invoice_refresh_balance(invoice=invoice)
        amount = format_money(application.amount, locked.currency)
        history_record(
            document=invoice,
            kind="credit_removed",
            actor=actor,
            credit_note=locked.number,
            amount=amount,
        )
        history_record(
            document=locked,
            kind="credit_removed_from",
            actor=actor,
            amount=amount,
            invoice=invoice.number,
        )
    return locked


def credit_note_void(*, credit_note: CreditNote, actor=None) -> CreditNote:
    """Cancel a draft or open credit note; refused once any credit was applied."""
    with transaction.atomic():
        locked = _lock(credit_note=credit_note)
        if locked.status == CreditNoteStatus.VOID:
            raise DocumentStateError(_("This credit note is already void."))
        invoices = list(
            locked.applications.order_by("date", "id").values_list("invoice__number", flat=True)
        )
        if invoices:
            raise DocumentStateError(
                _(
                    "Credit from this note is applied to %(invoices)s. Remove it from the "
                    "invoices before voiding the credit note."
                )
                % {"invoices": ", ".join(dict.fromkeys(invoices))}
            )
        locked.status = CreditNoteStatus.VOID
        locked.credits_remaining = Decimal(0)
        locked.save(update_fields=["status", "credits_remaining", "updated_at"])
        history_record(document=locked, kind="voided", actor=actor)
    return locked
