"""Reading invoices, always within one organisation."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from portico.accounts.models import Organization
from portico.sales.models import OPEN_INVOICE_STATUSES, CreditApplication, Invoice, InvoiceStatus
from portico.sales.selectors import SORTS, DocumentFilters, document_list

INVOICE_SORTS = {
    **SORTS,
    "due_date": ("due_date", "id"),
    "-due_date": ("-due_date", "-id"),
    "balance": ("balance_due", "id"),
    "-balance": ("-balance_due", "-id"),
}
# Not a stored status: every sent or partially paid invoice.
UNPAID = "unpaid"


def invoice_filters(query) -> DocumentFilters:
    return DocumentFilters.from_query(query, sorts=INVOICE_SORTS)


def _status_filter(status: str) -> Q | None:
    """``overdue`` is computed: open (sent or partially paid) and past its due date."""
    if status == InvoiceStatus.OVERDUE:
        return Q(status__in=OPEN_INVOICE_STATUSES, due_date__lt=timezone.localdate())
    if status == UNPAID:
        return Q(status__in=OPEN_INVOICE_STATUSES)
    if status in InvoiceStatus.values:
        return Q(status=status)
    return None


def invoice_list(*, organization: Organization, filters: DocumentFilters) -> QuerySet[Invoice]:
    """The organisation's invoices: searched, filtered by status (overdue and
    unpaid included), customer and dates, sorted. One query per page."""
    invoices = document_list(
        model=Invoice, organization=organization, filters=filters, sorts=INVOICE_SORTS
    )
    condition = _status_filter(filters.status)
    if condition is not None:
        invoices = invoices.filter(condition)
    return invoices


def invoice_exists(*, organization: Organization) -> bool:
    return Invoice.objects.filter(organization=organization).exists()


def invoice_get(*, organization: Organization, pk: int) -> Invoice:
    """One invoice of the organisation (Invoice.DoesNotExist for any other's)."""
    return Invoice.objects.select_related("customer", "organization").get(
        organization=organization, pk=pk
    )


def invoice_detail(*, organization: Organization, pk: int) -> Invoice:
    """One invoice with everything its page shows (lines, payments, credits),
    in a fixed number of queries however many there are."""
    from portico.payments.models import PaymentAllocation

    return (
        Invoice.objects.select_related(
            "customer", "created_by", "sales_order", "quote", "portal_viewed_by"
        )
        .prefetch_related(
            "lines",
            "contacts",
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
        .get(organization=organization, pk=pk)
    )
