"""Reading Enable portal jobs (Customers → More → Enable portal)."""

from portico.accounts.models import Organization
from portico.portal_access.models import BulkInvite


def bulk_invite_get(*, organization: Organization, bulk_invite_id: int) -> BulkInvite:
    """One job of the organisation, without its customer ids (which can be
    100,000 numbers); DoesNotExist (→ 404) for another organisation's."""
    return (
        BulkInvite.objects.filter(organization=organization, pk=bulk_invite_id)
        .defer("customer_ids")
        .select_related("requested_by")
        .get()
    )
