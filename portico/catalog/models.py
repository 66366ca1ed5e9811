from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel


class Tax(OrganizationOwnedModel):
    """A simple (non-compound) tax: a name and a percentage."""

    name = models.CharField(_("name"), max_length=100)
    rate = models.DecimalField(
        _("rate (%)"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="catalog_tax_name_unique"),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="catalog_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate.normalize():f}%)"


class Item(OrganizationOwnedModel):
    """Something the business sells: goods or a service, at a selling rate."""

    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    description = models.TextField(_("description"), blank=True)
    # In the organisation's base currency; a document in another currency
    # takes the number as its starting point and staff adjust it.
    rate = models.DecimalField(
        _("selling rate"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)]
    )
    tax = models.ForeignKey(
        Tax,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("default tax"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name", "id"], name="item_org_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sku"],
                condition=~Q(sku=""),
                name="catalog_item_sku_unique",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="catalog_item_rate_positive"),
        ]

    def __str__(self) -> str:
        return self.name
