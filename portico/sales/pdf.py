"""PDFs of sales documents, receipts and statements, as a business sends them.

Each document type has a template under ``sales/pdf/`` extending one base
(A4, letterhead, addresses, numbered lines, tax summary, totals, notes,
terms, "Page 1 of 2" footer). Everything is rendered in the reader's
language: words through gettext, money through babel, dates through
Django's ``date`` filter.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from portico.core.pdf import render_pdf
from portico.customers.models import PaymentTerms
from portico.sales.models import (
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)


@dataclass(frozen=True)
class TaxSummaryRow:
    name: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal


def tax_summary(lines) -> list[TaxSummaryRow]:
    """Per tax (name and rate as printed on the lines): taxable amount and tax."""
    rows: dict[tuple[str, Decimal], list[Decimal]] = {}
    for line in lines:
        if line.tax_rate:
            row = rows.setdefault((line.tax_name, line.tax_rate), [Decimal(0), Decimal(0)])
            row[0] += line.amount
            row[1] += line.tax_amount
    return [
        TaxSummaryRow(name=name, rate=rate, taxable=taxable, tax=tax)
        for (name, rate), (taxable, tax) in sorted(
            rows.items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
    ]


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal, safe inside a <style> element."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;·-–—_()/#&'+%" or ord(ch) > 127 else f"\\{ord(ch):X} "
        for ch in text
    )
    return f'"{escaped}"'


def page_counter_css() -> str:
    """CSS ``content`` for "Page 1 of 2", in the active language's word order."""
    text = _("Page %(page)s of %(pages)s")
    parts = re.split(r"(%\(page\)s|%\(pages\)s)", text)
    content = []
    for part in parts:
        if part == "%(page)s":
            content.append("counter(page)")
        elif part == "%(pages)s":
            content.append("counter(pages)")
        elif part:
            content.append(_css_string(part))
    return " ".join(content)


def _address_lines(text: str) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]


def _payment_terms_label(days: int) -> str:
    labels = dict(PaymentTerms.choices)
    if days in labels:
        return str(labels[days])
    return _("Net %(days)s") % {"days": days}


def _stamp(document) -> str:
    """A word printed across the header of documents that are not (or no
    longer) ordinary: draft, void, paid, accepted, declined."""
    stamps = {
        (Invoice, InvoiceStatus.DRAFT): _("Draft"),
        (Invoice, InvoiceStatus.PAID): _("Paid"),
        (Invoice, InvoiceStatus.VOID): _("Void"),
        (Quote, QuoteStatus.DRAFT): _("Draft"),
        (Quote, QuoteStatus.ACCEPTED): _("Accepted"),
        (Quote, QuoteStatus.DECLINED): _("Declined"),
        (SalesOrder, SalesOrderStatus.DRAFT): _("Draft"),
        (SalesOrder, SalesOrderStatus.VOID): _("Void"),
        (CreditNote, CreditNoteStatus.DRAFT): _("Draft"),
        (CreditNote, CreditNoteStatus.VOID): _("Void"),
    }
    return stamps.get((type(document), getattr(document, "status", None)), "")


def _sales_document_context(document) -> dict:
    lines = list(document.lines.order_by("position", "id"))
    for line in lines:
        # The first line of a description reads as the item's name, the rest
        # as its details.
        line.title, _newline, line.detail = line.description.strip().partition("\n")
    customer = document.customer
    billing = _address_lines(document.billing_address) or customer.address_lines("billing")
    shipping = _address_lines(document.shipping_address)
    context = {
        "lines": lines,
        "tax_summary": tax_summary(lines),
        "customer": customer,
        "billing_lines": billing,
        # Printed only when it says something the billing address does not.
        "shipping_lines": shipping if shipping != billing else [],
        "has_discount": any(line.discount_percent for line in lines),
        "has_tax": any(line.tax_rate for line in lines),
        "stamp": _stamp(document),
    }
    if isinstance(document, Quote):
        context.update(kind="quote", template="sales/pdf/quote.html", title=_("Quote"))
    elif isinstance(document, SalesOrder):
        context.update(
            kind="sales_order", template="sales/pdf/sales_order.html", title=_("Sales order")
        )
    elif isinstance(document, Invoice):
        context.update(
            kind="invoice",
            template="sales/pdf/invoice.html",
            title=_("Invoice"),
            payment_terms_label=_payment_terms_label(document.payment_terms),
            sales_order=document.sales_order,
        )
    elif isinstance(document, CreditNote):
        context.update(
            kind="credit_note",
            template="sales/pdf/credit_note.html",
            title=_("Credit note"),
            invoice=document.invoice,
            applications=list(
                document.applications.select_related("invoice").order_by("date", "id")
            ),
        )
    return context


def _payment_context(payment) -> dict:
    customer = payment.customer
    return {
        "kind": "payment",
        "template": "sales/pdf/payment.html",
        "title": _("Payment receipt"),
        "customer": customer,
        "billing_lines": customer.address_lines("billing"),
        "shipping_lines": [],
        "allocations": list(
            payment.allocations.select_related("invoice").order_by("invoice__date", "id")
        ),
        "stamp": "",
    }


def document_pdf(*, document: models.Model, language: str) -> bytes:
    """A quote, sales order, invoice, credit note or payment (a receipt) as a PDF."""
    from portico.payments.models import Payment

    with translation.override(language):
        if isinstance(document, Payment):
            context = _payment_context(document)
        elif isinstance(document, Quote | SalesOrder | Invoice | CreditNote):
            context = _sales_document_context(document)
        else:
            raise TypeError(f"No PDF for {type(document).__name__}")
        organization = document.organization
        context.update(
            document=document,
            organization=organization,
            organization_address=_address_lines(organization.address),
            language=language,
            page_counter_css=page_counter_css(),
            footer_css=_css_string(f"{organization.name} · {context['title']} {document.number}"),
        )
    return render_pdf(template=context["template"], context=context, language=language)


def _get(source, name: str, default=None):
    if isinstance(source, dict):
        return source.get(name, default)
    return getattr(source, name, default)


@dataclass(frozen=True)
class StatementLine:
    date: object
    kind: str
    kind_label: str
    number: str
    description: str
    due_date: object
    amount: Decimal | None
    payment: Decimal | None
    balance: Decimal


def _statement_kind_labels() -> dict[str, str]:
    return {
        "invoice": _("Invoice"),
        "payment": _("Payment"),
        "credit_note": _("Credit note"),
        "credit": _("Credit note"),
        "refund": _("Refund"),
        "opening_balance": _("Opening balance"),
    }


def _statement_lines(entries) -> list[StatementLine]:
    labels = _statement_kind_labels()
    lines = []
    for entry in entries:
        kind = str(_get(entry, "kind", "") or "")
        lines.append(
            StatementLine(
                date=_get(entry, "date"),
                kind=kind,
                kind_label=str(_get(entry, "kind_label", "") or labels.get(kind, kind)),
                number=_get(entry, "number", "") or "",
                description=_get(entry, "description", "") or "",
                due_date=_get(entry, "due_date"),
                amount=_get(entry, "amount"),
                payment=_get(entry, "payment"),
                balance=_get(entry, "balance"),
            )
        )
    return lines


def statement_pdf(*, statement, language: str) -> bytes:
    """A customer's statement of account for a period.

    ``statement`` (a dict or an object) has: customer, organization (optional:
    the customer's), currency, date_from, date_to, opening_balance, entries
    (each: date, kind, number, description, amount, payment, balance) and
    closing_balance. A refund (kind "refund") has an amount, as an invoice
    does: it gives credit back, so the summary lists it apart from what was
    invoiced.
    """
    customer = _get(statement, "customer")
    organization = _get(statement, "organization") or customer.organization
    with translation.override(language):
        entries = _statement_lines(_get(statement, "entries", []))
        title = _("Statement of account")
        context = {
            "kind": "statement",
            "statement": statement,
            "entries": entries,
            "invoiced_total": sum(
                (e.amount or Decimal(0) for e in entries if e.kind != "refund"), Decimal(0)
            ),
            "refunded_total": sum(
                (e.amount or Decimal(0) for e in entries if e.kind == "refund"), Decimal(0)
            ),
            "received_total": sum((e.payment or Decimal(0) for e in entries), Decimal(0)),
            "customer": customer,
            "organization": organization,
            "organization_address": _address_lines(organization.address),
            "billing_lines": customer.address_lines("billing"),
            "shipping_lines": [],
            "title": title,
            "stamp": "",
            "language": language,
            "page_counter_css": page_counter_css(),
            "footer_css": _css_string(f"{organization.name} · {title} · {customer.display_name}"),
        }
    return render_pdf(template="sales/pdf/statement.html", context=context, language=language)


# --- certificate of acceptance ---------------------------------------------------------


def _snapshot_decimal(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _snapshot_date(value):
    from datetime import date

    return date.fromisoformat(value) if value else None


def _quote_as_accepted(quote: Quote, revision) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    """The quote and its lines as recorded in ``revision`` (what the customer
    accepted), in the shape the PDF templates read; the live quote when no
    snapshot was recorded."""
    if revision is None:
        lines = list(quote.lines.order_by("position", "id"))
        return quote, lines
    snapshot = revision.snapshot
    money = ("subtotal", "discount_total", "tax_total", "total")
    document = SimpleNamespace(
        pk=quote.pk,
        number=snapshot.get("number") or quote.number,
        date=_snapshot_date(snapshot.get("date")) or quote.date,
        expiry_date=_snapshot_date(snapshot.get("expiry_date")),
        reference=snapshot.get("reference", ""),
        currency=snapshot.get("currency") or quote.currency,
        notes=snapshot.get("notes", ""),
        terms=snapshot.get("terms", ""),
        revision=revision.number,
        status=quote.status,
        organization=quote.organization,
        customer=quote.customer,
        billing_address=quote.billing_address,
        shipping_address=quote.shipping_address,
        **{name: _snapshot_decimal(snapshot.get(name)) for name in money},
    )
    lines = [
        SimpleNamespace(
            position=entry.get("position"),
            description=entry.get("description", ""),
            quantity=_snapshot_decimal(entry.get("quantity")),
            unit=entry.get("unit", ""),
            rate=_snapshot_decimal(entry.get("rate")),
            discount_percent=_snapshot_decimal(entry.get("discount_percent")),
            tax_name=entry.get("tax_name", ""),
            tax_rate=_snapshot_decimal(entry.get("tax_rate")),
            amount=_snapshot_decimal(entry.get("amount")),
            tax_amount=_snapshot_decimal(entry.get("tax_amount")),
        )
        for entry in sorted(snapshot.get("lines", []), key=lambda entry: entry.get("position", 0))
    ]
    return document, lines


def _utc_offset(moment) -> str:
    """The offset from UTC as "+01:00"."""
    offset = moment.strftime("%z") or "+0000"
    return f"{offset[:3]}:{offset[3:]}"


def certificate_pdf(*, quote: Quote, decision, language: str) -> bytes:
    """The certificate of acceptance: the quote as the customer accepted it
    (the recorded revision), then who accepted it, when, from where, and the
    SHA-256 of that revision."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from portico.sales.models import QuoteRevision

    revision = QuoteRevision.objects.filter(
        quote_id=quote.pk, number=decision.revision_number
    ).first()
    document, lines = _quote_as_accepted(quote, revision)
    for line in lines:
        line.title, _newline, line.detail = line.description.strip().partition("\n")
    organization = quote.organization
    customer = quote.customer
    billing = _address_lines(document.billing_address) or customer.address_lines("billing")
    shipping = _address_lines(document.shipping_address)
    try:
        zone = ZoneInfo(organization.time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    decided_local = timezone.localtime(decision.decided_at, zone)
    with translation.override(language):
        title = _("Quote")
        certificate_title = _("Certificate of acceptance")
        context = {
            "kind": "quote",
            "document": document,
            "lines": lines,
            "tax_summary": tax_summary(lines),
            "customer": customer,
            "billing_lines": billing,
            "shipping_lines": shipping if shipping != billing else [],
            "has_discount": any(line.discount_percent for line in lines),
            "has_tax": any(line.tax_rate for line in lines),
            "stamp": _("Accepted"),
            "title": title,
            "certificate_title": certificate_title,
            "decision": decision,
            "decided_local": decided_local,
            "decided_utc": decision.decided_at.astimezone(ZoneInfo("UTC")),
            "time_zone_name": str(zone),
            "utc_offset": _utc_offset(decided_local),
            "generated_at": timezone.localtime(timezone.now(), zone),
            "organization": organization,
            "organization_address": _address_lines(organization.address),
            "language": language,
            "page_counter_css": page_counter_css(),
            "footer_css": _css_string(
                f"{organization.name} · {certificate_title} · {title} {document.number}"
            ),
        }
    return render_pdf(template="sales/pdf/certificate.html", context=context, language=language)
