"""Reading sales orders, always within one organisation."""

from django.db.models import Prefetch, QuerySet

from portico.accounts.models import Organization
from portico.sales.models import FulfilmentStatus, Invoice, SalesOrder, SalesOrderStatus
from portico.sales.selectors import DocumentFilters, document_list


def sales_order_list(
    *, organization: Organization, filters: DocumentFilters, fulfilment: str = ""
) -> QuerySet[SalesOrder]:
    """The organisation's sales orders: searched, filtered by status, fulfilment,
    customer and dates, sorted. One query per page."""
    orders = document_list(model=SalesOrder, organization=organization, filters=filters)
    if filters.status in SalesOrderStatus.values:
        orders = orders.filter(status=filters.status)
    if fulfilment in FulfilmentStatus.values:
        orders = orders.filter(fulfilment_status=fulfilment)
    return orders


def sales_order_exists(*, organization: Organization) -> bool:
    return SalesOrder.objects.filter(organization=organization).exists()


def sales_order_get(*, organization: Organization, pk: int) -> SalesOrder:
    """One order of the organisation (SalesOrder.DoesNotExist for any other's)."""
    return SalesOrder.objects.select_related("customer", "organization").get(
        organization=organization, pk=pk
    )


def sales_order_detail(*, organization: Organization, pk: int) -> SalesOrder:
    """One order with everything its page shows, in a fixed number of queries."""
    return (
        SalesOrder.objects.select_related("customer", "created_by", "quote", "portal_viewed_by")
        .prefetch_related(
            "lines", "contacts", Prefetch("invoices", queryset=Invoice.objects.order_by("id"))
        )
        .get(organization=organization, pk=pk)
    )
