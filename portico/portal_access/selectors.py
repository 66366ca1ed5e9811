"""Portal access reads: which organisation a portal name belongs to, and more.

Every selector is scoped: it takes the organisation (or, for the portal name,
the one thing that finds it) and returns nothing of another organisation.
"""

from django.db.models import Case, IntegerField, QuerySet, Value, When

from portico.accounts.models import Organization, User
from portico.portal_access.models import AccessStatus, PortalAccess, PortalNameHistory

# --- portal names (Settings → Customer portal) ---------------------------------


def organization_for_portal_name(*, portal_name: str) -> tuple[Organization, bool]:
    """The organisation whose portal is ``/portal/<portal_name>/``, and whether
    ``portal_name`` is its current name (False: an earlier name, to redirect).

    One query for a current name, two for an earlier one. Raises
    ``Organization.DoesNotExist`` for a name nobody has (→ 404).
    """
    organization = Organization.objects.filter(portal_name=portal_name).first()
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
    active one if any, else the latest other (say, disabled). Its contact,
    customer, the organisation's portal settings and the person's two-factor
    device come with it (the portal checks all of them on every request)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        PortalAccess.objects.select_related(
            "contact", "customer", "organization__portal_settings", "user__two_factor_device"
        )
        .filter(organization=organization, user=user)
        .order_by(
            Case(
                When(status=AccessStatus.ACTIVE, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-updated_at",
            "-id",
        )
        .first()
    )
