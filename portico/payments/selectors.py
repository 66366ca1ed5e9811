"""Reading payments and statements of account, always within one organisation.

``statement_for_customer`` is shared by the staff side and the portal: it
takes the organisation and the customer and reads nothing else.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum
from django.http import QueryDict
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.customers.models import Customer
from portico.payments.models import Payment, PaymentAllocation, PaymentMode, PaymentRefund
from portico.sales.models import (
    OPEN_INVOICE_STATUSES,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
)
from portico.sales.selectors import DocumentFilters, document_list

PAYMENT_SORTS = {
    "date": ("date", "id"),
    "-date": ("-date", "-id"),
    "number": ("number", "id"),
    "-number": ("-number", "-id"),
    "customer": ("customer__display_name", "-date", "-id"),
    "-customer": ("-customer__display_name", "-date", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
}


@dataclass(frozen=True)
class PaymentFilters:
    """What the payments list shows: the document filters plus the payment mode."""

    documents: DocumentFilters = field(default_factory=DocumentFilters)
    mode: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> "PaymentFilters":
        mode = query.get("mode", "")
        return cls(
            documents=DocumentFilters.from_query(query, sorts=PAYMENT_SORTS),
            mode=mode if mode in PaymentMode.values else "",
        )

    @property
    def q(self) -> str:
        return self.documents.q

    @property
    def sort(self) -> str:
        return self.documents.sort


def payment_list(*, organization: Organization, filters: PaymentFilters) -> QuerySet[Payment]:
    """Payments: search number, reference or customer; filter by mode, customer,
    dates; sort. Each row's invoices come in one more query per page."""
    payments = document_list(
        model=Payment, organization=organization, filters=filters.documents, sorts=PAYMENT_SORTS
    )
    if filters.mode:
        payments = payments.filter(mode=filters.mode)
    return payments.prefetch_related(
        Prefetch(
            "allocations",
            queryset=PaymentAllocation.objects.select_related("invoice")
            .only("id", "payment_id", "invoice_id", "invoice__number", "amount")
            .order_by("invoice__number"),
        )
    )


def payment_exists(*, organization: Organization) -> bool:
    return Payment.objects.filter(organization=organization).exists()


def payment_get(*, organization: Organization, payment_id: int) -> Payment:
    """One payment with its customer and allocations; DoesNotExist (→ 404) for
    any other organisation's."""
    return (
        Payment.objects.select_related("customer", "created_by", "checkout")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice").order_by(
                    "invoice__date", "invoice_id"
                ),
            ),
            Prefetch(
                "refunds",
                queryset=PaymentRefund.objects.select_related("created_by").order_by("date", "id"),
            ),
        )
        .get(organization=organization, pk=payment_id)
    )


def open_invoices_for_customer(
    *, organization: Organization, customer: Customer, currency: str | None = None
) -> list[Invoice]:
    """The customer's invoices still to be paid (sent, partially paid, overdue)
    in its currency, oldest due first: what money can be applied to."""
    return list(
        Invoice.objects.filter(
            organization=organization,
            customer=customer,
            currency=currency or customer.currency,
            status__in=OPEN_INVOICE_STATUSES,
            balance_due__gt=0,
        )
        .only(
            "id",
            "number",
            "date",
            "due_date",
            "status",
            "currency",
            "total",
            "balance_due",
            "allow_partial_payments",
            "reference",
        )
        .order_by("due_date", "date", "id")
    )


# --- statement of account ---------------------------------------------------------

# Invoices that count as owed: issued, whatever has been paid since; not draft or void.
STATEMENT_INVOICE_STATUSES = (
    InvoiceStatus.SENT,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
)
STATEMENT_CREDIT_NOTE_STATUSES = (CreditNoteStatus.OPEN, CreditNoteStatus.CLOSED)


@dataclass(frozen=True)
class StatementEntry:
    """One line of a statement: an invoice or a refund (an amount owed) or a
    payment or credit note (paid or credited), with the balance after it.

    A refund gives back part of a payment's unused credit, so it undoes that
    part of the payment: it adds to the balance, as an invoice does. Its
    number and ``document_id`` are the refunded payment's.

    The names are those ``portico.sales.pdf.statement_pdf`` reads.
    """

    date: date
    kind: str  # "invoice" | "credit_note" | "payment" | "refund"
    kind_label: str  # "Invoice", "Payment received", "Refund"… in the reader's language
    number: str
    document_id: int
    description: str  # the document's reference; "Refund of PAY-…" for a refund
    due_date: date | None
    amount: Decimal | None  # what an invoice or a refund adds to the balance
    payment: Decimal | None  # what a payment or credit note takes off
    balance: Decimal  # the running balance after this line


@dataclass(frozen=True)
class Statement:
    organization: Organization
    customer: Customer
    currency: str
    date_from: date
    date_to: date
    opening_balance: Decimal
    entries: list[StatementEntry]
    invoiced: Decimal
    received: Decimal
    credited: Decimal
    refunded: Decimal
    closing_balance: Decimal

    def as_context(self) -> dict:
        """The statement as a template context (the PDF and the portal use it)."""
        return {
            "statement": self,
            "organization": self.organization,
            "customer": self.customer,
            "currency": self.currency,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "opening_balance": self.opening_balance,
            "entries": self.entries,
            "invoiced": self.invoiced,
            "received": self.received,
            "credited": self.credited,
            "refunded": self.refunded,
            "closing_balance": self.closing_balance,
        }


_KIND_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 3}


def _total(queryset, field_name: str) -> Decimal:
    return queryset.aggregate(total=Sum(field_name))["total"] or Decimal(0)


def _refund_row(refund: dict) -> dict:
    """A refund in the shape of the other rows: the refunded payment's id and
    number (the line links to it), "Refund of PAY-…" and the refund's reference."""
    number = refund["payment__number"]
    description = _("Refund of %(payment)s") % {"payment": number}
    return {
        "id": refund["payment_id"],
        "refund_id": refund["id"],
        "date": refund["date"],
        "number": number,
        "reference": f"{description} · {refund['reference']}"
        if refund["reference"]
        else description,
    }


def statement_for_customer(
    *, organization: Organization, customer: Customer, date_from: date, date_to: date
) -> Statement:
    """The customer's account between two dates, in the customer's currency.

    Opening balance = invoices issued before ``date_from`` − payments received
    before it − credit notes issued before it + refunds given before it. Then
    every invoice (not draft or void), payment, credit note (open or closed)
    and refund dated in the range, in date order with the running balance; the
    closing balance is where it ends. Documents in another currency are left
    out. Seven queries, whatever the size: the refunds up to ``date_to`` come
    in one (they are few: only a payment's unused credit can be refunded), and
    those before the range are summed here into the opening balance.
    """
    if customer.organization_id != organization.pk:
        raise Customer.DoesNotExist
    currency = customer.currency
    invoices = Invoice.objects.filter(
        organization=organization,
        customer=customer,
        currency=currency,
        status__in=STATEMENT_INVOICE_STATUSES,
    )
    payments = Payment.objects.filter(
        organization=organization, customer=customer, currency=currency
    )
    credit_notes = CreditNote.objects.filter(
        organization=organization,
        customer=customer,
        currency=currency,
        status__in=STATEMENT_CREDIT_NOTE_STATUSES,
    )
    refunds = list(
        PaymentRefund.objects.filter(
            organization=organization,
            payment__customer=customer,
            payment__currency=currency,
            date__lte=date_to,
        ).values("id", "date", "amount", "reference", "payment_id", "payment__number")
    )
    opening = (
        _total(invoices.filter(date__lt=date_from), "total")
        - _total(payments.filter(date__lt=date_from), "amount")
        - _total(credit_notes.filter(date__lt=date_from), "total")
        + sum((row["amount"] for row in refunds if row["date"] < date_from), Decimal(0))
    )
    in_range = {"date__gte": date_from, "date__lte": date_to}
    raw = [
        ("invoice", _("Invoice"), row["total"], Decimal(0), row)
        for row in invoices.filter(**in_range).values(
            "id", "date", "number", "reference", "due_date", "total"
        )
    ]
    raw += [
        ("credit_note", _("Credit note"), Decimal(0), row["total"], row)
        for row in credit_notes.filter(**in_range).values(
            "id", "date", "number", "reference", "total"
        )
    ]
    raw += [
        ("payment", _("Payment received"), Decimal(0), row["amount"], row)
        for row in payments.filter(**in_range).values("id", "date", "number", "reference", "amount")
    ]
    raw += [
        ("refund", _("Refund"), row["amount"], Decimal(0), _refund_row(row))
        for row in refunds
        if row["date"] >= date_from
    ]
    raw.sort(
        key=lambda entry: (
            entry[4]["date"],
            _KIND_ORDER[entry[0]],
            entry[4]["id"],
            entry[4].get("refund_id", 0),
        )
    )
    balance = opening
    entries = []
    invoiced = received = credited = refunded = Decimal(0)
    for kind, label, charge, credit, row in raw:
        balance = balance + charge - credit
        if kind == "invoice":
            invoiced += charge
        elif kind == "refund":
            refunded += charge
        elif kind == "payment":
            received += credit
        else:
            credited += credit
        entries.append(
            StatementEntry(
                date=row["date"],
                kind=kind,
                kind_label=label,
                number=row["number"],
                document_id=row["id"],
                description=row["reference"],
                due_date=row.get("due_date"),
                amount=charge if kind in ("invoice", "refund") else None,
                payment=credit if kind not in ("invoice", "refund") else None,
                balance=balance,
            )
        )
    return Statement(
        organization=organization,
        customer=customer,
        currency=currency,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        entries=entries,
        invoiced=invoiced,
        received=received,
        credited=credited,
        refunded=refunded,
        closing_balance=balance,
    )
