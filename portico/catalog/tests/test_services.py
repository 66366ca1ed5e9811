from decimal import Decimal

import pytest

from portico.catalog import services
from portico.catalog.models import Item, Tax
from portico.catalog.services import CatalogError
from portico.catalog.tests.factories import ItemFactory, TaxFactory
from portico.sales.tests.factories import InvoiceLineFactory

pytestmark = pytest.mark.django_db


# Items ---------------------------------------------------------------------


def test_item_create_stores_a_trimmed_item(organization):
    tax = TaxFactory(organization=organization)

    item = services.item_create(
        organization=organization,
        name="  Consulting hour ",
        sku=" CONS-1 ",
        unit="h",
        rate=Decimal("120.50"),
        tax=tax,
        description="Senior consultant",
    )

    item.refresh_from_db()
    assert (item.name, item.sku, item.unit, item.rate) == (
        "Consulting hour",
        "CONS-1",
        "h",
        Decimal("120.5"),
    )
    assert item.tax == tax
    assert item.is_active


def test_sku_is_unique_per_organisation_ignoring_case(organization):
    ItemFactory(organization=organization, name="Widget", sku="W-1")

    with pytest.raises(CatalogError) as error:
        services.item_create(organization=organization, name="Gadget", sku="w-1", rate=Decimal(1))

    assert error.value.field == "sku"
    assert "Widget" in error.value.message
    assert Item.objects.filter(organization=organization).count() == 1


def test_another_organisation_may_use_the_same_sku(organization):
    ItemFactory(sku="W-1")  # another organisation's

    item = services.item_create(organization=organization, name="W", sku="W-1", rate=Decimal(1))

    assert item.pk is not None


def test_items_without_sku_do_not_clash(organization):
    services.item_create(organization=organization, name="One", rate=Decimal(1))

    second = services.item_create(organization=organization, name="Two", rate=Decimal(1))

    assert second.sku == ""


def test_item_keeps_its_own_sku_on_update(organization):
    item = ItemFactory(organization=organization, sku="W-1")

    services.item_update(item=item, name="Renamed", sku="W-1", rate=Decimal(2))

    item.refresh_from_db()
    assert item.name == "Renamed"


def test_negative_rate_is_refused(organization):
    with pytest.raises(CatalogError) as error:
        services.item_create(organization=organization, name="X", rate=Decimal("-0.01"))

    assert error.value.field == "rate"
    assert not Item.objects.filter(organization=organization).exists()


def test_blank_name_is_refused(organization):
    with pytest.raises(CatalogError) as error:
        services.item_create(organization=organization, name="   ", rate=Decimal(1))

    assert error.value.field == "name"


def test_another_organisations_tax_is_refused(organization):
    foreign_tax = TaxFactory()

    with pytest.raises(CatalogError) as error:
        services.item_create(organization=organization, name="X", rate=Decimal(1), tax=foreign_tax)

    assert error.value.field == "tax"


def test_an_inactive_tax_cannot_be_newly_chosen(organization):
    tax = TaxFactory(organization=organization, is_active=False)

    with pytest.raises(CatalogError) as error:
        services.item_create(organization=organization, name="X", rate=Decimal(1), tax=tax)

    assert error.value.field == "tax"


def test_an_item_keeps_its_inactive_tax_when_edited(organization):
    tax = TaxFactory(organization=organization)
    item = ItemFactory(organization=organization, tax=tax)
    Tax.objects.filter(pk=tax.pk).update(is_active=False)
    tax.refresh_from_db()

    services.item_update(item=item, name="Renamed", rate=Decimal(5), tax=tax)

    item.refresh_from_db()
    assert item.tax == tax


def test_item_set_active(organization):
    item = ItemFactory(organization=organization)

    services.item_set_active(item=item, active=False)

    item.refresh_from_db()
    assert not item.is_active


def test_deleting_an_item_leaves_document_lines_intact(organization):
    item = ItemFactory(organization=organization, name="Widget")
    line = InvoiceLineFactory(
        document__customer__organization=organization, item=item, description="Widget"
    )

    services.item_delete(item=item)

    line.refresh_from_db()
    assert line.item is None
    assert line.description == "Widget"
    assert not Item.objects.filter(pk=item.pk).exists()


# Taxes ---------------------------------------------------------------------


def test_tax_create(organization):
    tax = services.tax_create(organization=organization, name=" GST ", rate=Decimal("7.125"))

    tax.refresh_from_db()
    assert (tax.name, tax.rate, tax.is_active) == ("GST", Decimal("7.125"), True)


def test_tax_name_is_unique_ignoring_case(organization):
    TaxFactory(organization=organization, name="VAT")

    with pytest.raises(CatalogError) as error:
        services.tax_create(organization=organization, name="vat", rate=Decimal(5))

    assert error.value.field == "name"


def test_tax_may_keep_its_own_name(organization):
    tax = TaxFactory(organization=organization, name="VAT")

    services.tax_update(tax=tax, name="VAT", rate=Decimal(21))

    tax.refresh_from_db()
    assert tax.rate == Decimal(21)


@pytest.mark.parametrize("rate", ["-1", "100.001", "7.0005"])
def test_tax_rate_outside_0_to_100_or_with_4_decimals_is_refused(organization, rate):
    with pytest.raises(CatalogError) as error:
        services.tax_create(organization=organization, name="Odd", rate=Decimal(rate))

    assert error.value.field == "rate"
    assert not Tax.objects.filter(organization=organization).exists()


@pytest.mark.parametrize("rate", ["0", "100", "7.125"])
def test_tax_rate_bounds_are_accepted(organization, rate):
    tax = services.tax_create(organization=organization, name="Edge", rate=Decimal(rate))

    assert tax.rate == Decimal(rate)


def test_changing_a_tax_rate_leaves_saved_lines_alone(organization):
    tax = TaxFactory(organization=organization, name="VAT", rate=Decimal(20))
    line = InvoiceLineFactory(
        document__customer__organization=organization,
        tax=tax,
        tax_name="VAT",
        tax_rate=Decimal(20),
    )

    services.tax_update(tax=tax, name="VAT reduced", rate=Decimal(10))

    line.refresh_from_db()
    assert (line.tax_name, line.tax_rate) == ("VAT", Decimal(20))


def test_tax_deactivation_is_refused_while_active_items_use_it(organization):
    tax = TaxFactory(organization=organization, name="VAT")
    ItemFactory(organization=organization, tax=tax, name="Widget")

    with pytest.raises(CatalogError) as error:
        services.tax_set_active(tax=tax, active=False)

    assert "Widget" in error.value.message
    tax.refresh_from_db()
    assert tax.is_active


def test_tax_used_only_by_inactive_items_can_be_deactivated_and_reactivated(organization):
    tax = TaxFactory(organization=organization)
    ItemFactory(organization=organization, tax=tax, is_active=False)

    services.tax_set_active(tax=tax, active=False)
    tax.refresh_from_db()
    assert not tax.is_active

    services.tax_set_active(tax=tax, active=True)
    tax.refresh_from_db()
    assert tax.is_active
