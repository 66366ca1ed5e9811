"""Reading sales documents, always within one organisation."""

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import BooleanField, Expression, F, Model, Q, QuerySet, Subquery
from django.db.models.query import ModelIterable
from django.http import QueryDict
from django.utils.dateparse import parse_date

from portico.accounts.models import Organization
from portico.customers.models import Customer

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
VIEWED_YES = "yes"
VIEWED_NO = "no"
VIEWED_CHOICES = (VIEWED_YES, VIEWED_NO)


@dataclass(frozen=True)
class DocumentFilters:
    """What a document list shows; built from the query string."""

    q: str = ""
    status: str = ""
    customer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT
    # "yes": viewed by the customer in the portal; "no": not viewed; "": either.
    viewed: str = ""

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
            viewed=viewed if (viewed := query.get("viewed", "")) in VIEWED_CHOICES else "",
        )


def _date(value: str | None) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


class PagedByIdQuerySet(QuerySet):
    """A list whose slices (the paginator's pages) read the page's ids first, in the same query.

    ``documents[49950:50000]`` would otherwise read, join and throw away 49,950 rows;
    here the page is ``WHERE id IN (SELECT id … ORDER BY … LIMIT 50 OFFSET 49950)``:
    the ids come from the sort index alone, and only the page's rows are read with
    their customer. Same rows, same order, same number of queries.

    The page keeps the list's related objects (select_related, prefetch_related)
    and order; a list that annotates or defers fields is sliced the ordinary way.
    """

    def __getitem__(self, k):
        if (
            not isinstance(k, slice)
            or k.step is not None
            or self._result_cache is not None
            or self._iterable_class is not ModelIterable
            or self.query.annotations
            or self.query.deferred_loading[0]
        ):
            return super().__getitem__(k)
        page_ids = self.values("pk")[k]
        page = self.model._default_manager.using(self._db).filter(pk__in=page_ids)
        # What the list reads with each row: its customer, its payments' invoices …
        page.query.select_related = self.query.select_related
        page._prefetch_related_lookups = self._prefetch_related_lookups
        return page.order_by(*self.query.order_by)


class InSubquery(Expression):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``.

    The same test, but inside an OR PostgreSQL can answer ``= ANY(array)`` from an
    index (a BitmapOr with the trigram indexes on number and reference), where
    ``IN (subquery)`` makes it read every row of the organisation.
    """

    output_field = BooleanField()

    def __init__(self, column: str, queryset: QuerySet):
        super().__init__()
        self.column = F(column)
        self.subquery = Subquery(queryset)

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, expressions):
        self.column, self.subquery = expressions

    def as_sql(self, compiler, connection, template="%(column)s IN %(subquery)s"):
        column_sql, column_params = compiler.compile(self.column)
        subquery_sql, subquery_params = compiler.compile(self.subquery)
        sql = template % {"column": column_sql, "subquery": subquery_sql}
        return sql, (*column_params, *subquery_params)

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, template="%(column)s = ANY(ARRAY%(subquery)s)")


def document_search(*, model: type[Model], organization: Organization, q: str) -> Q:
    """Documents whose number or reference contains ``q``, or whose customer's
    name, company, e-mail or contacts do (``Customer.search_text``).

    PostgreSQL answers each part from an index (trigram indexes on number,
    reference and the customers' search text) and ORs them. SQLite has no such
    index: it collects the matching ids in one pass over a covering index of
    number, reference and customer (sales migration 0002), and the page then
    walks the list's sort index keeping those ids, instead of reading the
    documents in sort order one by one to test them.
    """
    customers = Customer.objects.filter(
        organization=organization, search_text__contains=q.casefold()
    ).values("pk")
    matches = (
        Q(number__icontains=q) | Q(reference__icontains=q) | InSubquery("customer_id", customers)
    )
    if connection.vendor == "postgresql":
        return matches
    return Q(pk__in=model.objects.filter(Q(organization=organization) & matches).values("pk"))


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
    documents = PagedByIdQuerySet(model).filter(organization=organization)
    # Quotes, orders, invoices and credit notes show who viewed them in the portal.
    tracks_views = _tracks_portal_views(model)
    if tracks_views:
        documents = documents.select_related("customer", "portal_viewed_by")
    else:
        documents = documents.select_related("customer")
    if filters.q:
        documents = documents.filter(
            document_search(model=model, organization=organization, q=filters.q)
        )
    if filters.customer_id:
        documents = documents.filter(customer_id=filters.customer_id)
    if filters.date_from:
        documents = documents.filter(date__gte=filters.date_from)
    if filters.date_to:
        documents = documents.filter(date__lte=filters.date_to)
    if tracks_views and filters.viewed:
        documents = documents.filter(portal_viewed_at__isnull=filters.viewed == VIEWED_NO)
    return documents.order_by(*sorts[filters.sort])


def _tracks_portal_views(model: type[Model]) -> bool:
    return any(field.name == "portal_viewed_by" for field in model._meta.get_fields())


def document_get(*, model: type[Model], organization: Organization, pk: int) -> Model:
    """One document of the organisation with what its detail page shows; DoesNotExist
    (→ 404) for any other organisation's."""
    return (
        model.objects.select_related("customer", "created_by")
        .prefetch_related("lines")
        .get(organization=organization, pk=pk)
    )
