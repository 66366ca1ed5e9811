"""Reading a member's notifications and the activity of documents, always scoped.

Every list loads its events' content types in the same query and their
documents with one query per kind of document (``prefetch_related``), so the
bell, the Notifications page and the dashboard take the same number of
queries however many notifications there are.
"""

from datetime import datetime, time

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from django.utils import timezone

from portico.accounts.models import Organization, User
from portico.activity.models import ActivityEvent, EventKind, Notification, NotificationPreferences
from portico.activity.services import OrganizationSwitches, organization_switches
from portico.customers.models import Customer

# The bell shows "99+" from here on: counting stops there, however many there are.
UNREAD_COUNT_CAP = 99
DROPDOWN_SIZE = 8


def _inbox(*, user: User, organization: Organization) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, organization=organization, in_app=True)


def _with_events(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    return notifications.select_related("event__content_type").prefetch_related("event__document")


def notifications_unread_count(*, user: User, organization: Organization) -> int:
    """Unread in-app notifications, counted up to ``UNREAD_COUNT_CAP + 1`` (one query)."""
    unread = _inbox(user=user, organization=organization).filter(read_at__isnull=True)
    return unread.order_by()[: UNREAD_COUNT_CAP + 1].count()


def notifications_latest(
    *, user: User, organization: Organization, limit: int = DROPDOWN_SIZE
) -> list[Notification]:
    """The member's latest notifications for the bell's dropdown, newest first."""
    notifications = _inbox(user=user, organization=organization).order_by("-created_at", "-id")
    return list(_with_events(notifications)[:limit])


def notifications_list(
    *,
    user: User,
    organization: Organization,
    kind: str = "",
    customer_id: int | None = None,
    unread_only: bool = False,
) -> QuerySet[Notification]:
    """The Notifications page: the member's in-app notifications, newest first, filtered."""
    notifications = _inbox(user=user, organization=organization)
    if kind in EventKind.values:
        notifications = notifications.filter(event__kind=kind)
    if customer_id:
        notifications = notifications.filter(event__customer_id=customer_id)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return _with_events(notifications.order_by("-created_at", "-id"))


def notification_get(*, user: User, organization: Organization, pk: int) -> Notification:
    """One of the member's notifications; ``Notification.DoesNotExist`` for anyone else's."""
    return _with_events(_inbox(user=user, organization=organization)).get(pk=pk)


def notification_filter_customer(*, organization: Organization, customer_id: int | None):
    """The customer the Notifications page is filtered by (None when not one of ours)."""
    if not customer_id:
        return None
    return Customer.objects.filter(organization=organization, pk=customer_id).first()


def notification_preferences_get(
    *, user: User, organization: Organization
) -> NotificationPreferences | None:
    return NotificationPreferences.objects.filter(organization=organization, user=user).first()


def notification_switches(*, organization: Organization) -> OrganizationSwitches:
    """The organisation's "Notify me about portal activity": default and master switch."""
    return organization_switches(organization)


def _start_of_today() -> datetime:
    """Midnight in the active time zone (the organisation's on staff pages)."""
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def activity_today(*, organization: Organization, limit: int = 10) -> list[ActivityEvent]:
    """Today's portal activity of the organisation, latest first."""
    events = (
        ActivityEvent.objects.filter(organization=organization, occurred_at__gte=_start_of_today())
        .select_related("content_type")
        .prefetch_related("document")
        .order_by("-occurred_at", "-id")
    )
    return list(events[:limit])


def activity_of_document(*, document: Model) -> list[ActivityEvent]:
    """The portal activity on one document, newest first like its history (one query)."""
    events = list(
        ActivityEvent.objects.filter(
            organization_id=document.organization_id,
            content_type=ContentType.objects.get_for_model(document),
            object_id=document.pk,
        ).order_by("-occurred_at", "-id")
    )
    for event in events:
        event.document = document  # it exists: we are on its page
    return events
