"""Sales orders: create, edit, confirm, record fulfilment, convert to invoice, void."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.sales.history import history_record
from portico.sales.models import (
    DocumentType,
    FulfilmentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
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
    prepare_lines,
    replace_lines,
)
from portico.sales.services.invoices import invoice_due_date

EDITABLE_STATUSES = (SalesOrderStatus.DRAFT, SalesOrderStatus.CONFIRMED)
# Fulfilment is recorded once an order is confirmed, before or after invoicing.
SHIPPABLE_STATUSES = (SalesOrderStatus.CONFIRMED, SalesOrderStatus.INVOICED)


@dataclass
class SalesOrderData(DocumentData):
    expected_shipment_date: date | None = None


def _check_dates(data: SalesOrderData) -> None:
    if data.expected_shipment_date and data.expected_shipment_date < data.date:
        raise SalesError(
            _("The expected shipment date cannot be before the order date."),
            field="expected_shipment_date",
        )


def _lock(order: SalesOrder) -> SalesOrder:
    return SalesOrder.objects.select_for_update().get(
        organization_id=order.organization_id, pk=order.pk
    )


def sales_order_create(
    *, organization: Organization, data: SalesOrderData, actor=None
) -> SalesOrder:
    """A draft sales order, numbered in the same transaction."""
    customer = customer_for_document(organization=organization, customer_id=data.customer_id)
    currency = check_currency(customer=customer, currency=data.currency)
    contacts = contacts_for_document(customer=customer, contact_ids=data.contact_ids)
    lines = prepare_lines(organization=organization, lines=data.lines)
    _check_dates(data)
    with transaction.atomic():
        order = SalesOrder.objects.create(
            organization=organization,
            customer=customer,
            number=number_take(organization=organization, document_type=DocumentType.SALES_ORDER),
            date=data.date,
            expected_shipment_date=data.expected_shipment_date,
            reference=data.reference,
            currency=currency,
            billing_address=address_text(customer, "billing"),
            shipping_address=address_text(customer, "shipping"),
            notes=data.notes,
            terms=data.terms,
            status=SalesOrderStatus.DRAFT,
            created_by=actor,
        )
        replace_lines(document=order, line_model=SalesOrderLine, lines=lines)
        order.save()
        order.contacts.set(contacts)
        history_record(document=order, kind="created", actor=actor)
    return order


def sales_order_check_editable(*, order: SalesOrder) -> None:
    """Raise DocumentStateError unless staff may edit ``order`` now."""
    if order.status == SalesOrderStatus.INVOICED:
        raise DocumentStateError(_("An invoiced sales order cannot be edited."))
    if order.status == SalesOrderStatus.VOID:
        raise DocumentStateError(_("A void sales order cannot be edited."))


def sales_order_update(*, order: SalesOrder, data: SalesOrderData, actor=None) -> SalesOrder:
    """Save staff's edits of a draft or confirmed order."""
    organization = order.organization
    customer = customer_for_document(organization=organization, customer_id=data.customer_id)
    contacts = contacts_for_document(customer=customer, contact_ids=data.contact_ids)
    lines = prepare_lines(organization=organization, lines=data.lines)
    _check_dates(data)
    with transaction.atomic():
        locked = _lock(order)
        sales_order_check_editable(order=locked)
        if customer.pk != locked.customer_id:
            locked.currency = check_currency(customer=customer, currency=data.currency)
            locked.customer = customer
            locked.billing_address = address_text(customer, "billing")
            locked.shipping_address = address_text(customer, "shipping")
        elif data.currency and data.currency != locked.currency:
            raise SalesError(
                _("This sales order is in %(expected)s; lines in %(given)s cannot be added.")
                % {"expected": locked.currency, "given": data.currency},
                field="currency",
            )
        locked.date = data.date
        locked.expected_shipment_date = data.expected_shipment_date
        locked.reference = data.reference
        locked.notes = data.notes
        locked.terms = data.terms
        replace_lines(document=locked, line_model=SalesOrderLine, lines=lines)
        locked.save()
        locked.contacts.set(contacts)
        history_record(document=locked, kind="edited", actor=actor)
    return locked


def sales_order_confirm(*, order: SalesOrder, actor=None) -> SalesOrder:
    """A draft order becomes confirmed: the customer has ordered."""
    with transaction.atomic():
        locked = _lock(order)
        if locked.status != SalesOrderStatus.DRAFT:
            raise DocumentStateError(_("Only a draft sales order can be confirmed."))
        locked.status = SalesOrderStatus.CONFIRMED
        locked.save(update_fields=["status", "updated_at"])
        history_record(document=locked, kind="confirmed", actor=actor)
    return locked


def sales_order_set_fulfilment(
    *,
    order: SalesOrder,
    fulfilment_status: str,
    shipment_date: date | None = None,
    carrier: str = "",
    tracking_number: str = "",
    actor=None,
) -> SalesOrder:
    """Record how far the order has shipped, with the shipment's date,
    carrier and tracking number. Shipped requires a shipment date."""
    if fulfilment_status not in FulfilmentStatus.values:
        raise SalesError(_("Choose a fulfilment status."), field="fulfilment_status")
    carrier = carrier.strip()
    tracking_number = tracking_number.strip()
    if fulfilment_status == FulfilmentStatus.NOT_SHIPPED:
        shipment_date, carrier, tracking_number = None, "", ""
    elif fulfilment_status == FulfilmentStatus.SHIPPED and shipment_date is None:
        raise SalesError(_("Enter the shipment date of a shipped order."), field="shipment_date")
    with transaction.atomic():
        locked = _lock(order)
        if locked.status == SalesOrderStatus.DRAFT:
            raise DocumentStateError(_("Confirm the sales order before recording its shipment."))
        if locked.status not in SHIPPABLE_STATUSES:
            raise DocumentStateError(_("A void sales order cannot be shipped."))
        if shipment_date and shipment_date < locked.date:
            raise SalesError(
                _("The shipment date cannot be before the order date."), field="shipment_date"
            )
        locked.fulfilment_status = fulfilment_status
        locked.shipment_date = shipment_date
        locked.carrier = carrier
        locked.tracking_number = tracking_number
        locked.save(
            update_fields=[
                "fulfilment_status",
                "shipment_date",
                "carrier",
                "tracking_number",
                "updated_at",
            ]
        )
        history_record(document=locked, kind=f"fulfilment_{fulfilment_status}", actor=actor)
    return locked


def sales_order_convert_to_invoice(*, order: SalesOrder, actor=None) -> Invoice:
    """A draft invoice with the order's lines; the order becomes invoiced."""
    with transaction.atomic():
        locked = _lock(order)
        if locked.status == SalesOrderStatus.VOID:
            raise DocumentStateError(_("A void sales order cannot be converted to an invoice."))
        if locked.status == SalesOrderStatus.INVOICED:
            existing = locked.invoices.order_by("id").values_list("number", flat=True).first()
            raise DocumentStateError(
                _("This sales order has already been invoiced (%(invoice)s).")
                % {"invoice": existing}
                if existing
                else _("This sales order has already been invoiced.")
            )
        organization = locked.organization
        customer = locked.customer
        today = timezone.localdate()
        invoice = Invoice(
            organization=organization,
            customer=customer,
            quote_id=locked.quote_id,
            sales_order=locked,
            number=number_take(organization=organization, document_type=DocumentType.INVOICE),
            date=today,
            due_date=invoice_due_date(invoice_date=today, payment_terms=customer.payment_terms),
            payment_terms=customer.payment_terms,
            reference=locked.reference,
            currency=locked.currency,
            billing_address=locked.billing_address,
            shipping_address=locked.shipping_address,
            notes=locked.notes,
            terms=locked.terms,
            allow_partial_payments=organization.allow_partial_payments,
            status=InvoiceStatus.DRAFT,
            created_by=actor,
        )
        invoice.save()
        copy_lines(source=locked, target=invoice, line_model=InvoiceLine)
        invoice.balance_due = invoice.total
        invoice.save()
        invoice.contacts.set(locked.contacts.all())
        locked.status = SalesOrderStatus.INVOICED
        locked.save(update_fields=["status", "updated_at"])
        history_record(document=locked, kind="converted", actor=actor, target=invoice.number)
        history_record(document=invoice, kind="created_from", actor=actor, source=locked.number)
    return invoice


def sales_order_void(*, order: SalesOrder, actor=None) -> SalesOrder:
    """Cancel an order that has not been invoiced."""
    with transaction.atomic():
        locked = _lock(order)
        if locked.status == SalesOrderStatus.VOID:
            raise DocumentStateError(_("This sales order is already void."))
        if locked.status == SalesOrderStatus.INVOICED:
            raise DocumentStateError(_("An invoiced sales order cannot be voided."))
        locked.status = SalesOrderStatus.VOID
        locked.save(update_fields=["status", "updated_at"])
        history_record(document=locked, kind="voided", actor=actor)
    return locked
