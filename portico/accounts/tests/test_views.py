import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from portico.accounts.decorators import SESSION_ORGANIZATION_KEY
from portico.accounts.models import (
    LoginThrottle,
    Membership,
    Organization,
    Role,
    StaffInvitation,
    User,
)
from portico.accounts.tests.factories import (
    TEST_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    StaffInvitationFactory,
    UserFactory,
)
from portico.customers.tests.factories import CustomerFactory
from portico.mail.models import OutboundEmail

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:login")
WRONG_PASSWORD = "not-the-password"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def link_path(email: OutboundEmail, path_prefix: str) -> str:
    """The path of the first link starting with ``path_prefix`` in the e-mail as
    the recipient gets it (private links are filled in only when sending)."""
    body = email.with_secrets(email.body_text)
    match = re.search(re.escape(settings.SITE_URL) + r"(" + re.escape(path_prefix) + r"\S+)", body)
    assert match, body
    return match.group(1)


def is_signed_in(client) -> bool:
    return client.get(reverse("core:home")).status_code == 200


# --- sign-up ------------------------------------------------------------------

SIGN_UP = reverse("accounts:signup")


def sign_up_data(**changes) -> dict:
    return {
        "organization_name": "Acme Plumbing",
        "full_name": "Ada Owner",
        "email": "ada@example.com",
        "password": "a-long-secret-1",
        "base_currency": "EUR",
    } | changes


def test_sign_up_page_shows_the_form(client):
    response = client.get(SIGN_UP)

    assert response.status_code == 200
    assert "Create your account" in response.text


def test_sign_up_creates_the_organisation_and_owner_and_signs_in(client):
    # when
    response = client.post(SIGN_UP, sign_up_data())

    # then
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    membership = Membership.objects.select_related("user", "organization").get()
    assert membership.role == Role.OWNER
    assert membership.user.email == "ada@example.com"
    assert membership.organization.name == "Acme Plumbing"
    assert membership.organization.base_currency == "EUR"
    assert client.session[SESSION_ORGANIZATION_KEY] == membership.organization_id
    assert get_user(client) == membership.user
    home = client.get(response.url)
    assert "Welcome to Portico! Acme Plumbing is ready." in home.text


def test_sign_up_with_a_taken_email_shows_a_field_error_and_creates_nothing(client):
    # given
    UserFactory(email="ada@example.com")

    # when
    response = client.post(SIGN_UP, sign_up_data(email="ADA@example.com"))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this e-mail address already exists. Sign in instead."
    ]
    assert User.objects.count() == 1
    assert not Organization.objects.exists()
    assert not get_user(client).is_authenticated


@pytest.mark.parametrize("weak", ["short1", "1234567890123", "password123", "ada@example.com"])
def test_sign_up_with_a_weak_password_shows_a_field_error_and_creates_nothing(client, weak):
    # when
    response = client.post(SIGN_UP, sign_up_data(password=weak))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not User.objects.exists()
    assert not Organization.objects.exists()


# --- sign-in and sign-out -----------------------------------------------------


def test_sign_in_with_the_right_password_in_any_case_of_email(client, password):
    # given
    membership = MembershipFactory(user__email="ann@example.com")

    # when
    response = client.post(SIGN_IN, {"email": "  Ann@EXAMPLE.com", "password": password})

    # then
    assert response.status_code == 302
    assert response.url == "/app/"
    assert get_user(client) == membership.user


def test_sign_in_follows_a_safe_next_and_ignores_another_host(client, membership, password):
    # when
    safe = client.post(
        SIGN_IN + "?next=/app/customers/",
        {"email": membership.user.email, "password": password, "next": "/app/customers/"},
    )
    client.logout()
    unsafe = client.post(
        SIGN_IN,
        {"email": membership.user.email, "password": password, "next": "https://evil.example/"},
    )

    # then
    assert safe.url == "/app/customers/"
    assert unsafe.url == "/app/"


def test_sign_in_with_a_wrong_password_is_refused(client, membership):
    # when
    response = client.post(SIGN_IN, {"email": membership.user.email, "password": WRONG_PASSWORD})

    # then
    assert response.status_code == 200
    assert "The e-mail or password is not right." in response.text
    assert not get_user(client).is_authenticated


def test_signed_in_user_visiting_sign_in_goes_home(staff_client):
    response = staff_client.get(SIGN_IN)

    assert response.status_code == 302
    assert response.url == reverse("core:home")


def test_sign_out_by_post(staff_client):
    # when
    response = staff_client.post(reverse("accounts:logout"))

    # then
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert not get_user(staff_client).is_authenticated
    assert messages_of(response) == ["You are signed out."]


def test_sign_out_by_get_is_not_allowed(staff_client):
    # when
    response = staff_client.get(reverse("accounts:logout"))

    # then
    assert response.status_code == 405
    assert get_user(staff_client).is_authenticated


# --- sign-in throttling -------------------------------------------------------


def attempt(client, email: str, password: str, address: str):
    return client.post(SIGN_IN, {"email": email, "password": password}, REMOTE_ADDR=address)


def answer(response) -> tuple[int, list[str]]:
    """What a person sees: the status and the form's errors, with numbers blanked."""
    errors = response.context["form"].non_field_errors() if response.context else []
    return response.status_code, [re.sub(r"\d+", "N", str(error)) for error in errors]


def test_repeated_failures_make_the_sign_in_page_answer_429(client, membership, password):
    # given
    email = membership.user.email
    for _attempt in range(settings.LOGIN_FAILURES_BEFORE_DELAY):
        assert attempt(client, email, WRONG_PASSWORD, "192.0.2.1").status_code == 200

    # when: even the right password must wait
    response = attempt(client, email, password, "192.0.2.1")

    # then
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 2 seconds." in response.text
    assert not get_user(client).is_authenticated


def test_after_the_wait_the_right_password_signs_in(client, membership, password):
    # given
    email = membership.user.email
    for _attempt in range(settings.LOGIN_FAILURES_BEFORE_DELAY):
        attempt(client, email, WRONG_PASSWORD, "192.0.2.1")

    # when: time travel past the wait
    LoginThrottle.objects.update(last_failure_at=timezone.now() - timedelta(seconds=3))
    response = attempt(client, email, password, "192.0.2.1")

    # then
    assert response.status_code == 302
    assert get_user(client) == membership.user


def test_the_throttle_answers_the_same_for_an_unknown_email(client, password):
    # given
    known = UserFactory(email="known@example.com")
    assert not User.objects.filter(email="unknown@example.com").exists()

    # when: the same sequence for each, each from its own address
    answers = {}
    for email, address in ((known.email, "192.0.2.1"), ("unknown@example.com", "192.0.2.2")):
        answers[email] = [
            answer(attempt(client, email, WRONG_PASSWORD, address))
            for _attempt in range(settings.LOGIN_FAILURES_BEFORE_DELAY + 2)
        ]

    # then
    assert answers[known.email] == answers["unknown@example.com"]
    assert [status for status, _errors in answers[known.email]] == [200, 200, 200, 429, 429]


@override_settings(LOGIN_FAILURES_BEFORE_DELAY=1000)
def test_the_email_is_locked_after_the_lock_threshold(client, membership, password):
    # given: failures from many addresses, so only the e-mail's count locks it
    email = membership.user.email
    for number in range(settings.LOGIN_FAILURES_BEFORE_LOCK):
        assert attempt(client, email, WRONG_PASSWORD, f"10.0.0.{number}").status_code == 200

    # when
    response = attempt(client, email, password, "10.0.1.1")

    # then
    assert response.status_code == 429
    assert f"Try again in {settings.LOGIN_LOCK_SECONDS} seconds." in response.text

    # when: the lock has expired
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    response = attempt(client, email, password, "10.0.1.2")

    # then
    assert response.status_code == 302


def test_a_successful_sign_in_clears_the_email_failures(client, membership, password):
    # given: two failures, then a success (each from its own address)
    email = membership.user.email
    attempt(client, email, WRONG_PASSWORD, "10.0.0.1")
    attempt(client, email, WRONG_PASSWORD, "10.0.0.2")
    assert attempt(client, email, password, "10.0.0.3").status_code == 302
    client.logout()

    # when: two more failures would have made three in a row
    attempt(client, email, WRONG_PASSWORD, "10.0.0.4")
    attempt(client, email, WRONG_PASSWORD, "10.0.0.5")
    response = attempt(client, email, password, "10.0.0.6")

    # then
    assert response.status_code == 302


# --- password reset -----------------------------------------------------------

PASSWORD_RESET = reverse("accounts:password_reset")


def test_password_reset_end_to_end(client, membership, password):
    # given
    user = membership.user

    # when: ask for a link
    response = client.post(PASSWORD_RESET, {"email": user.email.upper()})

    # then
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert "Check your e-mail" in client.get(response.url).text
    email = OutboundEmail.objects.get(kind="accounts.password_reset")
    assert email.to_email == user.email
    assert email.subject == "Reset your Portico password"

    # when: follow the link and choose a new password
    form_page = client.get(link_path(email, "/password-reset/"), follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.text
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_password_url,
        {"new_password1": "brand-new-secret-9", "new_password2": "brand-new-secret-9"},
    )

    # then
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert attempt(client, user.email, password, "10.0.0.1").status_code == 200
    assert attempt(client, user.email, "brand-new-secret-9", "10.0.0.2").status_code == 302
    assert get_user(client) == user


def test_a_password_reset_link_works_once(client, membership):
    # given
    client.post(PASSWORD_RESET, {"email": membership.user.email})
    link = link_path(OutboundEmail.objects.get(), "/password-reset/")
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-secret-9", "new_password2": "brand-new-secret-9"},
    )

    # when
    response = client.get(link, follow=True)

    # then
    assert "This link no longer works" in response.text


def test_password_reset_for_an_unknown_email_looks_the_same_and_queues_nothing(client):
    # when
    response = client.post(PASSWORD_RESET, {"email": "nobody@example.com"})

    # then
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert not OutboundEmail.objects.exists()


# --- invitations --------------------------------------------------------------

TEAM = reverse("accounts:team")


def invite(client, email: str, role: str = Role.STAFF, **options):
    return client.post(TEAM, {"email": email, "role": role}, **options)


def invitation_link() -> str:
    email = OutboundEmail.objects.get(kind="accounts.staff_invitation")
    return link_path(email, "/invitation/")


def test_owner_invites_from_the_team_page_and_the_email_is_queued(staff_client, organization):
    # when
    response = invite(staff_client, "nina@example.com", Role.ADMIN)

    # then
    assert response.status_code == 302
    assert messages_of(response) == ["Invitation sent to nina@example.com."]
    email = OutboundEmail.objects.get()
    assert email.kind == "accounts.staff_invitation"
    assert email.to_email == "nina@example.com"
    assert email.subject == f"You are invited to join {organization.name} on Portico"
    assert re.search(
        re.escape(settings.SITE_URL) + r"/invitation/\S+/", email.with_secrets(email.body_text)
    )
    page = staff_client.get(TEAM)
    pending = [(invitation.email, invitation.role) for invitation in page.context["invitations"]]
    assert pending == [("nina@example.com", Role.ADMIN)]
    assert "nina@example.com" in page.text


def test_staff_cannot_invite_from_the_team_page(client, organization):
    # given
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    client.force_login(staff.user)

    # when
    response = invite(client, "nina@example.com")

    # then: the refusal shows, even though a staff member's page has no invitation form
    assert response.status_code == 200
    assert "Only an owner or an admin can invite colleagues." in response.text
    assert "Send invitation" not in response.text
    assert not StaffInvitation.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_admin_cannot_invite_an_owner_from_the_team_page(client, organization):
    # given
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    client.force_login(admin.user)

    # when
    response = invite(client, "boss@example.com", Role.OWNER)

    # then
    assert response.status_code == 200
    assert response.context["invite_form"].errors["role"] == [
        "Only an owner can invite another owner."
    ]
    assert not StaffInvitation.objects.exists()


def test_a_new_colleague_accepts_and_gets_an_account(staff_client, client, organization):
    # given
    invite(staff_client, "nina@example.com", Role.ADMIN)
    link = invitation_link()

    # when: the colleague opens the link (in their own browser)
    client.logout()
    page = client.get(link)

    # then
    assert page.status_code == 200
    assert f"Join {organization.name} on Portico" in page.text
    assert set(page.context["form"].fields) == {"full_name", "password"}

    # when
    response = client.post(link, {"full_name": "Nina New", "password": "a-long-secret-1"})

    # then
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    user = User.objects.get(email="nina@example.com")
    assert user.full_name == "Nina New"
    assert Membership.objects.get(user=user).role == Role.ADMIN
    assert get_user(client) == user
    assert client.session[SESSION_ORGANIZATION_KEY] == organization.pk
    assert StaffInvitation.objects.get().accepted_at is not None


def test_a_new_colleague_must_choose_a_strong_password(client):
    # given
    StaffInvitationFactory(token="secret-token")

    # when
    response = client.post(
        reverse("accounts:invitation", args=["secret-token"]),
        {"full_name": "Nina", "password": "12345"},
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not Membership.objects.exists()


def test_an_existing_user_must_give_their_password_to_join(client, password):
    # given
    user = MembershipFactory(user__email="known@example.com").user
    invitation = StaffInvitationFactory(token="secret-token", email="known@example.com")
    link = reverse("accounts:invitation", args=["secret-token"])

    # when
    page = client.get(link)

    # then
    assert "You already have a Portico account." in page.text
    assert set(page.context["form"].fields) == {"password"}

    # when: a wrong password
    response = client.post(link, {"password": WRONG_PASSWORD})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [
        "You already have an account: enter its password to join."
    ]
    assert not Membership.objects.filter(organization=invitation.organization).exists()

    # when: the right one
    response = client.post(link, {"password": password})

    # then
    assert response.status_code == 302
    assert Membership.objects.filter(organization=invitation.organization, user=user).exists()
    assert client.session[SESSION_ORGANIZATION_KEY] == invitation.organization_id


def test_the_invitee_signed_in_joins_with_one_click(client):
    # given
    user = MembershipFactory(user__email="known@example.com").user
    invitation = StaffInvitationFactory(token="secret-token", email="known@example.com")
    client.force_login(user)
    link = reverse("accounts:invitation", args=["secret-token"])

    # when
    page = client.get(link)
    response = client.post(link)

    # then
    assert page.context["signed_in_as_invitee"]
    assert response.status_code == 302
    assert Membership.objects.filter(organization=invitation.organization, user=user).exists()
    assert messages_of(response) == [f"You joined {invitation.organization.name}."]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accepted_at": timezone.now()}, "This invitation has already been accepted."),
        ({"revoked_at": timezone.now()}, "This invitation was withdrawn. Ask for a new one."),
        (
            {"expires_at": timezone.now() - timedelta(minutes=1)},
            "This invitation has expired. Ask for a new one.",
        ),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_used_revoked_and_expired_invitations_are_refused(client, changes, message, method):
    # given
    StaffInvitationFactory(token="secret-token", **changes)

    # when
    response = getattr(client, method)(
        reverse("accounts:invitation", args=["secret-token"]),
        {"full_name": "Nina", "password": "a-long-secret-1"} if method == "post" else None,
    )

    # then
    assert response.status_code == 410
    assert "This invitation cannot be used" in response.text
    assert message in response.text
    assert not User.objects.filter(full_name="Nina").exists()


def test_an_unknown_invitation_token_is_refused(client):
    response = client.get(reverse("accounts:invitation", args=["made-up"]))

    assert response.status_code == 410
    assert "This invitation link is not valid." in response.text


def test_owner_withdraws_an_invitation(staff_client):
    # given
    invite(staff_client, "nina@example.com", follow=True)
    invitation = StaffInvitation.objects.get()
    link = invitation_link()

    # when
    response = staff_client.post(
        reverse("accounts:team_invitation_revoke", args=[invitation.pk]), follow=True
    )

    # then
    assert messages_of(response) == ["Invitation withdrawn."]
    assert staff_client.get(link).status_code == 410


# --- team: roles and removal --------------------------------------------------


def test_team_page_lists_members(staff_client, membership):
    # given
    colleague = MembershipFactory(organization=membership.organization, user__full_name="Zed")
    stranger = MembershipFactory(user__full_name="Stranger Person")

    # when
    response = staff_client.get(TEAM)

    # then
    assert response.status_code == 200
    assert colleague.user.email in response.text
    assert stranger.user.email not in response.text


def test_owner_changes_a_members_role(staff_client, membership):
    # given
    colleague = MembershipFactory(organization=membership.organization, role=Role.STAFF)

    # when
    response = staff_client.post(
        reverse("accounts:team_role", args=[colleague.pk]), {"role": Role.ADMIN}
    )

    # then
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.role == Role.ADMIN
    assert messages_of(response) == ["Role changed."]


def test_the_last_owner_cannot_demote_themselves(staff_client, membership):
    # when
    response = staff_client.post(
        reverse("accounts:team_role", args=[membership.pk]), {"role": Role.STAFF}
    )

    # then
    assert messages_of(response) == ["An organisation needs at least one owner."]
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_the_last_owner_cannot_be_removed(client, membership):
    # given: an admin tries, and then the owner themselves
    admin = MembershipFactory(organization=membership.organization, role=Role.ADMIN)
    client.force_login(admin.user)
    by_admin = client.post(reverse("accounts:team_remove", args=[membership.pk]), follow=True)
    client.force_login(membership.user)
    by_owner = client.post(reverse("accounts:team_remove", args=[membership.pk]), follow=True)

    # then
    assert messages_of(by_admin) == ["Only an owner can remove an owner."]
    assert messages_of(by_owner) == ["An organisation needs at least one owner."]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_owner_removes_a_member(staff_client, membership):
    # given
    colleague = MembershipFactory(organization=membership.organization, role=Role.STAFF)

    # when
    response = staff_client.post(reverse("accounts:team_remove", args=[colleague.pk]))

    # then
    assert messages_of(response) == ["Member removed."]
    assert not Membership.objects.filter(pk=colleague.pk).exists()


def test_staff_cannot_change_roles_or_remove(client, membership):
    # given
    staff = MembershipFactory(organization=membership.organization, role=Role.STAFF)
    other = MembershipFactory(organization=membership.organization, role=Role.STAFF)
    client.force_login(staff.user)

    # when
    role = client.post(
        reverse("accounts:team_role", args=[other.pk]), {"role": Role.OWNER}, follow=True
    )
    remove = client.post(reverse("accounts:team_remove", args=[other.pk]), follow=True)

    # then
    assert messages_of(role) == ["Only an owner or an admin can invite colleagues."]
    assert messages_of(remove) == ["Only an owner or an admin can invite colleagues."]
    other.refresh_from_db()
    assert other.role == Role.STAFF


def test_members_of_another_organisation_are_not_found(staff_client):
    # given
    stranger = MembershipFactory(role=Role.STAFF)

    # when
    role = staff_client.post(reverse("accounts:team_role", args=[stranger.pk]), {"role": "admin"})
    remove = staff_client.post(reverse("accounts:team_remove", args=[stranger.pk]))

    # then
    assert role.status_code == 404
    assert remove.status_code == 404
    stranger.refresh_from_db()
    assert stranger.role == Role.STAFF


# --- staff pages and organisations -------------------------------------------


def test_staff_pages_send_anonymous_visitors_to_sign_in(client):
    response = client.get(TEAM)

    assert response.status_code == 302
    assert response.url == f"{SIGN_IN}?next={TEAM}"


def test_a_user_without_organisation_is_told_so_and_stays_signed_in(client):
    # given: say, a customer's contact person signed in to a portal
    user = UserFactory()
    client.force_login(user)

    # when
    response = client.get(TEAM)

    # then
    assert response.status_code == 403
    assert "This account is not a member of any organisation" in response.text
    assert get_user(client).is_authenticated


def test_switching_organisation_changes_what_staff_pages_show(staff_client, membership):
    # given: the user belongs to a second organisation, each with a customer
    second = MembershipFactory(user=membership.user, organization__name="Second Business")
    CustomerFactory(organization=membership.organization, display_name="First's customer")
    CustomerFactory(organization=second.organization, display_name="Second's customer")

    # when
    response = staff_client.post(reverse("accounts:switch", args=[second.organization_id]))
    customers = staff_client.get(reverse("customers:list"))

    # then
    assert response.status_code == 302
    assert staff_client.session[SESSION_ORGANIZATION_KEY] == second.organization_id
    assert "Second&#x27;s customer" in customers.text
    assert "First&#x27;s customer" not in customers.text


def test_switching_to_an_organisation_one_is_not_in_is_refused(staff_client, organization):
    # given
    other = OrganizationFactory()

    # when
    response = staff_client.post(reverse("accounts:switch", args=[other.pk]))

    # then
    assert response.status_code == 404
    assert SESSION_ORGANIZATION_KEY not in staff_client.session


def test_throttled_sign_in_says_when_to_retry(client, membership, settings):
    settings.LOGIN_FAILURES_BEFORE_DELAY = 1
    client.post(SIGN_IN, {"email": membership.user.email, "password": "wrong"})

    response = client.post(SIGN_IN, {"email": membership.user.email, "password": "wrong"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_guessing_a_password_on_the_invitation_page_is_throttled(client, membership, settings):
    # given: an invitation for someone who already has an account elsewhere
    settings.LOGIN_FAILURES_BEFORE_DELAY = 2
    existing = UserFactory(email="taken@example.com")
    StaffInvitationFactory(
        organization=membership.organization, email=existing.email, token="join-token"
    )
    url = reverse("accounts:invitation", args=["join-token"])

    # when: wrong passwords are tried
    for _attempt in range(2):
        response = client.post(url, {"password": "guess-one-two"})
        assert response.status_code == 200

    # then: even the right password must wait
    response = client.post(url, {"password": TEST_PASSWORD})
    assert "Too many failed sign-in attempts" in response.text
    assert not existing.memberships.exists()


def test_withdrawing_another_organisations_invitation_is_404(staff_client):
    elsewhere = StaffInvitationFactory(token="other-token")

    response = staff_client.post(reverse("accounts:team_invitation_revoke", args=[elsewhere.pk]))

    assert response.status_code == 404
