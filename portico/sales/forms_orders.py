"""The sales order form (the shared document header plus the expected
shipment date) and the fulfilment form of an order's page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.sales.forms import DocumentForm
from portico.sales.models import FulfilmentStatus
from portico.sales.services.common import LineData
from portico.sales.services.orders import SalesOrderData


class SalesOrderForm(DocumentForm):
    extra_header_field_names = ("expected_shipment_date",)

    expected_shipment_date = forms.DateField(
        label=_("Expected shipment date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        cleaned = super().clean()
        order_date, expected = cleaned.get("date"), cleaned.get("expected_shipment_date")
        if order_date and expected and expected < order_date:
            self.add_error(
                "expected_shipment_date",
                _("The expected shipment date cannot be before the order date."),
            )
        return cleaned

    def document_data(self, lines: list[LineData]) -> SalesOrderData:
        return SalesOrderData(
            **vars(super().document_data(lines)),
            expected_shipment_date=self.cleaned_data.get("expected_shipment_date"),
        )


class FulfilmentForm(forms.Form):
    fulfilment_status = forms.ChoiceField(
        label=_("Fulfilment status"), choices=FulfilmentStatus.choices, widget=forms.RadioSelect
    )
    shipment_date = forms.DateField(
        label=_("Shipment date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("fulfilment_status") == FulfilmentStatus.SHIPPED
            and not cleaned.get("shipment_date")
            and "shipment_date" not in self.errors
        ):
            self.add_error("shipment_date", _("Enter the shipment date of a shipped order."))
        return cleaned
