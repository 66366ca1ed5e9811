"""Activity events and who hears about them: channels, master switch, owners, digests."""

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from portico.accounts.tests.factories import MembershipFactory, UserFactory
from portico.activity.models import (
    ActivityEvent,
    Channel,
    EmailState,
    EventKind,
    Notification,
    NotificationPreferences,
)
from portico.activity.services import (
    activity_record,
    document_view_record_activity,
    notification_digest_send,
)
from portico.mail.models import OutboundEmail
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.models import InvoiceStatus, QuoteStatus
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def access():
    return PortalAccessFactory(active=True)


@pytest.fixture
def organization(access):
    return access.organization


@pytest.fixture
def owner(organization):
    return MembershipFactory(organization=organization, user__language="en").user


@pytest.fixture
def colleague(organization):
    return MembershipFactory(organization=organization, role="staff", user__language="ja").user


def _record(access, kind=EventKind.QUOTE_ACCEPTED, document=None, **data):
    document = document or QuoteFactory(customer=access.customer, status=QuoteStatus.ACCEPTED)
    return activity_record(
        organization=access.organization,
        kind=kind,
        customer=access.customer,
        contact=access.contact,
        actor=access.user,
        document=document,
        data=data,
    )


def test_an_event_notifies_every_member_in_the_app_and_by_e_mail_by_default(
    access, owner, colleague
):
    event = _record(access)

    notifications = Notification.objects.filter(event=event)
    assert {n.recipient for n in notifications} == {owner, colleague}
    assert all(n.in_app and n.email_state == EmailState.SENT for n in notifications)
    emails = OutboundEmail.objects.filter(kind="activity.notification")
    assert sorted(e.to_email for e in emails) == sorted([owner.email, colleague.email])
    english = emails.get(to_email=owner.email)
    assert f"accepted quote {event.document_number}" in english.subject
    assert access.contact.full_name in english.body_text
    assert f"/app/quotes/{event.object_id}/" in english.body_text


def test_the_event_reads_in_the_readers_language_and_names_the_document(access, owner):
    event = _record(access, kind=EventKind.QUOTE_DECLINED, reason="Too expensive")

    with translation.override("en"):
        assert event.summary == (
            f"{access.contact.full_name} ({access.customer.display_name}) declined "
            f"quote {event.document_number}: Too expensive"
        )


def test_a_deleted_document_still_reads_as_a_deleted_document(access, owner):
    quote = QuoteFactory(customer=access.customer, status=QuoteStatus.SENT)
    event = _record(access, kind=EventKind.COMMENT_ADDED, document=quote)
    quote.delete()

    event = ActivityEvent.objects.get(pk=event.pk)
    assert "(deleted document)" in event.summary
    assert quote.number in event.summary


def test_the_organisation_switches_are_the_default_and_the_master_switch(access, owner, colleague):
    PortalSettingsFactory(organization=access.organization, notify_by_email=False)
    NotificationPreferences.objects.create(
        organization=access.organization,
        user=colleague,
        channels={EventKind.QUOTE_ACCEPTED: Channel.EMAIL},
    )

    event = _record(access)

    by_recipient = {n.recipient: n for n in Notification.objects.filter(event=event)}
    # The owner gets the default (in the app only); the colleague asked for
    # e-mail only, which the organisation turned off: nothing.
    assert set(by_recipient) == {owner}
    assert by_recipient[owner].in_app
    assert not OutboundEmail.objects.filter(kind="activity.notification").exists()


def test_everything_off_notifies_nobody(access, owner):
    PortalSettingsFactory(
        organization=access.organization, notify_by_email=False, notify_in_app=False
    )

    event = _record(access)

    assert not Notification.objects.filter(event=event).exists()
    assert ActivityEvent.objects.filter(pk=event.pk).exists()  # still recorded


@pytest.mark.parametrize(
    ("channel", "in_app", "emailed"),
    [
        (Channel.BOTH, True, True),
        (Channel.IN_APP, True, False),
        (Channel.EMAIL, False, True),
        (Channel.NONE, None, False),
    ],
)
def test_each_members_channel_per_event_type(access, owner, channel, in_app, emailed):
    NotificationPreferences.objects.create(
        organization=access.organization, user=owner, channels={EventKind.COMMENT_ADDED: channel}
    )

    commented = _record(access, kind=EventKind.COMMENT_ADDED)
    accepted = _record(access, kind=EventKind.QUOTE_ACCEPTED)

    notification = Notification.objects.filter(event=commented, recipient=owner).first()
    if in_app is None:
        assert notification is None
    else:
        assert notification.in_app is in_app
    sent = OutboundEmail.objects.filter(to_email=owner.email, kind="activity.notification")
    assert sent.count() == (1 if emailed else 0) + 1  # the other type keeps the default
    assert Notification.objects.get(event=accepted, recipient=owner).in_app


def test_only_my_customers(access, owner, colleague):
    NotificationPreferences.objects.create(
        organization=access.organization, user=colleague, only_my_customers=True
    )

    first = _record(access)
    access.customer.owner = colleague
    access.customer.save(update_fields=["owner"])
    second = _record(access)

    assert not Notification.objects.filter(event=first, recipient=colleague).exists()
    assert Notification.objects.filter(event=second, recipient=colleague).exists()
    assert Notification.objects.filter(event=first, recipient=owner).exists()


def test_the_actor_is_not_told_about_their_own_action(access, owner):
    MembershipFactory(organization=access.organization, user=access.user, role="staff")

    event = _record(access)

    assert not Notification.objects.filter(event=event, recipient=access.user).exists()
    assert Notification.objects.filter(event=event, recipient=owner).exists()


def test_many_events_in_a_short_time_become_one_digest(
    access, owner, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_DIGEST_THRESHOLD = 3
    with django_capture_on_commit_callbacks(execute=True):
        events = [_record(access, kind=EventKind.COMMENT_ADDED) for _ in range(7)]

    mine = Notification.objects.filter(recipient=owner)
    assert mine.filter(email_state=EmailState.SENT).count() == 3
    assert mine.filter(email_state=EmailState.DIGEST).count() == 4
    # One digest scheduled (not four), at the end of the window.
    scheduled = DBTaskResult.objects.filter(task_path__endswith="send_notification_digest")
    assert scheduled.count() == 1
    assert scheduled.get().run_after > timezone.now() + timezone.timedelta(minutes=4)
    assert OutboundEmail.objects.filter(to_email=owner.email).count() == 3

    sent = notification_digest_send(recipient_id=owner.pk, organization_id=access.organization_id)

    assert sent == 4
    digest = OutboundEmail.objects.get(kind="activity.digest", to_email=owner.email)
    assert "4 new events" in digest.subject
    for event in events[3:]:
        assert event.document_number in digest.body_text
    assert not mine.filter(email_state=EmailState.DIGEST).exists()
    assert (
        notification_digest_send(recipient_id=owner.pk, organization_id=access.organization_id) == 0
    )


def test_the_first_view_is_an_event_later_views_are_counted_on_it(access, owner):
    invoice = InvoiceFactory(customer=access.customer, status=InvoiceStatus.SENT)

    first = document_view_record_activity(access=access, document=invoice)
    again = document_view_record_activity(access=access, document=invoice)
    document_view_record_activity(access=access, document=invoice)

    assert first is not None and again is None
    first.refresh_from_db()
    assert first.repeat_count == 3
    assert Notification.objects.filter(event__kind=EventKind.DOCUMENT_VIEWED).count() == 1
    with translation.override("en"):
        assert "(3 times)" in first.summary


def test_prune_deletes_old_read_notifications_only(access, owner):
    event = _record(access)
    old = timezone.now() - timezone.timedelta(days=120)
    Notification.objects.filter(event=event).update(created_at=old, read_at=old)
    unread = Notification.objects.create(
        organization=access.organization,
        recipient=UserFactory(),
        event=event,
        created_at=old,
    )

    call_command("prune_notifications", "--days", "90", stdout=None)

    assert list(Notification.objects.all()) == [unread]
