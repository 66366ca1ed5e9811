"""Portal access reads: which organisation a portal name belongs to, and more.

Every selector is scoped: it takes the organisation (or, for the portal name,
the one thing that finds it) and returns nothing of another organisation.
"""

import copy
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from portico.accounts.models import Organization, User
from portico.customers.models import Customer
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


# --- the portal's fast path: one narrow read per request ------------------------


@dataclass(frozen=True)
class PortalVisit:
    """What every signed-in portal request needs to know about the person's
    access, read in one query without building model instances (the full
    access, its contact and customer are loaded only when a page renders)."""

    access_id: int
    status: str
    own_modules: list[str]  # the access's own limits ([] = all the organisation shows)
    language: str  # the contact's own choice, else the customer's portal language
    contact_id: int
    customer_id: int
    customer_version: int
    two_factor_confirmed: bool

    @classmethod
    def of_access(cls, access: PortalAccess) -> "PortalVisit":
        """The same facts, from a fully loaded access (``portal_access_for_user``)."""
        return cls(
            access_id=access.pk,
            status=access.status,
            own_modules=list(access.modules or []),
            language=access.effective_language,
            contact_id=access.contact_id,
            customer_id=access.customer_id,
            customer_version=access.customer.portal_version,
            two_factor_confirmed=access.two_factor_confirmed,
        )


def _json_list(value) -> list[str]:
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return list(value or [])


_VISIT_COLUMNS = """a.id, a.status, a.modules, a.language, a.contact_id, a.customer_id,
       a.updated_at, c.portal_version, c.portal_language,
       EXISTS (SELECT 1 FROM {devices} d
               WHERE d.user_id = a.user_id AND d.confirmed_at IS NOT NULL)"""


def _visit_columns() -> str:
    return _VISIT_COLUMNS.format(devices=TwoFactorDevice._meta.db_table)


def _visit_of(rows: list[tuple]) -> PortalVisit | None:
    """The visit from rows of ``_VISIT_COLUMNS``: the active access first,
    then the latest change, then the latest row (as ``portal_access_for_user``)."""
    rows = [row for row in rows if row[0] is not None]
    if not rows:
        return None
    row = max(rows, key=lambda row: (row[1] == AccessStatus.ACTIVE, str(row[6]), row[0]))
    return PortalVisit(
        access_id=row[0],
        status=row[1],
        own_modules=_json_list(row[2]),
        language=row[3] or row[8],
        contact_id=row[4],
        customer_id=row[5],
        customer_version=row[7],
        two_factor_confirmed=bool(row[9]),
    )


# Per process: portal name → (id, portal_version, organisation with its portal
# settings). A request reads only the two numbers; the organisation is loaded
# again when its version moved (portico.portal.versions raises it on any change).
_organizations: dict[str, tuple[int, int, Organization]] = {}


def _organization_of_version(portal_name: str, row: tuple) -> tuple[Organization, bool]:
    cached = _organizations.get(portal_name)
    if cached is None or (cached[0], cached[1]) != tuple(row):
        organization, is_current = organization_for_portal_name(portal_name=portal_name)
        if not is_current:
            return organization, is_current
        cached = (organization.pk, organization.portal_version, organization)
        _organizations[portal_name] = cached
    return copy.copy(cached[2]), True


def organization_for_portal_name_current(*, portal_name: str) -> tuple[Organization, bool]:
    """``organization_for_portal_name`` for every portal request: the same
    answer, from one narrow query while the organisation is unchanged. Each
    call returns its own copy (a request may set attributes on it)."""
    table = Organization._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, portal_version FROM {table} WHERE portal_name = %s", [portal_name]
        )
        row = cursor.fetchone()
    if row is None:  # an earlier name (redirect) or none (404)
        return organization_for_portal_name(portal_name=portal_name)
    return _organization_of_version(portal_name, row)


def organization_and_visit(
    *, portal_name: str, user: User
) -> tuple[Organization, bool, PortalVisit | None]:
    """``organization_for_portal_name_current`` and the person's access to
    that portal (as ``portal_access_for_user`` chooses it: the active one,
    else the latest) with the customer's data version, in one query: a
    signed-in person's cached portal page needs no other. For an earlier name
    the visit is None: the request is redirected."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT o.id, o.portal_version, {_visit_columns()}
                  FROM {Organization._meta.db_table} o
                  LEFT JOIN {PortalAccess._meta.db_table} a
                         ON a.organization_id = o.id AND a.user_id = %s
                  LEFT JOIN {Customer._meta.db_table} c ON c.id = a.customer_id
                 WHERE o.portal_name = %s""",
            [user.pk, portal_name],
        )
        rows = cursor.fetchall()
    if not rows:
        organization, is_current = organization_for_portal_name(portal_name=portal_name)
        return organization, is_current, None
    organization, is_current = _organization_of_version(portal_name, rows[0][:2])
    return organization, is_current, _visit_of([row[2:] for row in rows])


def organization_cache_clear() -> None:
    _organizations.clear()
