"""Settings → Online payments (staff side)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from portico.accounts.decorators import staff_view
from portico.core.errors import PorticoError
from portico.online_payments.forms import OnlinePaymentSettingsForm
from portico.online_payments.models import OnlinePaymentSettings
from portico.online_payments.secrets import secret_decrypt
from portico.online_payments.services import (
    online_payment_settings_get,
    online_payment_settings_update,
    stripe_mode,
)

logger = logging.getLogger(__name__)

SECRET_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_")


def secret_hint(encrypted: str) -> str:
    """A saved secret as the page may show it: "sk_test_…abcd" ("" when none is saved)."""
    if not encrypted:
        return ""
    try:
        value = secret_decrypt(encrypted)
    except Exception:  # a key rotated since: the secret is there but unreadable
        logger.warning("online payments: a saved secret cannot be decrypted")
        return "…"
    prefix = next((prefix for prefix in SECRET_PREFIXES if value.startswith(prefix)), "")
    return f"{prefix}…{value[-4:]}" if len(value) > len(prefix) + 4 else f"{prefix}…"


def webhook_url(organization) -> str:
    """The absolute address to paste into Stripe's webhook settings."""
    try:
        path = reverse("stripe_webhook", kwargs={"organization_id": organization.pk})
    except NoReverseMatch:
        return ""
    return settings.SITE_URL + path


def _render_page(
    request, *, row: OnlinePaymentSettings, form: OnlinePaymentSettingsForm | None, status=200
):
    form = form or OnlinePaymentSettingsForm(initial=OnlinePaymentSettingsForm.initial_from(row))
    can_change = request.membership.can_manage_team
    test_gateway_allowed = settings.PORTICO_TEST_GATEWAY_ALLOWED
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    elif not test_gateway_allowed and not row.test_gateway_enabled:
        form.fields["test_gateway_enabled"].disabled = True
    context = {
        "row": row,
        "form": form,
        "can_change": can_change,
        "mode": stripe_mode(row),
        "secret_key_hint": secret_hint(row.stripe_secret_key_encrypted),
        "webhook_secret_hint": secret_hint(row.stripe_webhook_secret_encrypted),
        "webhook_url": webhook_url(request.organization),
        "test_gateway_allowed": test_gateway_allowed,
    }
    return render(request, "online_payments/settings.html", context, status=status)


@staff_view
def online_payment_settings_page(request):
    row = online_payment_settings_get(organization=request.organization)
    if request.method != "POST":
        return _render_page(request, row=row, form=None)
    if not request.membership.can_manage_team:
        messages.error(request, _("Only an owner or an admin can change these settings."))
        return _render_page(request, row=row, form=None, status=403)
    form = OnlinePaymentSettingsForm(request.POST)
    if form.is_valid():
        try:
            online_payment_settings_update(
                organization=request.organization, **form.service_arguments()
            )
        except PorticoError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Online payment settings saved."))
            return redirect("online_payments:settings")
    return _render_page(request, row=row, form=form, status=422)
