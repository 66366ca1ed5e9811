"""The credit note form: customer, date, reference, the invoice it is against,
reason, lines, notes and terms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.sales.forms import DocumentForm
from portico.sales.models import Invoice
from portico.sales.services.common import LineData
from portico.sales.services.credit_notes import CREDITABLE_INVOICE_STATUSES, CreditNoteData

# The invoice picker lists the customer's latest issued invoices.
INVOICE_CHOICES_LIMIT = 200


def creditable_invoices(*, organization, customer, keep_id: int | None = None) -> list[Invoice]:
    """The customer's latest issued invoices (and the one already chosen)."""
    if customer is None:
        return []
    invoices = list(
        Invoice.objects.filter(
            organization=organization, customer=customer, status__in=CREDITABLE_INVOICE_STATUSES
        )
        .only("id", "number", "date", "total", "currency")
        .order_by("-date", "-id")[:INVOICE_CHOICES_LIMIT]
    )
    if keep_id and all(invoice.pk != keep_id for invoice in invoices):
        kept = Invoice.objects.filter(
            organization=organization, customer=customer, pk=keep_id
        ).first()
        if kept is not None:
            invoices.append(kept)
    return invoices


class CreditNoteForm(DocumentForm):
    invoice = forms.TypedChoiceField(
        label=_("Against invoice"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Optional: the invoice this credit note corrects."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Credit notes are not sent to chosen contacts.
        del self.fields["contacts"]
        chosen = self.data.get(self.add_prefix("invoice")) or self.initial.get("invoice")
        self.invoice_choices = creditable_invoices(
            organization=self.organization,
            customer=self.chosen_customer,
            keep_id=int(chosen) if str(chosen or "").isdigit() else None,
        )
        self.fields["invoice"].choices = [("", _("None"))] + [
            (invoice.pk, invoice.number) for invoice in self.invoice_choices
        ]

    def credit_note_data(self, lines: list[LineData]) -> CreditNoteData:
        data = self.cleaned_data
        return CreditNoteData(
            **vars(self.document_data(lines)),
            invoice_id=data.get("invoice"),
            reason=data.get("reason", ""),
        )
