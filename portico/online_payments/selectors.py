"""Reads of online payments, scoped like every portal selector."""

from portico.online_payments.models import Checkout
from portico.portal_access.models import PortalAccess


def portal_checkout_get(
    *, access: PortalAccess, checkout_id: int, provider: str | None = None
) -> Checkout:
    """One checkout the contact started (same organisation, customer and contact),
    of ``provider`` when given; ``Checkout.DoesNotExist`` otherwise."""
    checkouts = Checkout.objects.filter(
        organization_id=access.organization_id,
        customer_id=access.customer_id,
        contact_id=access.contact_id,
    )
    if provider is not None:
        checkouts = checkouts.filter(provider=provider)
    return checkouts.get(pk=checkout_id)
