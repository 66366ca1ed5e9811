"""Links from Portico's staff pages to a payment at its provider."""

from portico.accounts.models import Organization
from portico.online_payments.models import Provider
from portico.payments.models import Payment

STRIPE_DASHBOARD = "https://dashboard.stripe.com"


def stripe_payment_id(*, payment: Payment, checkout=None) -> str:
    """The PaymentIntent id ("pi_…") of a Stripe payment, or "" when unknown."""
    if payment.provider != Provider.STRIPE:
        return ""
    candidates = [checkout.provider_payment_id if checkout is not None else ""]
    candidates.append(payment.provider_reference)
    return next((value for value in candidates if value and value.startswith("pi_")), "")


def provider_payment_url(*, organization: Organization, payment: Payment, checkout=None) -> str:
    """Where staff open the payment at its provider ("" when there is no such page).

    Stripe: the dashboard's payment page, under /test/ while the organisation's
    keys are test keys (Stripe's ids do not say which mode they belong to; a
    payment taken before switching modes opens in the current mode's dashboard).
    """
    intent = stripe_payment_id(payment=payment, checkout=checkout)
    if not intent:
        return ""
    from portico.online_payments.services import online_payment_settings_get, stripe_mode

    mode = stripe_mode(online_payment_settings_get(organization=organization))
    prefix = "/test" if mode != "live" else ""
    return f"{STRIPE_DASHBOARD}{prefix}/payments/{intent}"
