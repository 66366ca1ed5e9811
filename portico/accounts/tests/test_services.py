import contextlib
import hashlib
import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from portico.accounts import services
from portico.accounts.models import LoginThrottle, Membership, Organization, Role, StaffInvitation
from portico.accounts.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffInvitationFactory,
    UserFactory,
)
from portico.core.errors import PermissionDeniedError
from portico.mail.models import OutboundEmail

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.10"


def token_from_email(email: OutboundEmail) -> str:
    match = re.search(
        re.escape(settings.SITE_URL) + r"/invitation/([^/\s]+)/",
        email.with_secrets(email.body_text),
    )
    assert match, email.body_text
    return match.group(1)


# --- organization_signup ------------------------------------------------------


def test_signup_creates_the_organisation_and_its_owner():
    # when
    membership = services.organization_signup(
        organization_name="Acme Plumbing",
        full_name="Ada Owner",
        email=" Ada@Example.COM ",
        password="a-long-secret-1",
        base_currency="EUR",
        language="de",
    )

    # then
    assert membership.role == Role.OWNER
    assert membership.user.email == "ada@example.com"
    assert membership.user.check_password("a-long-secret-1")
    assert membership.user.language == "de"
    organization = membership.organization
    assert organization.name == "Acme Plumbing"
    assert organization.portal_name == "acme-plumbing"
    assert organization.base_currency == "EUR"
    assert organization.email == "ada@example.com"


def test_signup_gives_each_organisation_its_own_portal_name():
    # given
    OrganizationFactory(portal_name="acme")

    # when
    first = services.organization_signup(
        organization_name="Acme", full_name="A", email="a@example.com", password="x-secret-123"
    )
    second = services.organization_signup(
        organization_name="ACME", full_name="B", email="b@example.com", password="x-secret-123"
    )

    # then
    assert first.organization.portal_name == "acme-2"
    assert second.organization.portal_name == "acme-3"


def test_signup_refuses_an_email_that_has_an_account_in_any_case():
    # given
    UserFactory(email="taken@example.com")

    # when
    with pytest.raises(services.AccountError) as raised:
        services.organization_signup(
            organization_name="Copycat",
            full_name="C",
            email="TAKEN@example.com",
            password="x-secret-123",
        )

    # then
    assert raised.value.field == "email"
    assert not Organization.objects.filter(name="Copycat").exists()


# --- sign-in throttling -------------------------------------------------------


def record_failures(count: int, *, email: str, client_address: str = ADDRESS) -> None:
    for _attempt in range(count):
        services.login_record_failure(email=email, client_address=client_address)


def test_throttle_lets_the_first_failures_through():
    # given
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY - 1, email="ann@example.com")

    # when / then: no error
    services.login_check_throttle(email="ann@example.com", client_address=ADDRESS)


def test_throttle_makes_the_email_wait_after_repeated_failures_from_any_address():
    # given: each failure from another address, so only the e-mail key counts
    for number in range(settings.LOGIN_FAILURES_BEFORE_DELAY):
        services.login_record_failure(email="ann@example.com", client_address=f"10.0.0.{number}")

    # when
    with pytest.raises(services.LoginThrottledError) as raised:
        services.login_check_throttle(email="ANN@example.com ", client_address="10.9.9.9")

    # then
    assert raised.value.retry_after_seconds == 2
    assert "Try again in 2 seconds" in raised.value.message


def test_throttle_makes_the_address_wait_whatever_the_email():
    # given
    for number in range(settings.LOGIN_FAILURES_BEFORE_DELAY):
        services.login_record_failure(email=f"guess{number}@example.com", client_address=ADDRESS)

    # when / then
    with pytest.raises(services.LoginThrottledError):
        services.login_check_throttle(email="someone-else@example.com", client_address=ADDRESS)
    services.login_check_throttle(email="someone-else@example.com", client_address="10.9.9.9")


def test_throttle_wait_doubles_with_each_further_failure():
    # given
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY + 2, email="ann@example.com")

    # when
    with pytest.raises(services.LoginThrottledError) as raised:
        services.login_check_throttle(email="ann@example.com", client_address="")

    # then: 2 s after the threshold, then 4 s, then 8 s
    assert raised.value.retry_after_seconds == 8


def test_throttle_wait_ends_when_the_delay_has_passed():
    # given
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY, email="ann@example.com")

    # when: time travel past the 2 s delay
    LoginThrottle.objects.update(last_failure_at=timezone.now() - timedelta(seconds=3))

    # then
    services.login_check_throttle(email="ann@example.com", client_address=ADDRESS)


def test_throttle_forgets_failures_older_than_the_window():
    # given
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY, email="ann@example.com")
    LoginThrottle.objects.update(
        last_failure_at=timezone.now()
        - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)
    )

    # when
    services.login_record_failure(email="ann@example.com", client_address=ADDRESS)

    # then: the count started again
    assert set(LoginThrottle.objects.values_list("failures", flat=True)) == {1}
    services.login_check_throttle(email="ann@example.com", client_address=ADDRESS)


@override_settings(LOGIN_FAILURES_BEFORE_DELAY=1000)
def test_throttle_locks_after_the_lock_threshold():
    # given
    record_failures(settings.LOGIN_FAILURES_BEFORE_LOCK, email="ann@example.com")

    # when
    with pytest.raises(services.LoginThrottledError) as raised:
        services.login_check_throttle(email="ann@example.com", client_address="10.9.9.9")

    # then
    assert raised.value.retry_after_seconds == settings.LOGIN_LOCK_SECONDS


def test_throttle_treats_unknown_and_known_emails_alike():
    # given: one real account, one address nobody has
    UserFactory(email="known@example.com")
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY, email="known@example.com")
    record_failures(
        settings.LOGIN_FAILURES_BEFORE_DELAY, email="unknown@example.com", client_address="10.0.0.2"
    )

    # when
    with pytest.raises(services.LoginThrottledError) as known:
        services.login_check_throttle(email="known@example.com", client_address="10.9.9.9")
    with pytest.raises(services.LoginThrottledError) as unknown:
        services.login_check_throttle(email="unknown@example.com", client_address="10.9.9.9")

    # then
    assert known.value.message == unknown.value.message


def test_success_clears_the_email_failures():
    # given
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY, email="ann@example.com")

    # when
    services.login_record_success(email="Ann@example.com")

    # then: the e-mail may try again at once (the address keeps its count)
    services.login_check_throttle(email="ann@example.com", client_address="10.9.9.9")
    with pytest.raises(services.LoginThrottledError):
        services.login_check_throttle(email="ann@example.com", client_address=ADDRESS)


def test_success_does_not_lift_an_active_lock():
    # given
    with override_settings(LOGIN_FAILURES_BEFORE_DELAY=1000):
        record_failures(settings.LOGIN_FAILURES_BEFORE_LOCK, email="ann@example.com")

    # when
    services.login_record_success(email="ann@example.com")

    # then
    with pytest.raises(services.LoginThrottledError):
        services.login_check_throttle(email="ann@example.com", client_address="10.9.9.9")


def test_success_after_an_expired_lock_clears_the_failures_since():
    # given: the e-mail was locked once, the lock expired, and it failed again
    with override_settings(LOGIN_FAILURES_BEFORE_DELAY=1000):
        record_failures(settings.LOGIN_FAILURES_BEFORE_LOCK, email="ann@example.com")
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    record_failures(settings.LOGIN_FAILURES_BEFORE_DELAY, email="ann@example.com")

    # when
    services.login_record_success(email="ann@example.com")

    # then
    services.login_check_throttle(email="ann@example.com", client_address="10.9.9.9")


def test_throttle_stores_only_hashes_of_emails_and_addresses():
    # when
    services.login_record_failure(email="ann@example.com", client_address=ADDRESS)

    # then
    keys = set(LoginThrottle.objects.values_list("key", flat=True))
    assert keys == {
        hashlib.sha256(b"email:ann@example.com").hexdigest(),
        hashlib.sha256(f"address:{ADDRESS}".encode()).hexdigest(),
    }


# --- staff invitations --------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owner_and_admin_can_invite_a_colleague(role):
    # given
    inviter = MembershipFactory(role=role, user__full_name="Ina Inviter")

    # when
    invitation = services.staff_invite(
        membership=inviter, email=" New@Example.com ", role=Role.STAFF
    )

    # then
    assert invitation.email == "new@example.com"
    assert invitation.organization == inviter.organization
    assert invitation.invited_by == inviter.user
    assert invitation.is_pending
    email = OutboundEmail.objects.get(kind="accounts.staff_invitation")
    assert email.to_email == "new@example.com"
    assert email.organization == inviter.organization
    assert email.subject == f"You are invited to join {inviter.organization.name} on Portico"
    assert "Ina Inviter invited you" in email.with_secrets(email.body_text)
    token = token_from_email(email)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_invitation_stores_only_the_hash_of_its_token():
    # given
    owner = MembershipFactory()

    # when
    invitation = services.staff_invite(membership=owner, email="new@example.com", role=Role.STAFF)

    # then
    token = token_from_email(OutboundEmail.objects.get())
    stored = StaffInvitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in {str(value) for value in stored.values()}
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


def test_staff_cannot_invite(organization):
    # given
    staff = MembershipFactory(organization=organization, role=Role.STAFF)

    # when
    with pytest.raises(PermissionDeniedError) as raised:
        services.staff_invite(membership=staff, email="new@example.com", role=Role.STAFF)

    # then
    assert raised.value.message == "Only an owner or an admin can invite colleagues."
    assert not StaffInvitation.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_admin_cannot_invite_an_owner():
    # given
    admin = MembershipFactory(role=Role.ADMIN)

    # when / then
    with pytest.raises(PermissionDeniedError) as raised:
        services.staff_invite(membership=admin, email="boss@example.com", role=Role.OWNER)
    assert raised.value.field == "role"
    assert not StaffInvitation.objects.exists()


def test_inviting_a_member_again_is_refused(membership):
    # given
    colleague = MembershipFactory(organization=membership.organization, role=Role.STAFF)

    # when / then
    with pytest.raises(services.AccountError) as raised:
        services.staff_invite(
            membership=membership, email=colleague.user.email.upper(), role=Role.ADMIN
        )
    assert raised.value.field == "email"


def test_a_new_invitation_replaces_the_pending_one(membership):
    # given
    first = services.staff_invite(membership=membership, email="new@example.com", role="staff")

    # when
    second = services.staff_invite(membership=membership, email="NEW@example.com", role="admin")

    # then
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_pending
    first_token = token_from_email(OutboundEmail.objects.order_by("id").first())
    with pytest.raises(services.AccountError, match="withdrawn"):
        services.staff_invitation_get(token=first_token)


def test_invitation_get_finds_a_pending_invitation():
    # given
    invitation = StaffInvitationFactory(token="secret-token")

    # when / then
    assert services.staff_invitation_get(token="secret-token") == invitation


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accepted_at": timezone.now()}, "already been accepted"),
        ({"revoked_at": timezone.now()}, "withdrawn"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expired"),
    ],
)
def test_invitation_get_refuses_used_revoked_and_expired_invitations(changes, message):
    # given
    StaffInvitationFactory(token="secret-token", **changes)

    # when / then
    with pytest.raises(services.AccountError, match=message):
        services.staff_invitation_get(token="secret-token")


def test_invitation_get_refuses_an_unknown_token():
    with pytest.raises(services.AccountError, match="not valid"):
        services.staff_invitation_get(token="made-up")


def test_accepting_creates_the_account_and_the_membership():
    # given
    invitation = StaffInvitationFactory(token="secret-token", role=Role.ADMIN)

    # when
    membership = services.staff_invitation_accept(
        token="secret-token", full_name="Nina New", password="a-long-secret-1"
    )

    # then
    assert membership.organization == invitation.organization
    assert membership.role == Role.ADMIN
    assert membership.user.email == invitation.email
    assert membership.user.full_name == "Nina New"
    assert membership.user.check_password("a-long-secret-1")
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_accepting_needs_a_password_for_a_new_account():
    # given
    StaffInvitationFactory(token="secret-token")

    # when / then
    with pytest.raises(services.AccountError) as raised:
        services.staff_invitation_accept(token="secret-token", full_name="Nina")
    assert raised.value.field == "password"
    assert not Membership.objects.exists()


def test_an_existing_user_must_give_their_password_to_accept(password):
    # given
    user = UserFactory(email="known@example.com")
    invitation = StaffInvitationFactory(token="secret-token", email="known@example.com")

    # when: a wrong password
    with pytest.raises(services.AccountError) as raised:
        services.staff_invitation_accept(token="secret-token", password="not-the-password")

    # then
    assert raised.value.field == "password"
    assert not Membership.objects.filter(user=user).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None

    # when: the right one
    membership = services.staff_invitation_accept(token="secret-token", password=password)

    # then
    assert membership.user == user
    assert membership.organization == invitation.organization


def test_a_signed_in_user_accepts_only_their_own_invitation():
    # given
    StaffInvitationFactory(token="secret-token", email="invitee@example.com")
    someone_else = UserFactory(email="other@example.com")

    # when / then
    with pytest.raises(services.AccountError, match="invitee@example.com"):
        services.staff_invitation_accept(token="secret-token", user=someone_else)
    assert not Membership.objects.exists()


def test_an_invitation_is_accepted_only_once():
    # given
    StaffInvitationFactory(token="secret-token")
    services.staff_invitation_accept(token="secret-token", full_name="N", password="x-secret-123")

    # when / then
    with pytest.raises(services.AccountError, match="already been accepted"):
        services.staff_invitation_accept(token="secret-token", password="x-secret-123")
    assert Membership.objects.count() == 1


def test_revoking_withdraws_a_pending_invitation(membership):
    # given
    invitation = StaffInvitationFactory(token="secret-token", organization=membership.organization)

    # when
    services.staff_invitation_revoke(membership=membership, invitation_id=invitation.pk)

    # then
    with pytest.raises(services.AccountError, match="withdrawn"):
        services.staff_invitation_get(token="secret-token")


def test_revoking_leaves_other_organisations_invitations_alone(membership):
    # given
    elsewhere = StaffInvitationFactory(token="secret-token")

    # when / then: not found, as if it did not exist
    with pytest.raises(StaffInvitation.DoesNotExist):
        services.staff_invitation_revoke(membership=membership, invitation_id=elsewhere.pk)
    assert services.staff_invitation_get(token="secret-token") == elsewhere


def test_staff_cannot_revoke(organization):
    # given
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    invitation = StaffInvitationFactory(organization=organization)

    # when / then
    with pytest.raises(PermissionDeniedError):
        services.staff_invitation_revoke(membership=staff, invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


# --- roles and removal --------------------------------------------------------


def test_admin_can_change_a_staff_members_role(organization):
    # given
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    staff = MembershipFactory(organization=organization, role=Role.STAFF)

    # when
    services.membership_change_role(membership=admin, target_id=staff.pk, role=Role.ADMIN)

    # then
    staff.refresh_from_db()
    assert staff.role == Role.ADMIN


@pytest.mark.parametrize(
    ("target_role", "new_role"), [(Role.STAFF, Role.OWNER), (Role.OWNER, Role.STAFF)]
)
def test_only_an_owner_can_make_or_unmake_owners(membership, target_role, new_role):
    # given
    admin = MembershipFactory(organization=membership.organization, role=Role.ADMIN)
    target = MembershipFactory(organization=membership.organization, role=target_role)

    # when / then
    with pytest.raises(PermissionDeniedError):
        services.membership_change_role(membership=admin, target_id=target.pk, role=new_role)
    target.refresh_from_db()
    assert target.role == target_role


def test_staff_cannot_change_roles(organization):
    # given
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    other = MembershipFactory(organization=organization, role=Role.STAFF)

    # when / then
    with pytest.raises(PermissionDeniedError):
        services.membership_change_role(membership=staff, target_id=other.pk, role=Role.ADMIN)


def test_the_last_owner_cannot_be_demoted(membership):
    # when / then
    with pytest.raises(services.AccountError, match="at least one owner"):
        services.membership_change_role(
            membership=membership, target_id=membership.pk, role=Role.ADMIN
        )
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_an_owner_can_be_demoted_while_another_owner_remains(membership):
    # given
    co_owner = MembershipFactory(organization=membership.organization, role=Role.OWNER)

    # when
    services.membership_change_role(membership=membership, target_id=co_owner.pk, role="staff")

    # then
    co_owner.refresh_from_db()
    assert co_owner.role == Role.STAFF


def test_the_last_owner_cannot_be_removed(membership):
    # when / then
    with pytest.raises(services.AccountError, match="at least one owner"):
        services.membership_remove(membership=membership, target_id=membership.pk)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_owner_can_remove_a_co_owner(membership):
    # given
    co_owner = MembershipFactory(organization=membership.organization, role=Role.OWNER)

    # when
    services.membership_remove(membership=membership, target_id=co_owner.pk)

    # then
    assert not Membership.objects.filter(pk=co_owner.pk).exists()


def test_an_admin_cannot_remove_an_owner(membership):
    # given
    admin = MembershipFactory(organization=membership.organization, role=Role.ADMIN)
    MembershipFactory(organization=membership.organization, role=Role.OWNER)

    # when / then
    with pytest.raises(PermissionDeniedError):
        services.membership_remove(membership=admin, target_id=membership.pk)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_can_remove_staff(organization):
    # given
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    staff = MembershipFactory(organization=organization, role=Role.STAFF)

    # when
    services.membership_remove(membership=admin, target_id=staff.pk)

    # then
    assert not Membership.objects.filter(pk=staff.pk).exists()


def test_a_member_of_another_organisation_cannot_be_touched(membership):
    # given
    stranger = MembershipFactory(role=Role.STAFF)

    # when / then
    with pytest.raises(Membership.DoesNotExist):
        services.membership_remove(membership=membership, target_id=stranger.pk)
    with pytest.raises(Membership.DoesNotExist):
        services.membership_change_role(membership=membership, target_id=stranger.pk, role="admin")
    assert Membership.objects.filter(pk=stranger.pk, role=Role.STAFF).exists()


# --- password reset -----------------------------------------------------------


def test_password_reset_request_queues_an_email_with_a_link():
    # given
    user = UserFactory(email="ann@example.com", full_name="Ann Example", language="en")

    # when
    result = services.password_reset_request(email=" ANN@example.com ")

    # then
    assert result.queued
    email = OutboundEmail.objects.get()
    assert email.kind == "accounts.password_reset"
    assert email.organization is None
    assert email.to_email == user.email
    assert email.to_name == "Ann Example"
    assert email.subject == "Reset your Portico password"
    assert f"{settings.SITE_URL}/password-reset/" in email.with_secrets(email.body_text)
    assert "Hello Ann," in email.with_secrets(email.body_text)


@pytest.mark.parametrize("kind", ["unknown", "inactive", "no password"])
def test_password_reset_request_queues_nothing_without_a_usable_account(kind):
    # given
    if kind == "inactive":
        UserFactory(email="ann@example.com", is_active=False)
    elif kind == "no password":
        user = UserFactory(email="ann@example.com")
        user.set_unusable_password()
        user.save()

    # when
    result = services.password_reset_request(email="ann@example.com")

    # then
    assert not result.queued
    assert not OutboundEmail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(monkeypatch):
    # SQLite runs one write transaction at a time; the race exists on PostgreSQL.
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent write transactions (PostgreSQL)")
    # given: two owners; each check for "another owner" waits until both requests got there
    first = MembershipFactory(role=Role.OWNER)
    second = MembershipFactory(organization=first.organization, role=Role.OWNER)
    both_checking = threading.Barrier(2, timeout=2)
    ensure_another_owner = services._ensure_another_owner

    def ensure_when_both_are_checking(target):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checking.wait()
        ensure_another_owner(target)

    monkeypatch.setattr(services, "_ensure_another_owner", ensure_when_both_are_checking)
    outcomes = []

    def demote(actor, target):
        try:
            services.membership_change_role(membership=actor, target_id=target.pk, role="admin")
            outcomes.append("demoted")
        except services.AccountError:
            outcomes.append("refused")
        finally:
            connection.close()

    # when
    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert sorted(outcomes) == ["demoted", "refused"]
    owners = Membership.objects.filter(organization=first.organization, role=Role.OWNER)
    assert owners.count() == 1
