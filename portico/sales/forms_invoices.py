"""The invoice form: the shared document header plus due date, payment terms
and "Allow partial payments"."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.customers.models import PaymentTerms
from portico.sales.forms import DocumentForm
from portico.sales.services.common import LineData
from portico.sales.services.invoices import InvoiceData


class InvoiceForm(DocumentForm):
    extra_header_field_names = ("payment_terms", "due_date", "allow_partial_payments")

    payment_terms = forms.TypedChoiceField(
        label=_("Payment terms"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("The due date follows from the date and the terms."),
    )
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to follow the payment terms."),
    )
    allow_partial_payments = forms.BooleanField(label=_("Allow partial payments"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("The customer's terms")), *PaymentTerms.choices]
        current = self.initial.get("payment_terms")
        if current is not None and current not in PaymentTerms.values:
            choices.append((current, _("Net %(days)s") % {"days": current}))
        self.fields["payment_terms"].choices = choices

    def clean(self):
        cleaned = super().clean()
        invoice_date, due_date = cleaned.get("date"), cleaned.get("due_date")
        if invoice_date and due_date and due_date < invoice_date:
            self.add_error("due_date", _("The due date cannot be before the invoice date."))
        # On an edit, a due date left as it was follows a changed date or terms.
        elif (
            self.initial
            and "due_date" not in self.changed_data
            and {"date", "payment_terms"} & set(self.changed_data)
        ):
            cleaned["due_date"] = None
        return cleaned

    def document_data(self, lines: list[LineData]) -> InvoiceData:
        data = self.cleaned_data
        return InvoiceData(
            **vars(super().document_data(lines)),
            due_date=data.get("due_date"),
            payment_terms=data.get("payment_terms"),
            allow_partial_payments=bool(data.get("allow_partial_payments")),
        )
