"""What the contact's own pages read: the home page's summary, the statement's
period and the projects with their hours.

Every query starts from ``portico.portal.selectors.portal_documents``, so it is
scoped by the contact's organisation AND customer, never shows drafts, and
shows void documents only when the organisation chose to. Each function costs
a fixed number of queries, whatever the customer's number of documents.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.payments.models import Payment, PaymentAllocation
from portico.portal.selectors import portal_documents
from portico.portal_access.models import PortalAccess, PortalModule
from portico.projects.models import Project, TimeEntry
from portico.projects.selectors import _hours_subquery
from portico.sales.models import (
    OPEN_INVOICE_STATUSES,
    CreditNote,
    CreditNoteStatus,
    FulfilmentStatus,
    Invoice,
    Quote,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)

# How many rows each home-page panel shows (one more is read to know if there are more).
HOME_LIST_SIZE = 5
ACTIVITY_SIZE = 8

# The tone (Bootstrap colour) of each status badge in the portal.
STATUS_TONES = {
    "draft": "secondary",
    "sent": "primary",
    "accepted": "success",
    "declined": "danger",
    "invoiced": "info",
    "expired": "warning",
    "confirmed": "primary",
    "partially_paid": "warning",
    "paid": "success",
    "overdue": "danger",
    "void": "secondary",
    "open": "primary",
    "closed": "secondary",
    "received": "success",
}


@dataclass(frozen=True)
class OutstandingInvoices:
    """The customer's unpaid invoices in one currency."""

    currency: str
    count: int
    balance_due: Decimal
    overdue_count: int


@dataclass(frozen=True)
class UnusedCredit:
    """Credit the customer has in one currency: open credit notes' remaining
    credits and payments' unused amounts."""

    currency: str
    credit_notes: Decimal
    payments: Decimal

    @property
    def total(self) -> Decimal:
        return self.credit_notes + self.payments


@dataclass(frozen=True)
class ActivityItem:
    """One line of the home page's recent activity: a document issued or a payment received."""

    kind: str  # "quote" | "sales_order" | "invoice" | "credit_note" | "payment"
    title: str  # "Invoice issued", "Payment received" … in the reader's language
    document_id: int
    number: str
    date: date
    created_at: object
    amount: Decimal
    currency: str
    status: str
    status_label: str

    @property
    def url_name(self) -> str:
        return f"portal:{self.kind}_detail"

    @property
    def tone(self) -> str:
        return STATUS_TONES.get(self.status, "secondary")

    @property
    def icon(self) -> str:
        return {
            "quote": "file-earmark-text",
            "sales_order": "box-seam",
            "invoice": "receipt",
            "credit_note": "journal-minus",
            "payment": "cash-coin",
        }[self.kind]


@dataclass
class HomeSummary:
    modules: list[str]
    outstanding: list[OutstandingInvoices] = field(default_factory=list)
    credits: list[UnusedCredit] = field(default_factory=list)
    last_payment: Payment | None = None
    quotes_awaiting: list[Quote] = field(default_factory=list)
    more_quotes_awaiting: bool = False
    orders_in_progress: list[SalesOrder] = field(default_factory=list)
    more_orders_in_progress: bool = False
    activity: list[ActivityItem] = field(default_factory=list)

    @property
    def has_outstanding(self) -> bool:
        return any(row.count for row in self.outstanding)


def _outstanding(access: PortalAccess) -> list[OutstandingInvoices]:
    today = timezone.localdate()
    rows = (
        # "balance_due > 0" is counted, not filtered: as a WHERE condition it
        # lets SQLite (without statistics) pick the organisation-wide balance
        # index and read every customer's invoices.
        portal_documents(access=access, model=Invoice)
        .filter(status__in=OPEN_INVOICE_STATUSES)
        .order_by()
        .values("currency")
        .annotate(
            count=Count("id", filter=Q(balance_due__gt=0)),
            balance=Sum("balance_due", filter=Q(balance_due__gt=0)),
            overdue=Count("id", filter=Q(due_date__lt=today, balance_due__gt=0)),
        )
        .order_by("currency")
    )
    return [
        OutstandingInvoices(
            currency=row["currency"],
            count=row["count"],
            balance_due=row["balance"],
            overdue_count=row["overdue"],
        )
        for row in rows
        if row["count"]
    ]


def _credits(access: PortalAccess, modules: list[str]) -> list[UnusedCredit]:
    from_credit_notes: dict[str, Decimal] = {}
    from_payments: dict[str, Decimal] = {}
    if PortalModule.CREDIT_NOTES in modules:
        from_credit_notes = {
            row["currency"]: row["total"]
            for row in portal_documents(access=access, model=CreditNote)
            .filter(status=CreditNoteStatus.OPEN, credits_remaining__gt=0)
            .order_by()
            .values("currency")
            .annotate(total=Sum("credits_remaining"))
        }
    if PortalModule.PAYMENTS in modules:
        from_payments = {
            row["currency"]: row["total"]
            for row in portal_documents(access=access, model=Payment)
            .filter(unused_amount__gt=0)
            .order_by()
            .values("currency")
            .annotate(total=Sum("unused_amount"))
        }
    return [
        UnusedCredit(
            currency=currency,
            credit_notes=from_credit_notes.get(currency, Decimal(0)),
            payments=from_payments.get(currency, Decimal(0)),
        )
        for currency in sorted(from_credit_notes.keys() | from_payments.keys())
    ]


def _latest(access: PortalAccess, model, *fields: str) -> list:
    return list(
        portal_documents(access=access, model=model)
        .only("id", "number", "date", "created_at", "currency", "status", *fields)
        .order_by("-date", "-created_at", "-id")[:ACTIVITY_SIZE]
    )


def _activity(access: PortalAccess, modules: list[str]) -> tuple[list[ActivityItem], list]:
    """The latest documents of each kind the contact sees, newest first (one
    query per kind), and the latest payments (the home page's last payment)."""
    items: list[ActivityItem] = []
    payments: list[Payment] = []
    # Each kind the contact sees: its latest documents, with the status a reader
    # sees (quotes and invoices show "expired" / "overdue").
    kinds = [
        (PortalModule.QUOTES, Quote, "quote", _("Quote sent"), ("total", "expiry_date")),
        (PortalModule.SALES_ORDERS, SalesOrder, "sales_order", _("Order confirmed"), ("total",)),
        (PortalModule.INVOICES, Invoice, "invoice", _("Invoice issued"), ("total", "due_date")),
        (PortalModule.CREDIT_NOTES, CreditNote, "credit_note", _("Credit note issued"), ("total",)),
    ]
    for module, model, kind, title, fields in kinds:
        if module not in modules:
            continue
        for document in _latest(access, model, *fields):
            shown = hasattr(document, "display_status")
            items.append(
                ActivityItem(
                    kind=kind,
                    title=title,
                    document_id=document.pk,
                    number=document.number,
                    date=document.date,
                    created_at=document.created_at,
                    amount=document.total,
                    currency=document.currency,
                    status=document.display_status if shown else document.status,
                    status_label=(
                        document.get_display_status_display()
                        if shown
                        else document.get_status_display()
                    ),
                )
            )
    if PortalModule.PAYMENTS in modules:
        payments = list(
            portal_documents(access=access, model=Payment)
            .prefetch_related(
                Prefetch(
                    "allocations",
                    queryset=PaymentAllocation.objects.select_related("invoice")
                    .only(
                        "id",
                        "payment_id",
                        "amount",
                        "invoice_id",
                        "invoice__number",
                        "invoice__status",
                    )
                    .order_by("invoice__number"),
                )
            )
            .order_by("-date", "-created_at", "-id")[:ACTIVITY_SIZE]
        )
        for payment in payments:
            items.append(
                ActivityItem(
                    kind="payment",
                    title=_("Payment received"),
                    document_id=payment.pk,
                    number=payment.number,
                    date=payment.date,
                    created_at=payment.created_at,
                    amount=payment.amount,
                    currency=payment.currency,
                    status="received",
                    status_label=payment.get_mode_display(),
                )
            )
    items.sort(key=lambda item: (item.date, item.created_at, item.document_id), reverse=True)
    return items[:ACTIVITY_SIZE], payments


def home_summary(*, access: PortalAccess, modules: list[str]) -> HomeSummary:
    """Everything the home page shows, for the modules the contact sees:
    at most eleven queries, whatever the number of documents."""
    summary = HomeSummary(modules=modules)
    if PortalModule.INVOICES in modules:
        summary.outstanding = _outstanding(access)
    summary.credits = _credits(access, modules)
    summary.activity, payments = _activity(access, modules)
    summary.last_payment = payments[0] if payments else None
    if PortalModule.QUOTES in modules:
        today = timezone.localdate()
        quotes = list(
            portal_documents(access=access, model=Quote)
            .filter(status=QuoteStatus.SENT)
            .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))
            .only("id", "number", "date", "expiry_date", "total", "currency", "status", "reference")
            .order_by("expiry_date", "-date", "-id")[: HOME_LIST_SIZE + 1]
        )
        summary.quotes_awaiting = quotes[:HOME_LIST_SIZE]
        summary.more_quotes_awaiting = len(quotes) > HOME_LIST_SIZE
    if PortalModule.SALES_ORDERS in modules:
        orders = list(
            portal_documents(access=access, model=SalesOrder)
            .filter(status=SalesOrderStatus.CONFIRMED)
            .exclude(fulfilment_status=FulfilmentStatus.SHIPPED)
            .only(
                "id",
                "number",
                "date",
                "expected_shipment_date",
                "fulfilment_status",
                "total",
                "currency",
                "status",
                "reference",
            )
            .order_by("-date", "-id")[: HOME_LIST_SIZE + 1]
        )
        summary.orders_in_progress = orders[:HOME_LIST_SIZE]
        summary.more_orders_in_progress = len(orders) > HOME_LIST_SIZE
    return summary


# --- statement of account ---------------------------------------------------------


def statement_first_date(*, access: PortalAccess) -> date | None:
    """The date of the customer's first invoice, payment or credit note (one
    query): where a statement of "all" its account starts."""
    dates = (
        portal_documents(access=access, model=Invoice)
        .order_by()
        .values("date")
        .union(
            portal_documents(access=access, model=Payment).order_by().values("date"),
            portal_documents(access=access, model=CreditNote).order_by().values("date"),
        )
        .order_by("date")[:1]
    )
    first = list(dates)
    return first[0]["date"] if first else None


# --- projects -----------------------------------------------------------------------


def portal_project_list(*, access: PortalAccess) -> QuerySet[Project]:
    """The customer's projects, active first, each with hours logged, billed
    (invoiced) and unbilled (billable, not invoiced): one query per page."""
    return (
        portal_documents(access=access, model=Project)
        .annotate(
            hours_logged=_hours_subquery(),
            hours_billed=_hours_subquery(invoiced=True),
            hours_unbilled=_hours_subquery(billable=True, invoiced=False),
            hours_to_approve=_hours_subquery(invoiced=False, approved_by_customer=False),
        )
        # Active projects first ("active" < "completed"), by name within each.
        .order_by("status", "name", "id")
    )


def portal_time_entries(*, project: Project) -> QuerySet[TimeEntry]:
    """A project's time entries, newest first, with who logged them and the invoice."""
    return (
        TimeEntry.objects.filter(organization_id=project.organization_id, project=project)
        .select_related("user", "invoice")
        .only(
            "id",
            "project_id",
            "date",
            "task",
            "notes",
            "hours",
            "billable",
            "approved_by_customer",
            "approved_at",
            "invoiced",
            "user__full_name",
            "user__email",
            "invoice__id",
            "invoice__number",
            "invoice__status",
        )
        .order_by("-date", "-id")
    )
