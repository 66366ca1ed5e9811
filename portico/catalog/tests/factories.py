from decimal import Decimal

import factory

from portico.accounts.tests.factories import OrganizationFactory
from portico.catalog.models import Item, Tax


class TaxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tax

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"VAT {n}")
    rate = Decimal("20.000")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Item {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    unit = "pcs"
    rate = Decimal("100.00")
