from django.db.models import QuerySet

from portico.accounts.models import Membership, Organization, StaffInvitation, User


def membership_for_request(*, user: User, organization_id: int | None) -> Membership | None:
    """The membership the signed-in user works in: the one chosen, else the first."""
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization_id is not None:
        chosen = memberships.filter(organization_id=organization_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("created_at", "id").first()


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("organization")
        .filter(user=user)
        .order_by("organization__name")
    )


def team_members(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("user")
        .filter(organization=organization)
        .order_by("user__full_name", "user__email")
    )


def pending_staff_invitations(*, organization: Organization) -> QuerySet[StaffInvitation]:
    from django.utils import timezone

    return StaffInvitation.objects.filter(
        organization=organization,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")
