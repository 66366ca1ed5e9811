"""Quotes: create, edit (a sent quote is revised, never silently changed),
mark sent / accepted / declined, convert to a sales order or an invoice.

Every state change locks the quote row (SELECT … FOR UPDATE) inside one
transaction, so two people clicking at once cannot both convert a quote.
"""

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.sales.history import history_record
from portico.sales.models import (
    DocumentEvent,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Quote,
    QuoteLine,
    QuoteRevision,
    QuoteStatus,
    SalesOrder,
    SalesOrderLine,
    SalesOrderStatus,
)
from portico.sales.numbering import number_take
from portico.sales.services.common import (
    DocumentData,
    DocumentStateError,
    SalesError,
    address_text,
    check_currency,
    contacts_for_document,
    copy_lines,
    customer_for_document,
    document_snapshot,
    prepare_lines,
    replace_lines,
)
from portico.sales.services.invoices import invoice_due_date

EDITABLE_STATUSES = (QuoteStatus.DRAFT, QuoteStatus.SENT)
# Staff record the customer's decision on a sent quote (expired ones too:
# the customer may still say yes after the date).
DECIDABLE_STATUSES = (QuoteStatus.SENT,)
CONVERTIBLE_STATUSES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED)


def _lock(quote: Quote) -> Quote:
    """The quote re-read and locked for the rest of the caller's transaction."""
    return Quote.objects.select_for_update().get(organization_id=quote.organization_id, pk=quote.pk)


def quote_state_message(quote: Quote) -> str:
    """Why a quote that was decided or invoiced cannot change any more."""
    messages = {
        QuoteStatus.ACCEPTED: _("Quote %(number)s has been accepted and can no longer change."),
        QuoteStatus.DECLINED: _("Quote %(number)s has been declined and can no longer change."),
        QuoteStatus.INVOICED: _("Quote %(number)s has been invoiced and can no longer change."),
    }
    message = messages.get(quote.status, _("Quote %(number)s can no longer change."))
    return message % {"number": quote.number}


def _check_expiry(*, quote_date: date, expiry_date: date | None) -> None:
    if expiry_date and expiry_date < quote_date:
        raise SalesError(_("The expiry date cannot be before the quote date."), field="expiry_date")


def _record_revision(*, quote: Quote, actor) -> QuoteRevision:
    """Store the quote as the customer now sees it, as its next revision."""
    snapshot, content_hash = document_snapshot(quote)
    quote.revision += 1
    quote.save(update_fields=["revision", "updated_at"])
    return QuoteRevision.objects.create(
        organization_id=quote.organization_id,
        quote=quote,
        number=quote.revision,
        snapshot=snapshot,
        content_hash=content_hash,
        created_by=actor,
    )


def quote_create(
    *, organization: Organization, data: DocumentData, expiry_date: date | None, actor
) -> Quote:
    """A draft quote with its lines, numbered QT-00001 … in this organisation."""
    with transaction.atomic():
        customer = customer_for_document(organization=organization, customer_id=data.customer_id)
        currency = check_currency(customer=customer, currency=data.currency)
        contacts = contacts_for_document(customer=customer, contact_ids=data.contact_ids)
        _check_expiry(quote_date=data.date, expiry_date=expiry_date)
        lines = prepare_lines(organization=organization, lines=data.lines)
        quote = Quote(
            organization=organization,
            customer=customer,
            number=number_take(organization=organization, document_type=DocumentType.QUOTE),
            date=data.date,
            expiry_date=expiry_date,
            reference=data.reference,
            currency=currency,
            billing_address=address_text(customer, "billing"),
            shipping_address=address_text(customer, "shipping"),
            notes=data.notes,
            terms=data.terms,
            created_by=actor,
        )
        quote.save()
        replace_lines(document=quote, line_model=QuoteLine, lines=lines)
        quote.save(update_fields=["subtotal", "discount_total", "tax_total", "total"])
        quote.contacts.set(contacts)
        history_record(document=quote, kind="created", actor=actor)
    return quote


def quote_update(*, quote: Quote, data: DocumentData, expiry_date: date | None, actor) -> Quote:
    """Change a draft freely; a sent quote's change becomes a new revision.

    Accepted, declined and invoiced quotes are final: a new quote is the way
    to offer something else.
    """
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status not in EDITABLE_STATUSES:
            raise DocumentStateError(quote_state_message(quote))
        organization = quote.organization
        customer = customer_for_document(organization=organization, customer_id=data.customer_id)
        if quote.status == QuoteStatus.SENT and customer.pk != quote.customer_id:
            raise SalesError(
                _("A sent quote stays with its customer. Create a new quote for another customer."),
                field="customer",
            )
        currency = check_currency(customer=customer, currency=data.currency)
        contacts = contacts_for_document(customer=customer, contact_ids=data.contact_ids)
        _check_expiry(quote_date=data.date, expiry_date=expiry_date)
        lines = prepare_lines(organization=organization, lines=data.lines)
        if quote.status == QuoteStatus.DRAFT:
            # A draft follows its customer's current addresses.
            quote.billing_address = address_text(customer, "billing")
            quote.shipping_address = address_text(customer, "shipping")
        quote.customer = customer
        quote.currency = currency
        quote.date = data.date
        quote.expiry_date = expiry_date
        quote.reference = data.reference
        quote.notes = data.notes
        quote.terms = data.terms
        replace_lines(document=quote, line_model=QuoteLine, lines=lines)
        quote.save()
        quote.contacts.set(contacts)
        revised = False
        if quote.status == QuoteStatus.SENT:
            latest = quote.revisions.order_by("-number").first()
            _snapshot, content_hash = document_snapshot(quote)
            if latest is None or latest.content_hash != content_hash:
                _record_revision(quote=quote, actor=actor)
                history_record(document=quote, kind="revised", actor=actor, revision=quote.revision)
                revised = True
        if not revised:
            history_record(document=quote, kind="edited", actor=actor)
    return quote


def quote_mark_sent(*, quote: Quote, actor) -> Quote:
    """Draft → sent; what was sent is recorded as revision 1."""
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status != QuoteStatus.DRAFT:
            raise DocumentStateError(
                _("Quote %(number)s has already been sent.") % {"number": quote.number}
            )
        if quote.expiry_date and quote.expiry_date < timezone.localdate():
            raise SalesError(
                _("The expiry date has passed. Change it before sending the quote."),
                field="expiry_date",
            )
        quote.status = QuoteStatus.SENT
        quote.sent_at = timezone.now()
        quote.save(update_fields=["status", "sent_at", "updated_at"])
        _record_revision(quote=quote, actor=actor)
        history_record(document=quote, kind="sent", actor=actor, revision=quote.revision)
    return quote


def _quote_decide(*, quote: Quote, status: str, actor) -> Quote:
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status not in DECIDABLE_STATUSES:
            if quote.status == QuoteStatus.DRAFT:
                raise DocumentStateError(
                    _("Mark quote %(number)s as sent first.") % {"number": quote.number}
                )
            raise DocumentStateError(quote_state_message(quote))
        quote.status = status
        quote.decided_at = timezone.now()
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        history_record(document=quote, kind=status, actor=actor, revision=quote.revision)
    return quote


def quote_mark_accepted(*, quote: Quote, actor) -> Quote:
    """Staff record that the customer accepted the quote (sent or expired)."""
    return _quote_decide(quote=quote, status=QuoteStatus.ACCEPTED, actor=actor)


def quote_mark_declined(*, quote: Quote, actor) -> Quote:
    """Staff record that the customer declined the quote (sent or expired)."""
    return _quote_decide(quote=quote, status=QuoteStatus.DECLINED, actor=actor)


def _check_convertible(quote: Quote) -> None:
    if quote.status in CONVERTIBLE_STATUSES:
        return
    messages = {
        QuoteStatus.DRAFT: _("Mark quote %(number)s as sent before converting it."),
        QuoteStatus.DECLINED: _("Quote %(number)s was declined and cannot be converted."),
        QuoteStatus.INVOICED: _("Quote %(number)s has already been invoiced."),
    }
    message = messages.get(quote.status, _("Quote %(number)s cannot be converted."))
    raise DocumentStateError(message % {"number": quote.number})


def quote_convert_to_sales_order(*, quote: Quote, actor) -> SalesOrder:
    """A draft sales order with the quote's lines; the quote keeps its status."""
    with transaction.atomic():
        quote = _lock(quote)
        _check_convertible(quote)
        existing = quote.sales_orders.order_by("id").first()
        if existing is not None:
            raise DocumentStateError(
                _("Quote %(number)s has already been converted to sales order %(order)s.")
                % {"number": quote.number, "order": existing.number}
            )
        order = SalesOrder(
            organization_id=quote.organization_id,
            customer_id=quote.customer_id,
            quote=quote,
            number=number_take(
                organization=quote.organization, document_type=DocumentType.SALES_ORDER
            ),
            date=timezone.localdate(),
            reference=quote.reference,
            currency=quote.currency,
            billing_address=quote.billing_address,
            shipping_address=quote.shipping_address,
            notes=quote.notes,
            terms=quote.terms,
            status=SalesOrderStatus.DRAFT,
            created_by=actor,
        )
        _copy_totals(source=quote, target=order)
        order.save()
        copy_lines(source=quote, target=order, line_model=SalesOrderLine)
        order.contacts.set(quote.contacts.all())
        history_record(document=quote, kind="converted", actor=actor, target=order.number)
        history_record(document=order, kind="created_from", actor=actor, source=quote.number)
    return order


def quote_convert_to_invoice(*, quote: Quote, actor) -> Invoice:
    """A draft invoice with the quote's lines, due after the customer's
    payment terms; the quote becomes invoiced."""
    with transaction.atomic():
        quote = _lock(quote)
        _check_convertible(quote)
        organization = quote.organization
        customer = quote.customer
        invoice_date = timezone.localdate()
        invoice = Invoice(
            organization=organization,
            customer=customer,
            quote=quote,
            number=number_take(organization=organization, document_type=DocumentType.INVOICE),
            date=invoice_date,
            due_date=invoice_due_date(
                invoice_date=invoice_date, payment_terms=customer.payment_terms
            ),
            payment_terms=customer.payment_terms,
            reference=quote.reference,
            currency=quote.currency,
            billing_address=quote.billing_address,
            shipping_address=quote.shipping_address,
            notes=quote.notes,
            terms=quote.terms,
            status=InvoiceStatus.DRAFT,
            allow_partial_payments=organization.allow_partial_payments,
            created_by=actor,
        )
        _copy_totals(source=quote, target=invoice)
        invoice.balance_due = invoice.total
        invoice.save()
        copy_lines(source=quote, target=invoice, line_model=InvoiceLine)
        invoice.contacts.set(quote.contacts.all())
        quote.status = QuoteStatus.INVOICED
        quote.save(update_fields=["status", "updated_at"])
        history_record(document=quote, kind="converted", actor=actor, target=invoice.number)
        history_record(document=invoice, kind="created_from", actor=actor, source=quote.number)
    return invoice


def _copy_totals(*, source: Quote, target) -> None:
    for name in ("subtotal", "discount_total", "tax_total", "total"):
        setattr(target, name, getattr(source, name))


def quote_delete(*, quote: Quote) -> None:
    """Delete a draft quote, its lines and its history. A sent quote is part of
    the record with the customer and stays."""
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status != QuoteStatus.DRAFT:
            raise DocumentStateError(
                _("Only a draft quote can be deleted; quote %(number)s has been sent.")
                % {"number": quote.number}
            )
        DocumentEvent.objects.filter(
            organization_id=quote.organization_id,
            content_type=ContentType.objects.get_for_model(Quote),
            object_id=quote.pk,
        ).delete()
        quote.delete()
