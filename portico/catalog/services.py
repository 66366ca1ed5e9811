"""Items and taxes: every write goes through here.

Documents keep a copy of what they use (line description, unit, rate, tax
name and rate), so items and taxes can be edited, deactivated or, for items,
deleted without changing a single issued document.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portico.accounts.models import Organization
from portico.catalog.models import Item, Tax
from portico.core.errors import PorticoError

MAX_TAX_RATE = Decimal(100)
TAX_RATE_EXPONENT = Decimal("0.001")
ITEMS_NAMED_IN_ERROR = 3


class CatalogError(PorticoError):
    """An item or tax change that cannot be made; ``field`` names the culprit."""


# Items ---------------------------------------------------------------------


def _check_item(
    *,
    organization: Organization,
    name: str,
    sku: str,
    rate: Decimal,
    tax: Tax | None,
    item: Item | None,
) -> None:
    if not name:
        raise CatalogError(_("Enter the item's name."), field="name")
    if rate is None or rate < 0:
        raise CatalogError(_("The selling rate cannot be negative."), field="rate")
    if tax is not None and tax.organization_id != organization.pk:
        raise CatalogError(_("Choose one of your taxes."), field="tax")
    if sku:
        others = Item.objects.filter(organization=organization, sku__iexact=sku)
        if item is not None:
            others = others.exclude(pk=item.pk)
        taken_by = others.only("name").first()
        if taken_by is not None:
            raise CatalogError(
                _("The SKU %(sku)s is already used by %(item)s.")
                % {"sku": sku, "item": taken_by.name},
                field="sku",
            )


def _save_item(item: Item, *, previous_tax_id: int | None) -> Item:
    try:
        with transaction.atomic():
            if item.tax_id is not None and item.tax_id != previous_tax_id:
                # Locked, so a tax cannot be deactivated while an item takes it.
                tax = Tax.objects.select_for_update().get(pk=item.tax_id)
                if not tax.is_active:
                    raise CatalogError(
                        _("%(tax)s is inactive: choose an active tax.") % {"tax": tax.name},
                        field="tax",
                    )
            item.save()
    except IntegrityError as error:  # a concurrent save took the SKU first
        raise CatalogError(
            _("The SKU %(sku)s is already used by another item.") % {"sku": item.sku},
            field="sku",
        ) from error
    return item


def item_create(
    *,
    organization: Organization,
    name: str,
    rate: Decimal,
    sku: str = "",
    unit: str = "",
    tax: Tax | None = None,
    description: str = "",
    is_active: bool = True,
) -> Item:
    name, sku, unit = name.strip(), sku.strip(), unit.strip()
    _check_item(organization=organization, name=name, sku=sku, rate=rate, tax=tax, item=None)
    item = Item(
        organization=organization,
        name=name,
        sku=sku,
        unit=unit,
        rate=rate,
        tax=tax,
        description=description.strip(),
        is_active=is_active,
    )
    return _save_item(item, previous_tax_id=None)


def item_update(
    *,
    item: Item,
    name: str,
    rate: Decimal,
    sku: str = "",
    unit: str = "",
    tax: Tax | None = None,
    description: str = "",
    is_active: bool = True,
) -> Item:
    name, sku, unit = name.strip(), sku.strip(), unit.strip()
    _check_item(organization=item.organization, name=name, sku=sku, rate=rate, tax=tax, item=item)
    previous_tax_id = item.tax_id
    item.name = name
    item.sku = sku
    item.unit = unit
    item.rate = rate
    item.tax = tax
    item.description = description.strip()
    item.is_active = is_active
    return _save_item(item, previous_tax_id=previous_tax_id)


def item_set_active(*, item: Item, active: bool) -> Item:
    """Inactive items stay on documents but are no longer offered for new lines."""
    item.is_active = active
    item.save(update_fields=["is_active", "updated_at"])
    return item


def item_delete(*, item: Item) -> None:
    """Delete an item; document lines keep their copy (their link becomes empty)."""
    item.delete()


# Taxes ---------------------------------------------------------------------


def _check_tax(*, organization: Organization, name: str, rate: Decimal, tax: Tax | None) -> None:
    if not name:
        raise CatalogError(_("Enter the tax's name."), field="name")
    if rate is None or rate < 0 or rate > MAX_TAX_RATE:
        raise CatalogError(_("The rate must be between 0 and 100."), field="rate")
    if rate != rate.quantize(TAX_RATE_EXPONENT):
        raise CatalogError(_("The rate can have at most 3 decimal places."), field="rate")
    others = Tax.objects.filter(organization=organization, name__iexact=name)
    if tax is not None:
        others = others.exclude(pk=tax.pk)
    if others.exists():
        raise CatalogError(
            _("There is already a tax named %(name)s.") % {"name": name}, field="name"
        )


def _save_tax(tax: Tax) -> Tax:
    try:
        with transaction.atomic():
            tax.save()
    except IntegrityError as error:  # a concurrent save took the name first
        raise CatalogError(
            _("There is already a tax named %(name)s.") % {"name": tax.name}, field="name"
        ) from error
    return tax


def tax_create(*, organization: Organization, name: str, rate: Decimal) -> Tax:
    name = name.strip()
    _check_tax(organization=organization, name=name, rate=rate, tax=None)
    return _save_tax(Tax(organization=organization, name=name, rate=rate))


def tax_update(*, tax: Tax, name: str, rate: Decimal) -> Tax:
    """Rename or re-rate a tax. Saved documents keep the name and rate they had."""
    name = name.strip()
    _check_tax(organization=tax.organization, name=name, rate=rate, tax=tax)
    tax.name = name
    tax.rate = rate
    return _save_tax(tax)


@transaction.atomic
def tax_set_active(*, tax: Tax, active: bool) -> Tax:
    """Activate or deactivate a tax.

    A tax that active items use as their default cannot be deactivated: new
    lines for those items would silently lose their tax.
    """
    # Locked, so no item takes this tax as its default while it is checked.
    Tax.objects.select_for_update().filter(pk=tax.pk).first()
    if not active:
        users = Item.objects.filter(organization_id=tax.organization_id, tax=tax, is_active=True)
        count = users.count()
        if count:
            first_names = users.order_by("name", "id").values_list("name", flat=True)
            names = ", ".join(first_names[:ITEMS_NAMED_IN_ERROR])
            if count > ITEMS_NAMED_IN_ERROR:
                names += ", …"
            raise CatalogError(
                ngettext(
                    "%(count)s active item uses %(tax)s as its default tax (%(names)s): "
                    "change it first.",
                    "%(count)s active items use %(tax)s as their default tax (%(names)s): "
                    "change them first.",
                    count,
                )
                % {"count": count, "tax": tax.name, "names": names}
            )
    tax.is_active = active
    tax.save(update_fields=["is_active", "updated_at"])
    return tax
