"""Every portal action records exactly one activity event, and the staff hear
about it as each member chose (in the app, by e-mail, both, not at all, only
about their own customers) under the organisation's master switch.

Each action runs through the service the portal (or the staff page, for
disabling access) calls; nothing here calls ``activity_record`` directly.
"""

import re
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from portico.accounts.models import Organization, Role, User
from portico.accounts.tests.factories import MembershipFactory
from portico.activity.models import (
    ActivityEvent,
    Channel,
    EmailState,
    EventKind,
    Notification,
    NotificationPreferences,
)
from portico.comments.services import comment_add_by_contact
from portico.core.money import format_money
from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)
from portico.customers.models import Customer
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import OutboundEmail
from portico.online_payments.services import checkout_confirm, checkout_prepare
from portico.online_payments.tests.p1_support import enable_test_gateway, invoice_of
from portico.portal.account_services import (
    PortalContactData,
    portal_contact_save,
    portal_details_update,
    portal_time_entries_approve,
)
from portico.portal.services import document_view_record
from portico.portal_access.models import PortalAccess
from portico.portal_access.services import (
    invitation_accept,
    portal_access_disable,
    portal_settings_get,
)
from portico.portal_access.signup import SignupData, signup_complete, signup_request_create
from portico.portal_access.tests.factories import PortalAccessFactory, PortalInvitationFactory
from portico.projects.tests.factories import ProjectFactory, TimeEntryFactory
from portico.sales.models import CreditNoteStatus, InvoiceStatus, SalesOrderStatus
from portico.sales.services import quotes as quote_services
from portico.sales.services.common import DocumentData
from portico.sales.services.quote_decisions import (
    quote_accept_in_portal,
    quote_current_content_hash,
    quote_decline_in_portal,
)
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    SalesOrderFactory,
    line,
)

pytestmark = pytest.mark.django_db

NOTICE = "activity.notification"
PASSWORD = "tulip-harbour-lantern-42"


@dataclass
class World:
    """An organisation with two members (English owner, Japanese colleague),
    a customer, and its contact Ada signed in to the portal."""

    organization: Organization
    owner: User
    colleague: User
    customer: Customer
    access: PortalAccess


@dataclass
class Expected:
    kind: str
    customer: Customer | None
    document: models.Model | None = None
    data: dict = field(default_factory=dict)
    # The member who acted (staff disabling access): never notified.
    actor: User | None = None
    # False when the action creates the customer (nobody owns it yet).
    customer_existed: bool = True


@pytest.fixture
def world(db) -> World:
    owner = MembershipFactory(role=Role.OWNER, user__language="en").user
    organization = owner.memberships.get().organization
    colleague = MembershipFactory(
        organization=organization, role=Role.STAFF, user__language="ja"
    ).user
    customer = CustomerFactory(organization=organization, display_name="Acme GmbH")
    contact = ContactPersonFactory(
        customer=customer,
        organization=organization,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.example",
    )
    access = PortalAccessFactory(active=True, contact=contact)
    return World(organization, owner, colleague, customer, access)


# --- the actions ----------------------------------------------------------------------


def accept_invitation(world: World) -> Expected:
    contact = ContactPersonFactory(
        customer=world.customer, organization=world.organization, first_name="Grace"
    )
    invitation = PortalInvitationFactory(
        access=PortalAccessFactory(contact=contact), token="hooks-invitation-token"
    )
    invitation_accept(
        organization=world.organization, token="hooks-invitation-token", password=PASSWORD
    )
    assert invitation.access.contact == contact
    return Expected(EventKind.INVITATION_ACCEPTED, world.customer)


def sign_up(world: World) -> Expected:
    portal_settings = portal_settings_get(organization=world.organization)
    portal_settings.allow_self_signup = True
    portal_settings.save()
    signup_request_create(
        organization=world.organization,
        data=SignupData(
            customer_type="business",
            company_name="Blue Harbour Ltd",
            first_name="Nora",
            last_name="Lind",
            email="nora@blueharbour.example",
            phone="",
            portal_language="sv",
        ),
    )
    verify_url = OutboundEmail.objects.get(kind="portal_access.signup_verify").secret_values
    token = re.search(r"/verify/([\w-]+)/", verify_url["verify_url"]).group(1)
    access = signup_complete(organization=world.organization, token=token, password=PASSWORD)
    return Expected(EventKind.SIGNED_UP, access.customer, customer_existed=False)


def _view(factory, status) -> Callable[[World], Expected]:
    def view(world: World) -> Expected:
        document = factory(customer=world.customer, status=status)
        document_view_record(access=world.access, document=document)
        return Expected(EventKind.DOCUMENT_VIEWED, world.customer, document)

    return view


def _sent_quote(world: World):
    quote = quote_services.quote_create(
        organization=world.organization,
        data=DocumentData(
            customer_id=world.customer.pk,
            date=timezone.localdate(),
            lines=[line("Website redesign", "2", "1500")],
        ),
        expiry_date=timezone.localdate() + timedelta(days=30),
        actor=world.owner,
    )
    return quote_services.quote_mark_sent(quote=quote, actor=world.owner)


def view_quote(world: World) -> Expected:
    quote = _sent_quote(world)
    document_view_record(access=world.access, document=quote)
    return Expected(EventKind.DOCUMENT_VIEWED, world.customer, quote)


def accept_quote(world: World) -> Expected:
    quote = _sent_quote(world)
    quote_accept_in_portal(
        access=world.access,
        quote_id=quote.pk,
        content_hash=quote_current_content_hash(quote=quote),
        signer_name="Ada Lovelace",
        terms_accepted=True,
        ip_address="203.0.113.7",
        user_agent="Firefox",
    )
    return Expected(EventKind.QUOTE_ACCEPTED, world.customer, quote)


def decline_quote(world: World) -> Expected:
    quote = _sent_quote(world)
    quote_decline_in_portal(
        access=world.access,
        quote_id=quote.pk,
        content_hash=quote_current_content_hash(quote=quote),
        reason="Too expensive for this year.",
        ip_address="203.0.113.7",
        user_agent="Firefox",
    )
    return Expected(
        EventKind.QUOTE_DECLINED,
        world.customer,
        quote,
        {"reason": "Too expensive for this year."},
    )


def comment_on_invoice(world: World) -> Expected:
    invoice = InvoiceFactory(customer=world.customer, status=InvoiceStatus.SENT)
    comment_add_by_contact(access=world.access, document=invoice, body="Where is my PO?")
    return Expected(
        EventKind.COMMENT_ADDED,
        world.customer,
        invoice,
        {"excerpt": "Where is my PO?", "attachments": 0},
    )


def comment_on_project(world: World) -> Expected:
    project = ProjectFactory(customer=world.customer)
    comment_add_by_contact(access=world.access, document=project, body="Looks good.")
    return Expected(
        EventKind.COMMENT_ADDED,
        world.customer,
        project,
        {"excerpt": "Looks good.", "attachments": 0},
    )


def pay_invoice_online(world: World) -> Expected:
    enable_test_gateway(world.organization)
    invoice = invoice_of(world.access, "1234.50")
    checkout = checkout_prepare(
        access=world.access, provider="test", selections=[(invoice.pk, None)]
    )
    payment = checkout_confirm(
        checkout_id=checkout.pk,
        provider_reference="test_ref_hooks",
        amount_minor=checkout.amount_minor,
        currency=checkout.currency,
    )
    currency = world.customer.currency
    return Expected(
        EventKind.INVOICE_PAID,
        world.customer,
        invoice,
        {
            "amount": format_money(Decimal("1234.50"), currency, "en"),
            "amount_value": "1234.50",
            "currency": currency,
            "paid_in_full": True,
            "payment_id": payment.pk,
        },
    )


def approve_time(world: World) -> Expected:
    project = ProjectFactory(customer=world.customer)
    entries = [
        TimeEntryFactory(project=project, hours=Decimal("2.00")),
        TimeEntryFactory(project=project, hours=Decimal("1.50")),
    ]
    portal_time_entries_approve(
        access=world.access, project=project, entry_ids=[entry.pk for entry in entries]
    )
    return Expected(EventKind.TIME_APPROVED, world.customer, project, {"count": 2, "hours": "3.5"})


def update_details(world: World) -> Expected:
    old_phone = world.customer.phone
    portal_details_update(access=world.access, data={"phone": "+44 113 496 0000"})
    return Expected(
        EventKind.DETAILS_UPDATED,
        world.customer,
        data={
            "changes": [
                {
                    "label": "phone",
                    "label_parts": ["phone"],
                    "old": old_phone,
                    "new": "+44 113 496 0000",
                }
            ]
        },
    )


def disable_access(world: World) -> Expected:
    portal_access_disable(access=world.access, actor=world.owner)
    return Expected(EventKind.ACCESS_DISABLED, world.customer, actor=world.owner)


ACTIONS = {
    "invitation accepted": accept_invitation,
    "signed up": sign_up,
    "quote viewed": view_quote,
    "sales order viewed": _view(SalesOrderFactory, SalesOrderStatus.CONFIRMED),
    "invoice viewed": _view(InvoiceFactory, InvoiceStatus.SENT),
    "credit note viewed": _view(CreditNoteFactory, CreditNoteStatus.OPEN),
    "quote accepted": accept_quote,
    "quote declined": decline_quote,
    "comment on an invoice": comment_on_invoice,
    "comment on a project": comment_on_project,
    "invoice paid online": pay_invoice_online,
    "time approved": approve_time,
    "details updated": update_details,
    "access disabled": disable_access,
}


def _notices_to(user: User) -> int:
    return OutboundEmail.objects.filter(kind=NOTICE, to_email=user.email).count()


# --- exactly one event ------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_each_portal_action_records_exactly_one_event(world, action):
    expected = action(world)

    [event] = ActivityEvent.objects.all()
    assert event.kind == expected.kind
    assert event.organization == world.organization
    assert event.customer == expected.customer
    assert event.document == expected.document
    assert event.data == expected.data
    assert event.actor_name  # who did it, kept as it was
    # By default every member hears of it, in the app and by e-mail: one
    # message per event each, in their language. Nobody hears of their own act.
    told = {world.owner, world.colleague} - {expected.actor}
    notifications = Notification.objects.filter(event=event)
    assert {notification.recipient for notification in notifications} == told
    assert all(n.in_app and n.email_state == EmailState.SENT for n in notifications)
    emails = OutboundEmail.objects.filter(kind=NOTICE)
    assert sorted(email.to_email for email in emails) == sorted(user.email for user in told)
    assert {email.to_email: email.language for email in emails} == {
        user.email: user.language for user in told
    }


def test_later_views_are_counted_on_the_first_views_event(world):
    invoice = InvoiceFactory(customer=world.customer, status=InvoiceStatus.SENT)

    for _ in range(3):
        document_view_record(access=world.access, document=invoice)

    [event] = ActivityEvent.objects.all()
    assert event.repeat_count == 3
    assert Notification.objects.count() == 2  # the owner and the colleague, once
    assert OutboundEmail.objects.filter(kind=NOTICE).count() == 2


def test_a_payment_of_several_invoices_is_one_event_per_invoice_in_the_readers_money(world):
    # given: two open invoices, paid together; the colleague reads Japanese
    enable_test_gateway(world.organization)
    older = invoice_of(world.access, "100.00", days_ago=9)
    newer = invoice_of(world.access, "80.00", days_ago=1)
    checkout = checkout_prepare(
        access=world.access,
        provider="test",
        selections=[(newer.pk, None), (older.pk, Decimal("40.00"))],
    )

    # when
    checkout_confirm(
        checkout_id=checkout.pk,
        provider_reference="test_ref_two",
        amount_minor=checkout.amount_minor,
        currency=checkout.currency,
    )

    # then: each invoice's own event, with what was paid on it
    events = {event.document: event for event in ActivityEvent.objects.all()}
    assert set(events) == {older, newer}
    assert events[older].data["amount_value"] == "40.00"
    assert events[older].data["paid_in_full"] is False
    assert events[newer].data["paid_in_full"] is True
    assert OutboundEmail.objects.filter(kind=NOTICE).count() == 4  # 2 events x 2 members
    currency = world.customer.currency
    japanese = OutboundEmail.objects.get(
        kind=NOTICE, to_email=world.colleague.email, subject__contains=older.number
    )
    assert format_money(Decimal("40.00"), currency, "ja") in japanese.subject


def test_a_refused_action_records_nothing(world):
    # given: a quote the contact already accepted
    accept_quote(world)
    quote = ActivityEvent.objects.get().document
    ActivityEvent.objects.all().delete()
    OutboundEmail.objects.all().delete()

    # when: declining it too is refused
    with pytest.raises(Exception, match="already"):
        quote_decline_in_portal(
            access=world.access,
            quote_id=quote.pk,
            content_hash=quote_current_content_hash(quote=quote),
            reason="Changed our minds",
            ip_address=None,
            user_agent="",
        )

    # then
    assert not ActivityEvent.objects.exists()
    assert not OutboundEmail.objects.filter(kind=NOTICE).exists()


def test_disabling_an_access_already_disabled_is_no_new_event(world):
    portal_access_disable(access=world.access, actor=world.owner)
    portal_access_disable(access=world.access, actor=world.owner)

    assert ActivityEvent.objects.filter(kind=EventKind.ACCESS_DISABLED).count() == 1


def test_contact_person_changes_name_the_person_and_translate_their_labels(world):
    # given: the colleague reads Japanese
    portal_contact_save(
        access=world.access,
        contact_id=None,
        data=PortalContactData(first_name="Grace", last_name="Hopper"),
    )

    # then: one event; the labels are shown in each reader's language
    [event] = ActivityEvent.objects.all()
    assert event.kind == EventKind.DETAILS_UPDATED
    assert event.data["contact_person"] == "Grace Hopper"
    assert event.data["contact_added"] is True
    english = OutboundEmail.objects.get(kind=NOTICE, to_email=world.owner.email)
    japanese = OutboundEmail.objects.get(kind=NOTICE, to_email=world.colleague.email)
    assert "Grace Hopper: First name: — → Grace" in english.body_text
    assert "Grace Hopper: Last name: — → Hopper" in english.body_text
    # Portico has no Japanese catalogue yet: "first name" and "last name"
    # come translated from Django's own (contrib.auth).
    assert "Grace Hopper: 名: — → Grace" in japanese.body_text
    assert "Grace Hopper: 姓: — → Hopper" in japanese.body_text


# --- who hears about it: each preference ------------------------------------------------------


def _prefer(world: World, *, kind: str, channel: str) -> None:
    NotificationPreferences.objects.create(
        organization=world.organization, user=world.colleague, channels={kind: channel}
    )


# scenario → (set-up before the action, the colleague's notification: None (none),
# or (in the app, e-mailed))
SCENARIOS = {
    "default": (lambda world, kind: None, (True, True)),
    "in the app only": (
        lambda world, kind: _prefer(world, kind=kind, channel=Channel.IN_APP),
        (True, False),
    ),
    "e-mail only": (
        lambda world, kind: _prefer(world, kind=kind, channel=Channel.EMAIL),
        (False, True),
    ),
    "off": (lambda world, kind: _prefer(world, kind=kind, channel=Channel.NONE), None),
}

KINDS_OF_ACTIONS = {
    "invitation accepted": EventKind.INVITATION_ACCEPTED,
    "signed up": EventKind.SIGNED_UP,
    "invoice viewed": EventKind.DOCUMENT_VIEWED,
    "quote accepted": EventKind.QUOTE_ACCEPTED,
    "quote declined": EventKind.QUOTE_DECLINED,
    "comment on an invoice": EventKind.COMMENT_ADDED,
    "invoice paid online": EventKind.INVOICE_PAID,
    "time approved": EventKind.TIME_APPROVED,
    "details updated": EventKind.DETAILS_UPDATED,
    "access disabled": EventKind.ACCESS_DISABLED,
}


@pytest.mark.parametrize("scenario", SCENARIOS.keys())
@pytest.mark.parametrize("name", KINDS_OF_ACTIONS.keys())
def test_each_members_channel_for_each_action(world, name, scenario):
    # given: the colleague chose a channel for this type of event
    set_up, colleague_gets = SCENARIOS[scenario]
    set_up(world, KINDS_OF_ACTIONS[name])

    # when
    expected = ACTIONS[name](world)

    # then: the colleague as they chose; the owner by the default (unless they acted)
    event = ActivityEvent.objects.get()
    colleague = Notification.objects.filter(event=event, recipient=world.colleague).first()
    if colleague_gets is None:
        assert colleague is None
        assert _notices_to(world.colleague) == 0
    else:
        in_app, emailed = colleague_gets
        assert colleague.in_app is in_app
        assert _notices_to(world.colleague) == (1 if emailed else 0)
    owner = Notification.objects.filter(event=event, recipient=world.owner).first()
    if expected.actor == world.owner:
        assert owner is None and _notices_to(world.owner) == 0
    else:
        assert owner.in_app and _notices_to(world.owner) == 1


@pytest.mark.parametrize("name", KINDS_OF_ACTIONS.keys())
def test_the_master_switch_off_notifies_nobody_but_the_event_is_recorded(world, name):
    portal_settings = portal_settings_get(organization=world.organization)
    portal_settings.notify_in_app = False
    portal_settings.notify_by_email = False
    portal_settings.save()

    expected = ACTIONS[name](world)

    event = ActivityEvent.objects.get()
    assert event.kind == expected.kind
    assert not Notification.objects.exists()
    assert not OutboundEmail.objects.filter(kind=NOTICE).exists()


@pytest.mark.parametrize("name", KINDS_OF_ACTIONS.keys())
def test_the_organisations_e_mail_switch_off_leaves_the_app(world, name):
    portal_settings = portal_settings_get(organization=world.organization)
    portal_settings.notify_by_email = False
    portal_settings.save()

    expected = ACTIONS[name](world)

    told = {world.owner, world.colleague} - {expected.actor}
    notifications = Notification.objects.all()
    assert {notification.recipient for notification in notifications} == told
    assert all(notification.in_app for notification in notifications)
    assert not OutboundEmail.objects.filter(kind=NOTICE).exists()


@pytest.mark.parametrize("name", KINDS_OF_ACTIONS.keys())
def test_only_my_customers(world, name):
    # given: the colleague owns the customer and hears only about their own;
    # a third member hears only about theirs, and owns none
    world.customer.owner = world.colleague
    world.customer.save(update_fields=["owner"])
    outsider = MembershipFactory(organization=world.organization).user
    for user in (world.colleague, outsider):
        NotificationPreferences.objects.create(
            organization=world.organization, user=user, only_my_customers=True
        )

    # when
    expected = ACTIONS[name](world)

    # then
    recipients = {notification.recipient for notification in Notification.objects.all()}
    assert outsider not in recipients
    # A customer who just signed up is nobody's yet.
    assert (world.colleague in recipients) is expected.customer_existed
    assert (world.owner in recipients) is (expected.actor != world.owner)
    assert _notices_to(outsider) == 0


# --- through a real SMTP server, in each member's language --------------------------------------


def _run_worker() -> None:
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
        )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


@pytest.mark.django_db(transaction=True)
def test_notification_e_mails_arrive_through_smtp_in_each_members_language(
    world,
    smtp_server,  # noqa: F811
):
    # given: a declined quote and a contact person added (labels Django translates)
    decline_quote(world)
    portal_contact_save(
        access=world.access,
        contact_id=None,
        data=PortalContactData(first_name="Grace", last_name="Hopper"),
    )
    quote = ActivityEvent.objects.get(kind=EventKind.QUOTE_DECLINED).document

    # when: the worker delivers the outbox
    _run_worker()

    # then: one message per event and member, each in the member's language
    received = smtp_server.received
    assert sorted(message.rcpt_tos[0] for message in received) == sorted(
        [world.owner.email, world.owner.email, world.colleague.email, world.colleague.email]
    )
    by_member = {
        email: [message for message in received if message.rcpt_tos == (email,)]
        for email in (world.owner.email, world.colleague.email)
    }
    declined = next(m for m in by_member[world.owner.email] if quote.number in m.subject)
    text = declined.body("text/plain")
    assert f"Ada Lovelace (Acme GmbH) declined quote {quote.number}" in text
    assert "Too expensive for this year." in text
    assert f"/app/quotes/{quote.pk}/" in text
    assert "Too expensive for this year." in declined.body("text/html")
    english = next(m for m in by_member[world.owner.email] if m is not declined)
    japanese = [
        message
        for message in by_member[world.colleague.email]
        if "Grace Hopper" in message.body("text/plain")
    ][0]
    assert "Grace Hopper: First name: — → Grace" in english.body("text/plain")
    # Japanese: Portico has no Japanese catalogue yet, so the sentence itself
    # is English until the translation issue; the field labels come from
    # Django's own Japanese catalogue.
    assert "Grace Hopper: 名: — → Grace" in japanese.body("text/plain")
    assert "Grace Hopper: 姓: — → Hopper" in japanese.body("text/html")
