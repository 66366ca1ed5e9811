from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from portico.accounts.models import Organization
from portico.catalog import selectors
from portico.catalog.models import Item, Tax
from portico.core.money import quantize_money


def _plain(value: Decimal, currency: str | None = None) -> str:
    """A decimal for an input box: 12.50 stays 12.50 (money), 7.000 becomes 7."""
    if currency is not None:
        rounded = quantize_money(value, currency)
        if rounded == value:
            return format(rounded, "f")
    return format(value.normalize(), "f")


class ItemForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sku = forms.CharField(
        label=_("SKU"),
        max_length=64,
        required=False,
        help_text=_("Stock keeping unit: unique among your items."),
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=20,
        required=False,
        help_text=_("For example pcs, h, kg or box."),
    )
    rate = forms.DecimalField(
        label=_("Selling rate"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0), _("The selling rate cannot be negative."))],
    )
    tax = forms.ModelChoiceField(
        label=_("Default tax"), queryset=Tax.objects.none(), required=False, empty_label=_("No tax")
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on document lines for this item."),
    )
    is_active = forms.BooleanField(label=_("Active: offered on new documents"), required=False)

    def __init__(self, *args, organization: Organization, item: Item | None = None, **kwargs):
        if item is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": item.name,
                    "sku": item.sku,
                    "unit": item.unit,
                    "rate": _plain(item.rate, organization.base_currency),
                    "tax": item.tax_id,
                    "description": item.description,
                    "is_active": item.is_active,
                },
            )
        else:
            kwargs.setdefault("initial", {"is_active": True})
        super().__init__(*args, **kwargs)
        self.fields["tax"].queryset = selectors.tax_choices(
            organization=organization, keep=item.tax if item is not None else None
        )
        self.fields["rate"].help_text = _("In %(currency)s, before tax.") % {
            "currency": organization.base_currency
        }


class TaxForm(forms.Form):
    name = forms.CharField(label=_("Tax name"), max_length=100)
    rate = forms.DecimalField(
        label=_("Rate (%)"),
        max_digits=6,
        decimal_places=3,
        validators=[
            MinValueValidator(Decimal(0), _("The rate must be between 0 and 100.")),
            MaxValueValidator(Decimal(100), _("The rate must be between 0 and 100.")),
        ],
        help_text=_("Up to 3 decimal places, for example 7.5."),
    )

    def __init__(self, *args, tax: Tax | None = None, **kwargs):
        if tax is not None:
            kwargs.setdefault("initial", {"name": tax.name, "rate": _plain(tax.rate)})
        super().__init__(*args, **kwargs)


class NumberSeriesForm(forms.Form):
    prefix = forms.CharField(label=_("Prefix"), max_length=12)
    next_number = forms.IntegerField(label=_("Next number"), min_value=1)
