"""Forms for payments received, applying money to invoices, and statements."""

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.accounts.models import Organization
from portico.customers.models import Customer
from portico.payments.models import PaymentMode
from portico.sales.forms import CustomerPickerWidget
from portico.sales.models import Invoice

APPLY_PREFIX = "apply_"


class InvoiceAmountsForm(forms.Form):
    """One amount per open invoice: how much of a payment or credit to apply to it.

    Fields are named ``apply_<invoice id>``. An amount posted for an invoice
    that is no longer open is kept, so the service can say why it cannot be
    applied instead of the amount silently vanishing.
    """

    def __init__(self, *args, invoices: list[Invoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        ids = [invoice.pk for invoice in invoices]
        posted = [
            int(name[len(APPLY_PREFIX) :])
            for name in (self.data or {})
            if name.startswith(APPLY_PREFIX) and name[len(APPLY_PREFIX) :].isdigit()
        ]
        for invoice_id in ids + [pk for pk in posted if pk not in ids]:
            self.fields[f"{APPLY_PREFIX}{invoice_id}"] = forms.DecimalField(
                label=_("Amount to apply"),
                required=False,
                max_digits=18,
                decimal_places=4,
                min_value=Decimal(0),
                error_messages={"min_value": _("The amount cannot be negative.")},
            )

    def rows(self) -> list[tuple[Invoice, forms.BoundField]]:
        return [(invoice, self[f"{APPLY_PREFIX}{invoice.pk}"]) for invoice in self.invoices]

    def applications(self) -> list[tuple[int, Decimal]]:
        return [
            (int(name[len(APPLY_PREFIX) :]), value)
            for name, value in self.cleaned_data.items()
            if name.startswith(APPLY_PREFIX) and value
        ]


class PaymentForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), widget=CustomerPickerWidget
    )
    amount = forms.DecimalField(
        label=_("Amount received"),
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    date = forms.DateField(
        label=_("Payment date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mode = forms.ChoiceField(label=_("Payment mode"), choices=PaymentMode.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("Cheque number, bank transaction ID …"),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    keep_excess_as_credit = forms.BooleanField(
        label=_("Keep the excess as customer credit"), required=False
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.filter(organization=organization)
        self.fields["customer"].queryset = customers
        chosen = self.data.get("customer") or self.initial.get("customer")
        chosen_id = getattr(chosen, "pk", chosen)
        self.chosen_customer = (
            customers.filter(pk=chosen_id).first() if str(chosen_id or "").isdigit() else None
        )
        self.fields["customer"].widget.choices = (
            [(self.chosen_customer.pk, self.chosen_customer.display_name)]
            if self.chosen_customer
            else [("", _("Search for a customer…"))]
        )


class StatementForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    @staticmethod
    def this_month() -> tuple[date, date]:
        today = timezone.localdate()
        start = today.replace(day=1)
        next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return start, next_month - timedelta(days=1)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        if start and end and (end - start).days > 3660:
            raise forms.ValidationError(_("Choose a period of at most ten years."))
        return cleaned


class RefundForm(forms.Form):
    """Record a refund out of a payment's unused credit."""

    amount = forms.DecimalField(
        label=_("Amount refunded"),
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    date = forms.DateField(
        label=_("Refund date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("The provider's refund ID, a bank transaction ID …"),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
