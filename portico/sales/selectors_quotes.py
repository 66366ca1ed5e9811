"""Reading quotes, always within one organisation."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from portico.accounts.models import Organization
from portico.sales.models import Invoice, Quote, QuoteStatus, SalesOrder
from portico.sales.selectors import DocumentFilters, document_list


def _status_filter(status: str) -> Q | None:
    """``expired`` is computed: a sent quote past its expiry date; ``sent``
    then means the sent quotes that have not expired."""
    today = timezone.localdate()
    if status == QuoteStatus.EXPIRED:
        return Q(status=QuoteStatus.SENT, expiry_date__lt=today)
    if status == QuoteStatus.SENT:
        return Q(status=QuoteStatus.SENT) & (
            Q(expiry_date__isnull=True) | Q(expiry_date__gte=today)
        )
    if status in QuoteStatus.values:
        return Q(status=status)
    return None


def quote_list(*, organization: Organization, filters: DocumentFilters) -> QuerySet[Quote]:
    """The organisation's quotes: searched, filtered by status (expired included),
    customer and dates, sorted. One query per page, whatever the volume."""
    quotes = document_list(model=Quote, organization=organization, filters=filters)
    condition = _status_filter(filters.status)
    if condition is not None:
        quotes = quotes.filter(condition)
    return quotes


def quote_exists(*, organization: Organization) -> bool:
    return Quote.objects.filter(organization=organization).exists()


def quote_get(*, organization: Organization, pk: int) -> Quote:
    """One quote of the organisation (Quote.DoesNotExist for any other's)."""
    return Quote.objects.select_related("customer").get(organization=organization, pk=pk)


def quote_detail(*, organization: Organization, pk: int) -> Quote:
    """One quote with everything its page shows, in a fixed number of queries."""
    return (
        Quote.objects.select_related("customer", "created_by", "portal_viewed_by")
        .prefetch_related(
            "lines",
            "contacts",
            "revisions",
            Prefetch("sales_orders", queryset=SalesOrder.objects.order_by("id")),
            Prefetch("invoices", queryset=Invoice.objects.order_by("id")),
        )
        .get(organization=organization, pk=pk)
    )
