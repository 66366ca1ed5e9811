"""The quote form: the shared document header plus the expiry date."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.sales.forms import DocumentForm


class QuoteForm(DocumentForm):
    extra_header_field_names = ("expiry_date",)

    expiry_date = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        cleaned = super().clean()
        quote_date, expiry_date = cleaned.get("date"), cleaned.get("expiry_date")
        if quote_date and expiry_date and expiry_date < quote_date:
            self.add_error("expiry_date", _("The expiry date cannot be before the quote date."))
        return cleaned
