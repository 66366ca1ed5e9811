"""After Pay now: the checkout's status page and its cancel link.

``checkout_status`` is Stripe's return page (and where the test gateway
lands): "Payment processing…" polls itself every 2 s (htmx, the panel alone)
until the checkout is final, then shows the payment or what went wrong. For
Stripe it also asks Stripe directly, at most every few seconds, so a late
webhook does not keep the contact waiting; the webhook and this page racing
still make one payment (``checkout_confirm``).

``checkout_cancel`` is Stripe's cancel URL (a GET from Stripe's page; the
test gateway's form posts to it): a pending checkout fails as "cancelled",
which releases the invoices' duplicate-payment lock at once.

Both read only the signed-in contact's own checkouts: any other id is a 404.
"""

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portico.online_payments.models import Checkout, CheckoutStatus, Provider
from portico.online_payments.selectors import portal_checkout_get
from portico.online_payments.services import checkout_fail
from portico.online_payments.stripe_gateway import (
    FAILURE_CANCELLED,
    stripe_checkout_cancel,
    stripe_checkout_sync,
)
from portico.portal.access import portal_view
from portico.portal_access.models import PortalModule

# The return page asks Stripe at most this often per checkout (it polls every 2 s).
STRIPE_SYNC_INTERVAL_SECONDS = 4


def _own_checkout(request, pk: int) -> Checkout:
    try:
        return portal_checkout_get(access=request.portal_access, checkout_id=pk)
    except Checkout.DoesNotExist as error:
        raise Http404("No such payment.") from error


def _sync_due(checkout: Checkout) -> bool:
    """Whether to ask Stripe now (once per interval, across requests)."""
    return cache.add(f"portico:stripe-sync:{checkout.pk}", True, STRIPE_SYNC_INTERVAL_SECONDS)


def checkout_state(checkout: Checkout) -> str:
    """processing, paid, cancelled, failed or expired (a pending checkout past
    its expiry shows as expired: its lock is released)."""
    if checkout.status == CheckoutStatus.SUCCEEDED:
        return "paid"
    if checkout.status == CheckoutStatus.FAILED:
        return "cancelled" if checkout.failure_message == FAILURE_CANCELLED else "failed"
    if checkout.status == CheckoutStatus.EXPIRED or checkout.expires_at <= timezone.now():
        return "expired"
    return "processing"


def _status_context(request, checkout: Checkout) -> dict:
    lines = list(checkout.lines.select_related("invoice").order_by("invoice__date", "invoice_id"))
    payment = checkout.payment
    return {
        "checkout": checkout,
        "state": checkout_state(checkout),
        "lines": lines,
        "payment": payment,
        "show_receipt": payment is not None and PortalModule.PAYMENTS in request.portal_modules,
        "is_stripe": checkout.provider == Provider.STRIPE,
    }


@portal_view(module=PortalModule.INVOICES)
@require_GET
def checkout_status(request, portal_name: str, pk: int):
    checkout = _own_checkout(request, pk)
    if (
        checkout.provider == Provider.STRIPE
        and checkout.status == CheckoutStatus.PENDING
        and _sync_due(checkout)
    ):
        checkout = stripe_checkout_sync(checkout=checkout)
    context = _status_context(request, checkout)
    if request.htmx:
        return render(request, "portal/pay/_status_panel.html", context)
    return render(request, "portal/pay/status.html", context)


@portal_view(module=PortalModule.INVOICES)
@require_http_methods(["GET", "POST"])
def checkout_cancel(request, portal_name: str, pk: int):
    checkout = _own_checkout(request, pk)
    if checkout.status == CheckoutStatus.PENDING:
        if checkout.provider == Provider.STRIPE:
            checkout = stripe_checkout_cancel(checkout=checkout)
        else:
            checkout_fail(checkout_id=checkout.pk, message=FAILURE_CANCELLED)
            checkout.refresh_from_db()
    if checkout_state(checkout) != "cancelled":
        # Paid after all, or ended otherwise: the status page says how.
        return redirect("portal:checkout_status", portal_name=portal_name, pk=checkout.pk)
    return render(request, "portal/pay/cancelled.html", _status_context(request, checkout))
