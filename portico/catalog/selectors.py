"""Reading items and taxes, always within one organisation."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import QueryDict

from portico.accounts.models import Organization
from portico.catalog.models import Item, Tax

ITEM_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "sku": ("sku", "id"),
    "-sku": ("-sku", "-id"),
    "rate": ("rate", "name", "id"),
    "-rate": ("-rate", "name", "id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
DEFAULT_ITEM_SORT = "name"
ITEM_STATUSES = {"active", "inactive", "all"}


@dataclass(frozen=True)
class ItemFilters:
    """What the item list shows; built from the query string."""

    q: str = ""
    status: str = "active"  # active | inactive | all
    tax_id: int | None = None
    sort: str = DEFAULT_ITEM_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> "ItemFilters":
        status = query.get("status", "active")
        tax = query.get("tax", "")
        sort = query.get("sort", DEFAULT_ITEM_SORT)
        return cls(
            q=query.get("q", "").strip()[:100],
            status=status if status in ITEM_STATUSES else "active",
            tax_id=int(tax) if tax.isdigit() else None,
            sort=sort if sort in ITEM_SORTS else DEFAULT_ITEM_SORT,
        )

    def as_query(self) -> str:
        """The query string for these filters, leaving out the defaults."""
        query = QueryDict(mutable=True)
        if self.q:
            query["q"] = self.q
        if self.status != "active":
            query["status"] = self.status
        if self.tax_id:
            query["tax"] = str(self.tax_id)
        if self.sort != DEFAULT_ITEM_SORT:
            query["sort"] = self.sort
        return query.urlencode()


def item_list(*, organization: Organization, filters: ItemFilters) -> QuerySet[Item]:
    """Items matching the filters, with their default tax (one query per page)."""
    items = Item.objects.filter(organization=organization).select_related("tax")
    if filters.q:
        items = items.filter(Q(name__icontains=filters.q) | Q(sku__icontains=filters.q))
    if filters.status == "active":
        items = items.filter(is_active=True)
    elif filters.status == "inactive":
        items = items.filter(is_active=False)
    if filters.tax_id:
        items = items.filter(tax_id=filters.tax_id)
    return items.order_by(*ITEM_SORTS[filters.sort])


def item_exists(*, organization: Organization) -> bool:
    """Whether the organisation has any item at all (active or not)."""
    return Item.objects.filter(organization=organization).exists()


def item_get(*, organization: Organization, item_id: int) -> Item:
    """One item of the organisation; DoesNotExist (→ 404) for any other."""
    return Item.objects.select_related("tax").get(organization=organization, pk=item_id)


def tax_list(*, organization: Organization) -> QuerySet[Tax]:
    """Every tax of the organisation, with how many items use it as their default."""
    return (
        Tax.objects.filter(organization=organization)
        .annotate(item_count=Count("items"))
        .order_by("-is_active", "name", "id")
    )


def tax_choices(*, organization: Organization, keep: Tax | None = None) -> QuerySet[Tax]:
    """Taxes an item may take as its default: active ones, and the one it has."""
    condition = Q(is_active=True)
    if keep is not None:
        condition |= Q(pk=keep.pk)
    return Tax.objects.filter(organization=organization).filter(condition).order_by("name", "id")


def tax_get(*, organization: Organization, tax_id: int) -> Tax:
    """One tax of the organisation; DoesNotExist (→ 404) for any other."""
    return Tax.objects.get(organization=organization, pk=tax_id)
