"""The portal's document lists and detail pages, read through the scoped selectors.

Every query here starts from ``portico.portal.selectors.portal_documents``:
the contact's organisation and customer, never drafts, void only when the
organisation shows them. Each list page and each detail page takes a fixed
number of queries, however many documents or lines there are.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from portico.payments.models import Payment, PaymentAllocation
from portico.portal.selectors import portal_documents
from portico.portal_access.models import PortalAccess
from portico.sales.models import (
    OPEN_INVOICE_STATUSES,
    CreditApplication,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)

SEARCH_MAX_LENGTH = 100
# Filters that are not stored statuses.
UNPAID = "unpaid"
AWAITING = "awaiting"


@dataclass(frozen=True)
class PortalListFilters:
    """What a portal list shows, from the query string: search, status, dates."""

    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> "PortalListFilters":
        return cls(
            q=query.get("q", "").strip()[:SEARCH_MAX_LENGTH],
            status=query.get("status", "")[:20],
            date_from=_date(query.get("date_from")),
            date_to=_date(query.get("date_to")),
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.date_from or self.date_to)


def _date(value: str | None) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _status_conditions(model: type[Model], *, show_void: bool) -> dict[str, tuple[str, Q]]:
    """The status filter of each list: value → (label, condition), in list order."""
    today = timezone.localdate()
    if model is Quote:
        not_expired = Q(expiry_date__isnull=True) | Q(expiry_date__gte=today)
        return {
            AWAITING: (_("Awaiting your decision"), Q(status=QuoteStatus.SENT) & not_expired),
            QuoteStatus.EXPIRED: (
                QuoteStatus.EXPIRED.label,
                Q(status=QuoteStatus.SENT, expiry_date__lt=today),
            ),
            QuoteStatus.ACCEPTED: (QuoteStatus.ACCEPTED.label, Q(status=QuoteStatus.ACCEPTED)),
            QuoteStatus.DECLINED: (QuoteStatus.DECLINED.label, Q(status=QuoteStatus.DECLINED)),
            QuoteStatus.INVOICED: (QuoteStatus.INVOICED.label, Q(status=QuoteStatus.INVOICED)),
        }
    if model is Invoice:
        conditions = {
            UNPAID: (_("Unpaid"), Q(status__in=OPEN_INVOICE_STATUSES)),
            InvoiceStatus.OVERDUE: (
                InvoiceStatus.OVERDUE.label,
                Q(status__in=OPEN_INVOICE_STATUSES, due_date__lt=today),
            ),
            InvoiceStatus.PAID: (InvoiceStatus.PAID.label, Q(status=InvoiceStatus.PAID)),
        }
        if show_void:
            conditions[InvoiceStatus.VOID] = (
                InvoiceStatus.VOID.label,
                Q(status=InvoiceStatus.VOID),
            )
        return conditions
    if model is SalesOrder:
        conditions = {
            SalesOrderStatus.CONFIRMED: (
                SalesOrderStatus.CONFIRMED.label,
                Q(status=SalesOrderStatus.CONFIRMED),
            ),
            SalesOrderStatus.INVOICED: (
                SalesOrderStatus.INVOICED.label,
                Q(status=SalesOrderStatus.INVOICED),
            ),
        }
        if show_void:
            conditions[SalesOrderStatus.VOID] = (
                SalesOrderStatus.VOID.label,
                Q(status=SalesOrderStatus.VOID),
            )
        return conditions
    if model is CreditNote:
        conditions = {
            CreditNoteStatus.OPEN: (CreditNoteStatus.OPEN.label, Q(status=CreditNoteStatus.OPEN)),
            CreditNoteStatus.CLOSED: (
                CreditNoteStatus.CLOSED.label,
                Q(status=CreditNoteStatus.CLOSED),
            ),
        }
        if show_void:
            conditions[CreditNoteStatus.VOID] = (
                CreditNoteStatus.VOID.label,
                Q(status=CreditNoteStatus.VOID),
            )
        return conditions
    return {}


def portal_status_choices(*, model: type[Model], show_void: bool) -> list[tuple[str, str]]:
    """The status filter's choices of a portal list (none for payments)."""
    return [
        (value, label)
        for value, (label, _condition) in _status_conditions(model, show_void=show_void).items()
    ]


def portal_document_list(
    *, access: PortalAccess, model: type[Model], filters: PortalListFilters, show_void: bool
) -> QuerySet:
    """The customer's documents of one kind, newest first: searched by number
    or reference, filtered by status and date. Payments come with the
    invoices they paid (one more query per page)."""
    documents = portal_documents(access=access, model=model)
    if filters.q:
        documents = documents.filter(
            Q(number__icontains=filters.q) | Q(reference__icontains=filters.q)
        )
    condition = _status_conditions(model, show_void=show_void).get(filters.status)
    if condition is not None:
        documents = documents.filter(condition[1])
    if filters.date_from:
        documents = documents.filter(date__gte=filters.date_from)
    if filters.date_to:
        documents = documents.filter(date__lte=filters.date_to)
    if model is Payment:
        documents = documents.prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice").order_by(
                    "invoice__date", "invoice_id"
                ),
            )
        )
    return documents.order_by("-date", "-id")


def portal_document_exists(*, access: PortalAccess, model: type[Model]) -> bool:
    """Whether the list would show anything without filters ("No invoices yet")."""
    return portal_documents(access=access, model=model).exists()


def portal_document_detail(*, access: PortalAccess, model: type[Model], pk: int) -> Model:
    """One document of the contact's customer with everything its page shows,
    in a fixed number of queries; ``model.DoesNotExist`` for anything else.
    Its customer is the access's (loaded with it, so not joined again)."""
    documents = portal_documents(access=access, model=model)
    if model is Payment:
        documents = documents.prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice").order_by(
                    "invoice__date", "invoice_id"
                ),
            )
        )
        return _with_customer(documents.get(pk=pk), access)
    documents = documents.prefetch_related("lines")
    if model is Invoice:
        documents = documents.prefetch_related(
            Prefetch(
                "payment_allocations",
                queryset=PaymentAllocation.objects.select_related("payment").order_by(
                    "payment__date", "payment_id"
                ),
            ),
            Prefetch(
                "credit_applications",
                queryset=CreditApplication.objects.select_related("credit_note").order_by(
                    "date", "id"
                ),
            ),
        )
    elif model is CreditNote:
        documents = documents.select_related("invoice").prefetch_related(
            Prefetch(
                "applications",
                queryset=CreditApplication.objects.select_related("invoice").order_by("date", "id"),
            )
        )
    return _with_customer(documents.get(pk=pk), access)


def _with_customer(document: Model, access: PortalAccess) -> Model:
    # portal_documents filtered on the access's customer: it is the same row.
    document.customer = access.customer
    return document


def portal_invoices_of_order(*, access: PortalAccess, order: SalesOrder) -> list[Invoice]:
    """The invoices made from a sales order that the portal shows."""
    return list(
        portal_documents(access=access, model=Invoice)
        .filter(sales_order=order)
        .order_by("date", "id")
    )
