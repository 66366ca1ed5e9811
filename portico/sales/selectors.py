"""Reading sales documents, always within one organisation."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Model, Q, QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_date

from portico.accounts.models import Organization

SORTS = {
    "date": ("date", "id"),
    "-date": ("-date", "-id"),
    "number": ("number", "id"),
    "-number": ("-number", "-id"),
    "customer": ("customer__display_name", "-date", "-id"),
    "-customer": ("-customer__display_name", "-date", "-id"),
    "total": ("total", "id"),
    "-total": ("-total", "-id"),
}
DEFAULT_SORT = "-date"


@dataclass(frozen=True)
class DocumentFilters:
    """What a document list shows; built from the query string."""

    q: str = ""
    status: str = ""
    customer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, query: QueryDict, *, sorts: dict = SORTS) -> "DocumentFilters":
        customer = query.get("customer", "")
        sort = query.get("sort", DEFAULT_SORT)
        return cls(
            q=query.get("q", "").strip()[:100],
            status=query.get("status", "")[:20],
            customer_id=int(customer) if customer.isdigit() else None,
            date_from=_date(query.get("date_from")),
            date_to=_date(query.get("date_to")),
            sort=sort if sort in sorts else DEFAULT_SORT,
        )


def _date(value: str | None) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def document_list(
    *,
    model: type[Model],
    organization: Organization,
    filters: DocumentFilters,
    sorts: dict = SORTS,
) -> QuerySet:
    """Documents of one type: search by number, reference or customer; filter; sort.

    ``status`` filtering that depends on today (expired, overdue) is the
    caller's: it passes an already filtered queryset through ``model``'s manager.
    """
    documents = model.objects.filter(organization=organization).select_related("customer")
    if filters.q:
        documents = documents.filter(
            Q(number__icontains=filters.q)
            | Q(reference__icontains=filters.q)
            | Q(customer__display_name__icontains=filters.q)
        )
    if filters.customer_id:
        documents = documents.filter(customer_id=filters.customer_id)
    if filters.date_from:
        documents = documents.filter(date__gte=filters.date_from)
    if filters.date_to:
        documents = documents.filter(date__lte=filters.date_to)
    return documents.order_by(*sorts[filters.sort])


def document_get(*, model: type[Model], organization: Organization, pk: int) -> Model:
    """One document of the organisation with what its detail page shows; DoesNotExist
    (→ 404) for any other organisation's."""
    return (
        model.objects.select_related("customer", "created_by")
        .prefetch_related("lines")
        .get(organization=organization, pk=pk)
    )
