"""Forms of Settings → Online payments and of the portal's Pay now page."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.online_payments.models import OnlinePaymentSettings, Provider


def _plain(value) -> Decimal:
    """10.5000 as 10.5 and 100.0000 as 100 (never 1E+2)."""
    value = Decimal(value)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


class OnlinePaymentSettingsForm(forms.Form):
    """Settings → Online payments. A secret left blank keeps the saved one."""

    stripe_enabled = forms.BooleanField(label=_("Accept card payments with Stripe"), required=False)
    stripe_publishable_key = forms.CharField(
        label=_("Publishable key"),
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "pk_test_…"}
        ),
    )
    stripe_secret_key = forms.CharField(
        label=_("Secret key"),
        required=False,
        max_length=255,
        strip=True,
        # Never rendered back: the page shows which key is saved instead.
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "new-password", "spellcheck": "false", "placeholder": "sk_…"},
        ),
    )
    stripe_webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        required=False,
        max_length=255,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "new-password", "spellcheck": "false", "placeholder": "whsec_…"},
        ),
    )
    test_gateway_enabled = forms.BooleanField(
        label=_("Turn on the test gateway"),
        required=False,
        help_text=_(
            "A built-in card form that takes only test card numbers and moves no money: "
            "for trying Pay now in the portal."
        ),
    )
    payment_instructions = forms.CharField(
        label=_("Payment instructions"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Bank transfer details and the like. Shown on invoices in the portal when "
            "no online payment is available, and on the Pay page."
        ),
    )
    prevent_duplicate_payments = forms.BooleanField(
        label=_("Prevent duplicate payments"),
        required=False,
        help_text=_(
            "While a payment for an invoice is in progress, another Pay now for it is refused."
        ),
    )
    minimum_partial_amount = forms.DecimalField(
        label=_("Smallest partial payment"),
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        help_text=_(
            "When an invoice allows partial payments, the least a customer may pay "
            "(in the invoice's currency; never more than the balance due)."
        ),
    )

    @staticmethod
    def initial_from(row: OnlinePaymentSettings) -> dict:
        return {
            "stripe_enabled": row.stripe_enabled,
            "stripe_publishable_key": row.stripe_publishable_key,
            "test_gateway_enabled": row.test_gateway_enabled,
            "payment_instructions": row.payment_instructions,
            "prevent_duplicate_payments": row.prevent_duplicate_payments,
            "minimum_partial_amount": _plain(row.minimum_partial_amount),
        }

    def service_arguments(self) -> dict:
        """The cleaned data as ``online_payment_settings_update`` takes it
        (a blank secret is None: keep the saved one)."""
        data = dict(self.cleaned_data)
        for name in ("stripe_secret_key", "stripe_webhook_secret"):
            data[name] = data.get(name) or None
        return data


class PayForm(forms.Form):
    """The portal's Pay page: which invoices, how much of each, with which provider.

    Fields per invoice: ``pay_<id>`` (the box) and ``amount_<id>``. Ids posted
    for invoices the page did not offer are kept, so the service refuses them
    (and logs the tampering) instead of them vanishing silently.
    """

    PAY_PREFIX = "pay_"
    AMOUNT_PREFIX = "amount_"

    provider = forms.ChoiceField(
        label=_("Pay with"), choices=Provider.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, invoices: list, providers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        self.fields["provider"].choices = [
            (value, label) for value, label in Provider.choices if value in providers
        ]
        if providers:
            self.fields["provider"].initial = providers[0]
        ids = [invoice.pk for invoice in invoices]
        posted = []
        for name in self.data or {}:
            for prefix in (self.PAY_PREFIX, self.AMOUNT_PREFIX):
                rest = name[len(prefix) :]
                if name.startswith(prefix) and rest.isdigit() and int(rest) not in ids + posted:
                    posted.append(int(rest))
        self.invoice_ids = ids + posted
        for invoice_id in self.invoice_ids:
            self.fields[f"{self.PAY_PREFIX}{invoice_id}"] = forms.BooleanField(required=False)
            self.fields[f"{self.AMOUNT_PREFIX}{invoice_id}"] = forms.DecimalField(
                label=_("Amount to pay"),
                required=False,
                max_digits=18,
                decimal_places=4,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )

    def selections(self) -> list[tuple[int, Decimal | None]]:
        """(invoice id, amount or None for the full balance) of each ticked invoice."""
        chosen = []
        for invoice_id in self.invoice_ids:
            if self.cleaned_data.get(f"{self.PAY_PREFIX}{invoice_id}"):
                chosen.append(
                    (invoice_id, self.cleaned_data.get(f"{self.AMOUNT_PREFIX}{invoice_id}"))
                )
        return chosen

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.selections():
            raise forms.ValidationError(_("Tick at least one invoice to pay."))
        return cleaned
