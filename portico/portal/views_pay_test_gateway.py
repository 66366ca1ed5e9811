"""The built-in test gateway's card page: pay a checkout with a test card number.

No real money moves. ``test_gateway_charge`` accepts the documented numbers
(shown on the page): 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is
declined, 4000 0000 0000 9995 has insufficient funds. A paid checkout goes
on to its status page (``portal:checkout_status``); a declined one shows the
message and stays open for another number until it expires. Only the
contact's own test-gateway checkouts open here: any other id is a 404.
"""

import re

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from portico.online_payments.models import Checkout, CheckoutStatus, Provider
from portico.online_payments.selectors import portal_checkout_get
from portico.online_payments.services import (
    OnlinePaymentError,
    test_cards,
    test_gateway_charge,
)
from portico.portal.access import portal_view
from portico.portal_access.models import PortalModule

EXPIRY_PATTERN = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class TestCardForm(forms.Form):
    """A card as a checkout form asks for it; the test gateway checks the number."""

    card_number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "placeholder": "4242 4242 4242 4242",
                "class": "font-monospace",
            }
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry date"),
        max_length=9,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": _("MM / YY")}
        ),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        max_length=4,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "123"}
        ),
    )

    __test__ = False  # not a pytest test class

    def clean_expiry(self) -> tuple[int, int]:
        match = EXPIRY_PATTERN.match(self.cleaned_data["expiry"])
        if not match:
            raise forms.ValidationError(_("Enter the expiry date as MM / YY."))
        return int(match.group(1)), int(match.group(2))


def _checkout_or_404(request, pk: int) -> Checkout:
    try:
        return portal_checkout_get(
            access=request.portal_access, checkout_id=pk, provider=Provider.TEST
        )
    except Checkout.DoesNotExist as error:
        raise Http404("No such payment.") from error


def _state(checkout: Checkout) -> str:
    """open, paid, or ended (expired, failed or cancelled: nothing was charged)."""
    if checkout.status == CheckoutStatus.SUCCEEDED:
        return "paid"
    if checkout.status == CheckoutStatus.PENDING and checkout.expires_at > timezone.now():
        return "open"
    return "ended"


@portal_view(module=PortalModule.INVOICES)
@require_http_methods(["GET", "POST"])
def card(request, portal_name: str, pk: int):
    checkout = _checkout_or_404(request, pk)
    status = 200
    if request.method == "POST" and _state(checkout) != "ended":
        form = TestCardForm(request.POST)
        if form.is_valid():
            month, year = form.cleaned_data["expiry"]
            try:
                test_gateway_charge(
                    access=request.portal_access,
                    checkout_id=checkout.pk,
                    card_number=form.cleaned_data["card_number"],
                    expiry_month=month,
                    expiry_year=year,
                    cvc=form.cleaned_data["cvc"],
                )
            except OnlinePaymentError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                checkout.refresh_from_db()
            else:
                return redirect("portal:checkout_status", portal_name=portal_name, pk=checkout.pk)
        status = 422
    else:
        form = TestCardForm()
    context = {
        "checkout": checkout,
        "state": _state(checkout),
        "lines": checkout.lines.select_related("invoice").order_by("invoice__date", "invoice_id"),
        "form": form,
        "test_cards": test_cards(),
    }
    return render(request, "portal/pay/card.html", context, status=status)
