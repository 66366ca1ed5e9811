"""Recording what customers do in the portal, and telling the staff.

``activity_record`` is called by each portal action's service, inside its
transaction: the event, the members' notifications and the e-mails (outbox
rows) are written together, or not at all.

Who hears about an event: every active member of the organisation, each by
the channel they chose for that type of event (Notification preferences), or
else by the organisation's default — its portal settings **Notify me about
portal activity** (in the app, by e-mail), which are also the master switch:
a channel the organisation turned off reaches nobody. A member may limit
their notifications to the customers they own.

E-mail: one message per event, unless a member already got
``NOTIFICATION_DIGEST_THRESHOLD`` within ``NOTIFICATION_DIGEST_WINDOW``
seconds; from then on their notifications wait and go out together in one
digest at the end of the window.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from portico.accounts.models import Membership, Organization, User
from portico.activity.models import (
    ActivityEvent,
    Channel,
    EmailState,
    EventKind,
    Notification,
    NotificationPreferences,
)
from portico.mail.services import email_queue

IN_APP_CHANNELS = {Channel.IN_APP, Channel.BOTH}
EMAIL_CHANNELS = {Channel.EMAIL, Channel.BOTH}


@dataclass(frozen=True)
class OrganizationSwitches:
    in_app: bool
    email: bool

    @property
    def default_channel(self) -> str:
        if self.in_app and self.email:
            return Channel.BOTH
        if self.in_app:
            return Channel.IN_APP
        if self.email:
            return Channel.EMAIL
        return Channel.NONE


def organization_switches(organization: Organization) -> OrganizationSwitches:
    from portico.portal_access.models import PortalSettings

    try:
        portal_settings = organization.portal_settings
    except ObjectDoesNotExist:
        portal_settings = PortalSettings(organization=organization)
    return OrganizationSwitches(
        in_app=portal_settings.notify_in_app, email=portal_settings.notify_by_email
    )


def _document_number(document: models.Model | None) -> str:
    if document is None:
        return ""
    return str(getattr(document, "number", "") or getattr(document, "code", "") or document)


def activity_record(
    *,
    organization: Organization,
    kind: str,
    customer=None,
    contact=None,
    actor: User | None = None,
    actor_name: str = "",
    document: models.Model | None = None,
    data: dict | None = None,
) -> ActivityEvent:
    """Record one portal action and notify the staff who want to hear about it.

    ``actor_name`` defaults to the contact's (else the actor's) name;
    ``data`` holds the values of the event's sentence (``amount``, ``reason``,
    ``count``, ``changes`` …), stored as given (JSON).
    """
    if kind not in EventKind.values:
        raise ValueError(f"Unknown activity kind {kind!r}")
    if not actor_name:
        if contact is not None:
            actor_name = contact.full_name
        elif actor is not None:
            actor_name = actor.get_full_name()
    event = ActivityEvent.objects.create(
        organization=organization,
        kind=kind,
        customer=customer,
        contact=contact,
        actor=actor,
        actor_name=actor_name[:200],
        customer_name=(customer.display_name if customer is not None else "")[:200],
        content_type=ContentType.objects.get_for_model(document) if document is not None else None,
        object_id=document.pk if document is not None else None,
        document_number=_document_number(document)[:64],
        data=data or {},
    )
    notify_members(event)
    return event


def document_view_repeat_activity(
    *, organization_id: int, contact_id: int, content_type, object_id: int, now
) -> bool:
    """A later view by the same contact: counted on the first view's event,
    quietly. False when there is no such event (the view is a first one)."""
    return bool(
        ActivityEvent.objects.filter(
            organization_id=organization_id,
            kind=EventKind.DOCUMENT_VIEWED,
            content_type=content_type,
            object_id=object_id,
            contact_id=contact_id,
        ).update(repeat_count=F("repeat_count") + 1, last_occurred_at=now)
    )


def document_view_record_activity(*, access, document: models.Model) -> ActivityEvent | None:
    """A contact opened a document in the portal: the first view is an event
    (and notifies); later views by the same contact count on it, quietly."""
    if document_view_repeat_activity(
        organization_id=access.organization_id,
        contact_id=access.contact_id,
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
        now=timezone.now(),
    ):
        return None
    return activity_record(
        organization=access.organization,
        kind=EventKind.DOCUMENT_VIEWED,
        customer=access.customer,
        contact=access.contact,
        actor=access.user,
        document=document,
    )


def _member_channel(
    *,
    kind: str,
    switches: OrganizationSwitches,
    preferences: NotificationPreferences | None,
) -> str:
    channel = switches.default_channel
    if preferences is not None:
        channel = preferences.channels.get(kind, channel)
    wants_app = channel in IN_APP_CHANNELS and switches.in_app
    wants_email = channel in EMAIL_CHANNELS and switches.email
    if wants_app and wants_email:
        return Channel.BOTH
    if wants_app:
        return Channel.IN_APP
    if wants_email:
        return Channel.EMAIL
    return Channel.NONE


def notify_members(event: ActivityEvent) -> list[Notification]:
    """The notifications of ``event``: one per member who wants it (3 queries
    and one insert, however many members), e-mails queued or kept for a digest."""
    organization = event.organization
    switches = organization_switches(organization)
    if not switches.in_app and not switches.email:
        return []
    members = list(
        Membership.objects.filter(organization=organization, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    preferences = {
        row.user_id: row
        for row in NotificationPreferences.objects.filter(organization=organization)
    }
    owner_id = event.customer.owner_id if event.customer is not None else None
    notifications = []
    email_recipients = []
    for membership in members:
        user = membership.user
        if event.actor_id == user.pk:
            continue  # nobody is told about what they did themselves
        member_preferences = preferences.get(user.pk)
        only_mine = member_preferences is not None and member_preferences.only_my_customers
        if only_mine and owner_id != user.pk:
            continue
        channel = _member_channel(
            kind=event.kind, switches=switches, preferences=member_preferences
        )
        if channel == Channel.NONE:
            continue
        notification = Notification(
            organization=organization,
            recipient=user,
            event=event,
            in_app=channel in IN_APP_CHANNELS,
            created_at=event.occurred_at,
        )
        notifications.append(notification)
        if channel in EMAIL_CHANNELS and user.email:
            email_recipients.append(notification)
    Notification.objects.bulk_create(notifications)
    for notification in email_recipients:
        _email_or_hold_for_digest(notification)
    return notifications


def _digest_window() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_DIGEST_WINDOW_SECONDS)


def _email_or_hold_for_digest(notification: Notification) -> None:
    recipient = notification.recipient
    now = timezone.now()
    waiting = Notification.objects.filter(
        recipient=recipient,
        organization=notification.organization,
        email_state=EmailState.DIGEST,
    ).exists()
    recent = Notification.objects.filter(
        recipient=recipient,
        email_state=EmailState.SENT,
        emailed_at__gte=now - _digest_window(),
    ).count()
    if waiting or recent >= settings.NOTIFICATION_DIGEST_THRESHOLD:
        Notification.objects.filter(pk=notification.pk).update(email_state=EmailState.DIGEST)
        if not waiting:
            _schedule_digest(notification, at=now + _digest_window())
        return
    _email_queue_one(notification)
    Notification.objects.filter(pk=notification.pk).update(
        email_state=EmailState.SENT, emailed_at=now
    )


def _schedule_digest(notification: Notification, *, at) -> None:
    from portico.activity.tasks import send_notification_digest

    recipient_id, organization_id = notification.recipient_id, notification.organization_id
    transaction.on_commit(
        lambda: send_notification_digest.using(run_after=at).enqueue(
            recipient_id=recipient_id, organization_id=organization_id
        )
    )


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url else settings.SITE_URL + "/app/"


def _reply_to(event: ActivityEvent) -> str:
    """Replying to a comment's notice reaches the contact who wrote it."""
    if event.kind == EventKind.COMMENT_ADDED and event.contact is not None:
        return event.contact.email
    return ""


def _email_queue_one(notification: Notification) -> None:
    from portico.activity.summaries import event_staff_url

    recipient = notification.recipient
    event = notification.event
    email_queue(
        organization=notification.organization,
        kind="activity.notification",
        to_email=recipient.email,
        to_name=recipient.full_name,
        template="activity/email/notification",
        context={
            "event": event,
            "recipient": recipient,
            "event_url": _absolute(event_staff_url(event)),
            "preferences_url": _absolute("/app/notifications/preferences/"),
        },
        language=recipient.language,
        reply_to=_reply_to(event),
    )


def notification_digest_send(*, recipient_id: int, organization_id: int) -> int:
    """Send the notifications held for a digest as one e-mail; returns how many."""
    from portico.activity.summaries import event_staff_url

    with transaction.atomic():
        held = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(
                recipient_id=recipient_id,
                organization_id=organization_id,
                email_state=EmailState.DIGEST,
            )
            .select_related("event", "event__content_type", "recipient", "organization")
            .prefetch_related("event__document")
            .order_by("created_at", "id")
        )
        if not held:
            return 0
        recipient = held[0].recipient
        email_queue(
            organization=held[0].organization,
            kind="activity.digest",
            to_email=recipient.email,
            to_name=recipient.full_name,
            template="activity/email/digest",
            context={
                "recipient": recipient,
                "items": [
                    {"event": row.event, "url": _absolute(event_staff_url(row.event))}
                    for row in held
                ],
                "count": len(held),
                "notifications_url": _absolute("/app/notifications/"),
                "preferences_url": _absolute("/app/notifications/preferences/"),
            },
            language=recipient.language,
        )
        Notification.objects.filter(pk__in=[row.pk for row in held]).update(
            email_state=EmailState.SENT, emailed_at=timezone.now()
        )
    return len(held)


def notifications_prune(*, older_than_days: int) -> int:
    """Delete read notifications older than that; returns how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Notification.objects.filter(read_at__isnull=False, created_at__lt=cutoff).delete()
    return deleted
