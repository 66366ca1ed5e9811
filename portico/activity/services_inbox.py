"""A member's own notifications: marking them read or unread, their preferences.

Every function takes the member and the organisation and touches only their rows.
"""

from django.utils import timezone

from portico.accounts.models import Organization, User
from portico.activity.models import Channel, EventKind, Notification, NotificationPreferences
from portico.activity.services import organization_switches


def _inbox(*, user: User, organization: Organization):
    return Notification.objects.filter(recipient=user, organization=organization, in_app=True)


def notification_mark_read(*, user: User, organization: Organization, pk: int) -> int:
    """Mark one of the member's notifications read (kept as read when it already is)."""
    return (
        _inbox(user=user, organization=organization)
        .filter(pk=pk, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


def notification_mark_unread(*, user: User, organization: Organization, pk: int) -> int:
    return _inbox(user=user, organization=organization).filter(pk=pk).update(read_at=None)


def notifications_mark_all_read(*, user: User, organization: Organization) -> int:
    """Mark every unread notification of the member read; returns how many."""
    return (
        _inbox(user=user, organization=organization)
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )


def notification_preferences_save(
    *,
    user: User,
    organization: Organization,
    channels: dict[str, str],
    only_my_customers: bool,
) -> NotificationPreferences:
    """Save the member's channel per event type and the owner filter.

    A channel equal to the organisation's default is not stored: that type
    follows the default, also when the organisation changes it later.
    """
    default = organization_switches(organization).default_channel
    kept = {
        kind: channel
        for kind, channel in channels.items()
        if kind in EventKind.values and channel in Channel.values and channel != default
    }
    preferences, _ = NotificationPreferences.objects.update_or_create(
        organization=organization,
        user=user,
        defaults={"channels": kept, "only_my_customers": only_my_customers},
    )
    return preferences
