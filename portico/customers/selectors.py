"""Reading customers, always within one organisation."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.http import QueryDict

from portico.accounts.models import Organization
from portico.customers.models import ContactPerson, Customer

SORTS = {
    "name": ("display_name", "id"),
    "-name": ("-display_name", "-id"),
    "company": ("company_name", "display_name", "id"),
    "-company": ("-company_name", "-display_name", "-id"),
    "email": ("email", "id"),
    "-email": ("-email", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
DEFAULT_SORT = "name"


@dataclass(frozen=True)
class CustomerFilters:
    """What the customer list shows; built from the query string."""

    q: str = ""
    status: str = "active"  # active | inactive | all
    currency: str = ""
    portal_language: str = ""
    customer_type: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> "CustomerFilters":
        status = query.get("status", "active")
        sort = query.get("sort", DEFAULT_SORT)
        return cls(
            q=query.get("q", "").strip()[:100],
            status=status if status in {"active", "inactive", "all"} else "active",
            currency=query.get("currency", "")[:3].upper(),
            portal_language=query.get("portal_language", "")[:10],
            customer_type=query.get("customer_type", "")[:12],
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

    def as_query(self) -> str:
        query = QueryDict(mutable=True)
        for name, default in (
            ("q", ""),
            ("status", "active"),
            ("currency", ""),
            ("portal_language", ""),
            ("customer_type", ""),
            ("sort", DEFAULT_SORT),
        ):
            value = getattr(self, name)
            if value != default:
                query[name] = value
        return query.urlencode()


def customer_list(*, organization: Organization, filters: CustomerFilters) -> QuerySet[Customer]:
    customers = Customer.objects.filter(organization=organization)
    if filters.q:
        customers = customers.filter(search_text__contains=filters.q.casefold())
    if filters.status == "active":
        customers = customers.filter(is_active=True)
    elif filters.status == "inactive":
        customers = customers.filter(is_active=False)
    if filters.currency:
        customers = customers.filter(currency=filters.currency)
    if filters.portal_language:
        customers = customers.filter(portal_language=filters.portal_language)
    if filters.customer_type:
        customers = customers.filter(customer_type=filters.customer_type)
    return customers.order_by(*SORTS[filters.sort])


def customer_selection(
    *,
    organization: Organization,
    ids: list[int],
    all_matching: bool,
    filters: CustomerFilters,
) -> QuerySet[Customer]:
    """The customers a bulk action applies to: ticked ones, or all matching the filters."""
    if all_matching:
        return customer_list(organization=organization, filters=filters)
    return Customer.objects.filter(organization=organization, pk__in=ids)


def customer_get(*, organization: Organization, customer_id: int) -> Customer:
    """One customer of the organisation; DoesNotExist (→ 404) for any other."""
    return Customer.objects.get(organization=organization, pk=customer_id)


def customer_detail(*, organization: Organization, customer_id: int) -> Customer:
    return (
        Customer.objects.filter(organization=organization, pk=customer_id)
        # Each contact with its portal access (the overview shows its status).
        .prefetch_related(
            Prefetch("contacts", queryset=ContactPerson.objects.select_related("portal_access"))
        )
        .annotate(contact_count=Count("contacts"))
        .get()
    )


def customer_exists(*, organization: Organization) -> bool:
    """Whether the organisation has any customer at all (active or not)."""
    return Customer.objects.filter(organization=organization).exists()


LOOKUP_LIMIT = 20


def customer_lookup(*, organization: Organization, query: str) -> list[Customer]:
    """Up to 20 active customers matching ``query``, for pickers on document forms."""
    customers = Customer.objects.filter(organization=organization, is_active=True)
    if query.strip():
        customers = customers.filter(search_text__contains=query.strip().casefold())
    return list(
        customers.order_by("display_name", "id").only("id", "display_name", "currency")[
            :LOOKUP_LIMIT
        ]
    )
