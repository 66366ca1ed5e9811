"""What every sales document's services share: errors, line validation, totals."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.catalog.models import Item, Tax
from portico.core.errors import PorticoError
from portico.customers.models import ContactPerson, Customer
from portico.sales.totals import DocumentTotals, LineInput, document_totals

MAX_LINES = 200


class SalesError(PorticoError):
    """A document change that cannot be made; the message says why."""


class DocumentStateError(SalesError):
    """The document's status does not allow this (say, editing a void invoice)."""


@dataclass
class LineData:
    """One line as submitted: an item (optional) or free text."""

    description: str
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal = Decimal(0)
    unit: str = ""
    item_id: int | None = None
    tax_id: int | None = None


@dataclass
class DocumentData:
    """The fields staff edit on any sales document."""

    customer_id: int
    date: date
    lines: list[LineData]
    reference: str = ""
    notes: str = ""
    terms: str = ""
    contact_ids: list[int] = field(default_factory=list)
    # When given, it must be the customer's currency: a document's lines are
    # all in one currency, the customer's.
    currency: str = ""


def customer_for_document(*, organization: Organization, customer_id: int) -> Customer:
    customer = Customer.objects.filter(organization=organization, pk=customer_id).first()
    if customer is None:
        raise SalesError(_("Choose a customer."), field="customer")
    return customer


def contacts_for_document(*, customer: Customer, contact_ids: list[int]) -> list[ContactPerson]:
    contacts = list(ContactPerson.objects.filter(customer=customer, pk__in=contact_ids))
    if len(contacts) != len(set(contact_ids)):
        raise SalesError(
            _("A contact person chosen does not belong to this customer."), field="contacts"
        )
    return contacts


def check_currency(*, customer: Customer, currency: str) -> str:
    if currency and currency != customer.currency:
        raise SalesError(
            _(
                "%(customer)s is billed in %(expected)s; lines in %(given)s cannot be added. "
                "Change the customer's currency first."
            )
            % {"customer": customer.display_name, "expected": customer.currency, "given": currency},
            field="currency",
        )
    return customer.currency


@dataclass
class PreparedLine:
    data: LineData
    item: Item | None
    tax: Tax | None


def prepare_lines(*, organization: Organization, lines: list[LineData]) -> list[PreparedLine]:
    """Validate lines and resolve their items and taxes within the organisation."""
    if not lines:
        raise SalesError(_("Add at least one line."), field="lines")
    if len(lines) > MAX_LINES:
        raise SalesError(
            _("A document can have at most %(count)s lines.") % {"count": MAX_LINES},
            field="lines",
        )
    item_ids = {line.item_id for line in lines if line.item_id}
    tax_ids = {line.tax_id for line in lines if line.tax_id}
    items = Item.objects.filter(organization=organization).in_bulk(item_ids)
    taxes = Tax.objects.filter(organization=organization).in_bulk(tax_ids)
    prepared = []
    for position, line in enumerate(lines, start=1):
        if line.quantity is None or line.quantity <= 0:
            raise SalesError(
                _("Line %(line)s: the quantity must be more than zero.") % {"line": position},
                field="lines",
            )
        if line.rate is None or line.rate < 0:
            raise SalesError(
                _("Line %(line)s: the rate cannot be negative.") % {"line": position},
                field="lines",
            )
        if not (0 <= line.discount_percent <= 100):
            raise SalesError(
                _("Line %(line)s: the discount must be between 0 and 100%%.") % {"line": position},
                field="lines",
            )
        item = items.get(line.item_id) if line.item_id else None
        tax = taxes.get(line.tax_id) if line.tax_id else None
        if (line.item_id and item is None) or (line.tax_id and tax is None):
            raise SalesError(
                _("Line %(line)s: choose an item and tax of this organisation.")
                % {"line": position},
                field="lines",
            )
        if not line.description.strip() and item is None:
            raise SalesError(
                _("Line %(line)s: choose an item or describe the line.") % {"line": position},
                field="lines",
            )
        prepared.append(PreparedLine(data=line, item=item, tax=tax))
    return prepared


def replace_lines(
    *, document: models.Model, line_model: type[models.Model], lines: list[PreparedLine]
) -> DocumentTotals:
    """Make ``document``'s lines exactly ``lines`` and store the totals on it.

    The caller saves nothing else in between: lines and totals change together
    in its transaction.
    """
    totals = document_totals(
        (
            LineInput(
                quantity=line.data.quantity,
                rate=line.data.rate,
                discount_percent=line.data.discount_percent,
                tax_name=line.tax.name if line.tax else "",
                tax_rate=line.tax.rate if line.tax else Decimal(0),
            )
            for line in lines
        ),
        document.currency,
    )
    line_model.objects.filter(document=document).delete()
    line_model.objects.bulk_create(
        [
            line_model(
                organization_id=document.organization_id,
                document=document,
                position=position,
                item=line.item,
                description=line.data.description.strip() or (line.item.name if line.item else ""),
                quantity=line.data.quantity,
                unit=line.data.unit or (line.item.unit if line.item else ""),
                rate=line.data.rate,
                discount_percent=line.data.discount_percent,
                tax=line.tax,
                tax_name=line.tax.name if line.tax else "",
                tax_rate=line.tax.rate if line.tax else Decimal(0),
                discount_amount=computed.discount,
                amount=computed.amount,
                tax_amount=computed.tax,
            )
            for position, (line, computed) in enumerate(
                zip(lines, totals.lines, strict=True), start=1
            )
        ]
    )
    document.subtotal = totals.subtotal
    document.discount_total = totals.discount_total
    document.tax_total = totals.tax_total
    document.total = totals.total
    return totals


def copy_lines(*, source: models.Model, target: models.Model, line_model: type[models.Model]):
    """Copy a document's lines (quote → order → invoice) with their totals."""
    line_model.objects.bulk_create(
        [
            line_model(
                organization_id=target.organization_id,
                document=target,
                position=line.position,
                item_id=line.item_id,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                rate=line.rate,
                discount_percent=line.discount_percent,
                tax_id=line.tax_id,
                tax_name=line.tax_name,
                tax_rate=line.tax_rate,
                discount_amount=line.discount_amount,
                amount=line.amount,
                tax_amount=line.tax_amount,
            )
            for line in source.lines.all()
        ]
    )
    for name in ("subtotal", "discount_total", "tax_total", "total"):
        setattr(target, name, getattr(source, name))


def address_text(customer: Customer, kind: str) -> str:
    return "\n".join(customer.address_lines(kind))


def _plain(value: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 100.0000 → "100"."""
    return format(value.normalize(), "f")


def document_snapshot(document: models.Model) -> tuple[dict, str]:
    """A canonical JSON snapshot of what the customer sees, and its SHA-256."""
    snapshot = {
        "number": document.number,
        "date": document.date.isoformat(),
        "currency": document.currency,
        "customer": document.customer_id,
        "reference": document.reference,
        "notes": document.notes,
        "terms": document.terms,
        "expiry_date": getattr(document, "expiry_date", None) and document.expiry_date.isoformat(),
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": _plain(line.quantity),
                "unit": line.unit,
                "rate": _plain(line.rate),
                "discount_percent": _plain(line.discount_percent),
                "tax_name": line.tax_name,
                "tax_rate": _plain(line.tax_rate),
                "amount": _plain(line.amount),
                "tax_amount": _plain(line.tax_amount),
            }
            for line in document.lines.order_by("position")
        ],
        "subtotal": _plain(document.subtotal),
        "discount_total": _plain(document.discount_total),
        "tax_total": _plain(document.tax_total),
        "total": _plain(document.total),
    }
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return snapshot, hashlib.sha256(canonical.encode()).hexdigest()
