"""Inviting contact persons: invite, reinvite, configure, disable (services)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import OutboundEmail, secret_placeholder
from portico.mail.services import outbox_deliver_due
from portico.portal_access import services as portal_access_services
from portico.portal_access.models import AccessStatus, PortalAccess, PortalInvitation
from portico.portal_access.services import (
    InvitationError,
    PortalAccessError,
    hash_token,
    invitation_resolve,
    portal_access_invite,
)
from portico.portal_access.staff_selectors import (
    portal_access_allowed,
    portal_access_for_contact,
    portal_accesses_for_customer,
)
from portico.portal_access.staff_services import (
    ConfigureOutcome,
    portal_access_allow_for_customer,
    portal_access_configure,
    portal_access_reinvite,
)
from portico.portal_access.tests.factories import (
    PortalAccessFactory,
    PortalInvitationFactory,
    PortalSettingsFactory,
)

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock():
    """``timezone.now()`` stands still at NOON; ``clock.move(days=…)`` moves it."""

    class Clock:
        now = NOON

        def move(self, **delta):
            self.now += timedelta(**delta)

    clock = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: clock.now):
        yield clock


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Northwind Traders")


@pytest.fixture
def anna(customer):
    return ContactPersonFactory(
        customer=customer, first_name="Anna", last_name="Berg", email="anna@northwind.example"
    )


def token_of(email: OutboundEmail) -> str:
    """The invitation token in an e-mail not yet sent (its accept link's last part)."""
    return email.secret_values["accept_url"].rstrip("/").rsplit("/", 1)[-1]


def invitation_email(contact) -> OutboundEmail:
    return OutboundEmail.objects.filter(to_email=contact.email).order_by("-id").first()


# --- invite -------------------------------------------------------------------


def test_invite_creates_the_access_an_invitation_and_the_email(organization, anna, membership):
    # when
    outcome = portal_access_invite(contact=anna, actor=membership.user)

    # then
    assert outcome.invited
    access = PortalAccess.objects.get(contact=anna)
    assert access.status == AccessStatus.INVITED
    assert (access.organization, access.customer) == (organization, anna.customer)
    invitation = access.invitations.get()
    assert invitation.invited_by == membership.user
    assert (invitation.used_at, invitation.superseded_at) == (None, None)
    email = OutboundEmail.objects.get()
    assert (email.kind, email.to_email, email.organization) == (
        "portal_access.invitation",
        "anna@northwind.example",
        organization,
    )
    assert invitation_resolve(organization=organization, token=token_of(email)) == invitation


def test_only_the_hash_of_the_token_is_stored(organization, anna, settings):
    # given
    settings.SITE_URL = "https://portico.example"
    portal_access_invite(contact=anna, actor=None)
    email = OutboundEmail.objects.get()
    token = token_of(email)

    # then: at least 128 random bits, stored as its SHA-256 only
    assert len(token) >= 22
    invitation = PortalInvitation.objects.get()
    assert invitation.token_hash == hash_token(token) != token
    assert not PortalInvitation.objects.filter(token_hash=token).exists()
    # the stored bodies hold a placeholder for the private link, never the token
    placeholder = secret_placeholder("accept_url")
    assert placeholder in email.body_text
    assert placeholder in email.body_html
    assert token not in email.body_text + email.body_html + email.subject

    # when: delivered
    outbox_deliver_due()

    # then: the recipient gets the link; the outbox forgets it
    (message,) = mail.outbox
    assert (
        f"https://portico.example/portal/{organization.portal_name}/accept/{token}/" in message.body
    )
    email.refresh_from_db()
    assert email.secret_values == {}
    assert token not in email.body_text + email.body_html


def test_the_invitation_expires_after_the_organisations_invitation_lifetime(
    organization, anna, frozen_clock
):
    # given
    PortalSettingsFactory(organization=organization, invitation_lifetime_days=3)

    # when
    portal_access_invite(contact=anna, actor=None)
    token = token_of(OutboundEmail.objects.get())

    # then
    access = PortalAccess.objects.get(contact=anna)
    assert access.invited_at == NOON
    assert access.invitation_expires_at == NOON + timedelta(days=3)
    assert PortalInvitation.objects.get().expires_at == NOON + timedelta(days=3)

    # when: a minute before, and at the end of its lifetime
    frozen_clock.move(days=3, minutes=-1)
    assert invitation_resolve(organization=organization, token=token)
    frozen_clock.move(minutes=1)

    # then
    with pytest.raises(InvitationError, match="This invitation has expired"):
        invitation_resolve(organization=organization, token=token)
    access.refresh_from_db()
    assert access.display_status == AccessStatus.EXPIRED


@pytest.mark.parametrize(
    ("language", "expires"), [("de", "8. Januar 2026"), ("en", "Jan. 8, 2026")]
)
def test_the_email_is_written_in_the_customers_portal_language(
    organization, frozen_clock, language, expires
):
    # given: the organisation writes English, the customer reads ``language``
    PortalSettingsFactory(organization=organization, invitation_lifetime_days=3)
    contact = ContactPersonFactory(
        customer=CustomerFactory(organization=organization, portal_language=language)
    )

    # when
    portal_access_invite(contact=contact, actor=None)

    # then
    email = OutboundEmail.objects.get()
    assert email.language == language
    assert expires in email.body_text
    assert contact.email in email.body_text  # the username


# --- reinvite -----------------------------------------------------------------


def test_reinvite_supersedes_every_earlier_token(organization, anna):
    # given: invited twice already
    portal_access_invite(contact=anna, actor=None)
    first = token_of(invitation_email(anna))
    portal_access_invite(contact=anna, actor=None)
    second = token_of(invitation_email(anna))
    access = PortalAccess.objects.get(contact=anna)

    # when
    outcome = portal_access_reinvite(access=access, actor=None)

    # then
    assert outcome.invited
    latest = token_of(invitation_email(anna))
    assert len({first, second, latest}) == 3
    for earlier in (first, second):
        with pytest.raises(InvitationError, match="A newer invitation was sent to you"):
            invitation_resolve(organization=organization, token=earlier)
    assert invitation_resolve(organization=organization, token=latest).access == access
    assert PortalInvitation.objects.filter(access=access, superseded_at=None).count() == 1
    assert OutboundEmail.objects.filter(to_email=anna.email).count() == 3


def test_reinvite_renews_an_expired_invitation(organization, frozen_clock):
    # given
    access = PortalAccessFactory(contact__customer__organization=organization, expired=True)
    old = PortalInvitationFactory(access=access, token="old-expired-token")
    assert access.display_status == AccessStatus.EXPIRED

    # when
    portal_access_reinvite(access=access, actor=None)

    # then
    access.refresh_from_db()
    assert access.display_status == AccessStatus.INVITED
    assert access.invitation_expires_at == NOON + timedelta(days=7)
    old.refresh_from_db()
    assert old.superseded_at == NOON


def test_reinvite_re_enables_a_disabled_contact_with_a_new_invitation(organization):
    # given: a contact who had accepted, then was disabled
    access = PortalAccessFactory(contact__customer__organization=organization, active=True)
    access.status, access.disabled_at = AccessStatus.DISABLED, NOON
    access.save()

    # when
    portal_access_reinvite(access=access, actor=None)

    # then: invited again (until they accept, they cannot sign in)
    access.refresh_from_db()
    assert (access.status, access.disabled_at) == (AccessStatus.INVITED, None)
    token = token_of(invitation_email(access.contact))
    assert invitation_resolve(organization=organization, token=token).access == access


def test_reinvite_of_an_active_contact_is_refused(organization):
    # given
    access = PortalAccessFactory(contact__customer__organization=organization, active=True)

    # when / then
    with pytest.raises(PortalAccessError, match="already uses the portal"):
        portal_access_reinvite(access=access, actor=None)
    assert not OutboundEmail.objects.exists()


def test_reinvite_of_a_contact_without_an_email_is_refused(organization):
    # given: invited, then their e-mail address was removed
    access = PortalAccessFactory(contact__customer__organization=organization)
    ContactPersonFactory._meta.model.objects.filter(pk=access.contact_id).update(email="")

    # when / then
    with pytest.raises(PortalAccessError, match="has no e-mail address"):
        portal_access_reinvite(access=access, actor=None)
    assert not PortalInvitation.objects.exists()


# --- configure ------------------------------------------------------------------


@pytest.fixture
def team(customer):
    """Anna (never invited), Ben (invited), Cleo (active), Dan (disabled), Eve (no e-mail)."""
    contacts = {
        name: ContactPersonFactory(
            customer=customer, first_name=name, last_name="", email=f"{name.lower()}@nw.example"
        )
        for name in ("Anna", "Ben", "Cleo", "Dan")
    }
    contacts["Eve"] = ContactPersonFactory(
        customer=customer, first_name="Eve", last_name="", email=""
    )
    PortalAccessFactory(contact=contacts["Ben"])
    PortalInvitationFactory(access=contacts["Ben"].portal_access, token="ben-token")
    PortalAccessFactory(contact=contacts["Cleo"], active=True)
    PortalAccessFactory(contact=contacts["Dan"], disabled=True)
    return contacts


def statuses(customer) -> dict[str, str]:
    return {
        row.contact.first_name: row.status
        for row in portal_accesses_for_customer(customer=customer)
    }


def test_configure_invites_the_newly_ticked_and_disables_the_unticked(
    organization, customer, team, membership
):
    # when: Anna and Dan ticked, Ben unticked, Cleo left ticked
    outcome = portal_access_configure(
        customer=customer,
        contact_ids={team["Anna"].pk, team["Cleo"].pk, team["Dan"].pk},
        actor=membership.user,
    )

    # then
    assert outcome == ConfigureOutcome(invited=2, disabled=1)
    assert statuses(customer) == {
        "Anna": "invited",
        "Ben": "disabled",
        "Cleo": "active",
        "Dan": "invited",
        "Eve": "not_invited",
    }
    assert sorted(OutboundEmail.objects.values_list("to_email", flat=True)) == [
        "anna@nw.example",
        "dan@nw.example",
    ]
    # Ben's pending link died with his access
    with pytest.raises(InvitationError, match="has been disabled"):
        invitation_resolve(organization=organization, token="ben-token")


def test_configure_with_nothing_changed_sends_nothing(customer, team):
    # when: the dialog saved as it was shown
    outcome = portal_access_configure(
        customer=customer, contact_ids={team["Ben"].pk, team["Cleo"].pk}, actor=None
    )

    # then
    assert outcome == ConfigureOutcome()
    assert not outcome.changed
    assert not OutboundEmail.objects.exists()
    assert PortalInvitation.objects.count() == 1


def test_unticking_an_active_contact_ends_their_access_at_once(customer, team):
    # when
    portal_access_configure(customer=customer, contact_ids={team["Ben"].pk}, actor=None)

    # then
    cleo = PortalAccess.objects.get(contact=team["Cleo"])
    assert cleo.status == AccessStatus.DISABLED
    assert cleo.disabled_at is not None
    assert cleo.user is not None  # the account stays; the portal refuses it


def test_configure_refuses_a_contact_without_an_email_naming_them(customer, team):
    # when / then
    with pytest.raises(PortalAccessError, match="Eve cannot be invited: no e-mail address."):
        portal_access_configure(
            customer=customer, contact_ids={team["Anna"].pk, team["Eve"].pk}, actor=None
        )
    assert statuses(customer)["Anna"] == "not_invited"
    assert not OutboundEmail.objects.exists()


def test_a_contact_with_access_who_lost_their_email_may_stay_ticked(customer, team):
    # given
    type(team["Ben"]).objects.filter(pk=team["Ben"].pk).update(email="")

    # when
    outcome = portal_access_configure(
        customer=customer, contact_ids={team["Ben"].pk, team["Cleo"].pk}, actor=None
    )

    # then
    assert outcome == ConfigureOutcome()


@pytest.mark.parametrize("owner", ["another customer", "another organisation"])
def test_configure_refuses_a_contact_of_another_customer_and_changes_nothing(
    organization, customer, team, owner
):
    # given
    other_customer = (
        CustomerFactory(organization=organization)
        if owner == "another customer"
        else CustomerFactory()
    )
    foreign = ContactPersonFactory(customer=other_customer)

    # when / then
    with pytest.raises(PortalAccessError, match="does not belong to this customer"):
        portal_access_configure(
            customer=customer, contact_ids={team["Anna"].pk, foreign.pk}, actor=None
        )
    assert statuses(customer)["Anna"] == "not_invited"
    assert statuses(customer)["Ben"] == "invited"  # not unticked either
    assert not PortalAccess.objects.filter(contact=foreign).exists()
    assert not OutboundEmail.objects.exists()


def test_configure_is_one_transaction_a_failure_midway_undoes_everything(
    organization, customer, team
):
    # given: the second invitation e-mail cannot be written
    real_queue = portal_access_services.email_queue
    calls = []

    def failing_queue(**kwargs):
        calls.append(kwargs["to_email"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_queue(**kwargs)

    # when
    with (
        mock.patch.object(portal_access_services, "email_queue", side_effect=failing_queue),
        pytest.raises(RuntimeError),
    ):
        portal_access_configure(
            customer=customer, contact_ids={team["Anna"].pk, team["Dan"].pk}, actor=None
        )

    # then: Anna's invitation (written first), Ben's and Cleo's disabling: all undone
    assert len(calls) == 2
    assert statuses(customer) == {
        "Anna": "not_invited",
        "Ben": "invited",
        "Cleo": "active",
        "Dan": "disabled",
        "Eve": "not_invited",
    }
    assert not OutboundEmail.objects.exists()
    assert PortalInvitation.objects.count() == 1
    assert invitation_resolve(organization=organization, token="ben-token")


# --- the customer form's "Allow portal access for this customer" ---------------


def test_allow_for_customer_invites_the_primary_contact(customer):
    # given
    ContactPersonFactory(customer=customer, first_name="Other")
    primary = ContactPersonFactory(customer=customer, is_primary=True)

    # when
    outcome = portal_access_allow_for_customer(customer=customer, actor=None)

    # then
    assert outcome.access.contact == primary
    assert list(OutboundEmail.objects.values_list("to_email", flat=True)) == [primary.email]
    assert portal_access_allowed(customer=customer)


@pytest.mark.parametrize("trait", ["invited", "active"])
def test_allow_for_customer_sends_nothing_twice(customer, trait):
    # given
    primary = ContactPersonFactory(customer=customer, is_primary=True)
    PortalAccessFactory(contact=primary, **({trait: True} if trait == "active" else {}))

    # when
    outcome = portal_access_allow_for_customer(customer=customer, actor=None)

    # then
    assert outcome is None
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (None, "Add a contact person with an e-mail address"),
        ("", "The primary contact person, Pia Primary, has no e-mail address"),
    ],
)
def test_allow_for_customer_needs_a_primary_contact_with_an_email(customer, email, message):
    # given
    if email is not None:
        ContactPersonFactory(
            customer=customer, first_name="Pia", last_name="Primary", email=email, is_primary=True
        )

    # when / then
    with pytest.raises(PortalAccessError, match=message) as raised:
        portal_access_allow_for_customer(customer=customer, actor=None)
    assert raised.value.field == "allow_portal_access"
    assert not PortalAccess.objects.exists()


# --- selectors and isolation -------------------------------------------------------


@pytest.mark.parametrize("count", [2, 25])
def test_the_contacts_with_their_access_are_read_in_one_query(
    customer, django_assert_num_queries, count
):
    # given: half of them invited
    for index, contact in enumerate(ContactPersonFactory.create_batch(count, customer=customer)):
        if index % 2:
            PortalAccessFactory(contact=contact)

    # when / then
    with django_assert_num_queries(1):
        rows = portal_accesses_for_customer(customer=customer)
        labels = [(row.status, row.label, row.can_reinvite) for row in rows]
    assert len(labels) == count
    assert {row.status for row in rows} == {"not_invited", "invited"}


def test_the_selectors_never_return_another_organisations_access(organization, customer):
    # given
    theirs = PortalAccessFactory()
    CustomerFactory(organization=organization)

    # when / then
    with pytest.raises(PortalAccess.DoesNotExist):
        portal_access_for_contact(
            organization=organization,
            customer_id=theirs.customer_id,
            contact_id=theirs.contact_id,
        )
    assert portal_accesses_for_customer(customer=customer) == []


def test_an_expired_invitation_is_not_access_ticking_it_again_sends_a_new_one(customer):
    # given: a contact whose invitation has expired (as bulk Enable portal sees it too)
    from portico.portal_access.staff_selectors import ContactPortalStatus
    from portico.portal_access.tests.factories import PortalAccessFactory

    access = PortalAccessFactory(
        contact=ContactPersonFactory(customer=customer, email="late@example.com"), expired=True
    )
    assert not ContactPortalStatus.of(access.contact).granted

    # when staff tick the contact in Configure portal access and save
    outcome = portal_access_configure(
        customer=customer, contact_ids={access.contact_id}, actor=None
    )

    # then a fresh invitation goes out
    assert outcome.invited == 1
    access.refresh_from_db()
    assert access.display_status == AccessStatus.INVITED
    assert OutboundEmail.objects.filter(to_email="late@example.com").count() == 1
