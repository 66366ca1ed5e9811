"""Portal access reads: which organisation a portal name belongs to, and more.

Every selector is scoped: it takes the organisation (or, for the portal name,
the one thing that finds it) and returns nothing of another organisation.
"""

from django.db.models import Exists, OuterRef, QuerySet

from portico.accounts.models import Organization, User
from portico.portal_access.models import (
    AccessStatus,
    PortalAccess,
    PortalNameHistory,
    TwoFactorDevice,
)

# --- portal names (Settings → Customer portal) ---------------------------------


def organization_for_portal_name(*, portal_name: str) -> tuple[Organization, bool]:
    """The organisation whose portal is ``/portal/<portal_name>/``, and whether
    ``portal_name`` is its current name (False: an earlier name, to redirect).

    One query for a current name, two for an earlier one; the organisation's
    portal settings come with it (``organization.portal_settings``, which
    raises ``DoesNotExist`` without a query when it has none). Raises
    ``Organization.DoesNotExist`` for a name nobody has (→ 404).
    """
    organization = (
        Organization.objects.select_related("portal_settings")
        .filter(portal_name=portal_name)
        .first()
    )
    if organization is not None:
        return organization, True
    earlier = (
        PortalNameHistory.objects.select_related("organization")
        .filter(portal_name=portal_name)
        .first()
    )
    if earlier is None:
        raise Organization.DoesNotExist(f"No portal is named {portal_name!r}.")
    return earlier.organization, False


def portal_name_history_list(*, organization: Organization) -> QuerySet[PortalNameHistory]:
    """The organisation's earlier portal names, newest first (they redirect)."""
    return PortalNameHistory.objects.filter(organization=organization).order_by(
        "-created_at", "-id"
    )


def portal_name_is_taken(*, portal_name: str, organization: Organization | None = None) -> bool:
    """Whether another organisation uses ``portal_name``, now or as an earlier
    name (an earlier name must keep redirecting to its own organisation)."""
    current = Organization.objects.filter(portal_name=portal_name)
    earlier = PortalNameHistory.objects.filter(portal_name=portal_name)
    if organization is not None:
        current = current.exclude(pk=organization.pk)
        earlier = earlier.exclude(organization=organization)
    return current.exists() or earlier.exists()


# --- the portal side: who is signed in (engineer P3) ---------------------------


def portal_access_for_user(*, organization: Organization, user: User) -> PortalAccess | None:
    """The person's access to this organisation's portal, in one query: the
    active one if any, else the latest other (say, disabled). Its contact and
    customer come with it, ``access.organization`` and ``access.user`` are the
    objects passed in (with the organisation's portal settings, loaded in the
    same query unless ``organization`` already has them), and
    ``access.two_factor_confirmed`` says whether the person has a confirmed
    two-factor device (the portal checks all of them on every request)."""
    if not getattr(user, "is_authenticated", False):
        return None
    settings_loaded = Organization.portal_settings.is_cached(organization)
    related = ["contact", "customer"]
    if not settings_loaded:
        related.append("organization__portal_settings")
    accesses = list(
        PortalAccess.objects.select_related(*related)
        .annotate(
            two_factor_confirmed=Exists(
                TwoFactorDevice.objects.filter(
                    user_id=OuterRef("user_id"), confirmed_at__isnull=False
                )
            )
        )
        .filter(organization=organization, user=user)
    )
    # A person has a few accesses here at most (one active); sorting them in
    # Python spares compiling an ORDER BY CASE on every request.
    access = min(
        accesses,
        key=lambda row: (row.status != AccessStatus.ACTIVE, -row.updated_at.timestamp(), -row.pk),
        default=None,
    )
    if access is not None:
        if settings_loaded:
            access.organization = organization
        access.user = user
    return access
