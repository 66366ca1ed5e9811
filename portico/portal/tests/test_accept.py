"""Accept invitation: the page the invitation e-mail's button opens."""

from datetime import timedelta

import pytest

from portico.accounts.models import User
from portico.accounts.tests.factories import TEST_PASSWORD, UserFactory
from portico.portal_access.models import AccessStatus, PortalAccess, PortalInvitation
from portico.portal_access.services import portal_access_disable
from portico.portal_access.tests.factories import PortalAccessFactory, PortalInvitationFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-unusual-passphrase"


@pytest.fixture
def invitation():
    return PortalInvitationFactory(token="the-token")


@pytest.fixture
def accept_url(invitation, portal_reverse):
    return portal_reverse(invitation.organization, "portal:accept", token="the-token")


def _state(invitation) -> tuple:
    """What accepting would change: the invitation, the access, the accounts."""
    invitation.refresh_from_db()
    access = PortalAccess.objects.get(pk=invitation.access_id)
    return (invitation.used_at, access.status, access.user_id, User.objects.count())


def test_the_page_names_the_organisation_and_the_username(client, invitation, accept_url):
    response = client.get(accept_url)

    page = response.content.decode()
    assert response.status_code == 200
    assert invitation.organization.name in page
    assert invitation.access.contact.email in page
    assert "Choose a password" in page and "Confirm the password" in page


def test_choosing_a_password_signs_the_contact_in_at_portal_home(
    client, invitation, accept_url, portal_reverse
):
    # when the contact chooses a password and confirms it
    response = client.post(
        accept_url,
        {"full_name": "Ada Lovelace", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    # then they land on portal home, signed in, with an active access
    home = portal_reverse(invitation.organization, "portal:home")
    assert response.status_code == 302
    assert response["Location"] == home
    access = PortalAccess.objects.select_related("user").get(pk=invitation.access_id)
    assert access.status == AccessStatus.ACTIVE
    assert access.user.email == invitation.access.contact.email
    assert access.user.full_name == "Ada Lovelace"
    assert access.user.check_password(NEW_PASSWORD)
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    page = client.get(home)
    assert page.status_code == 200
    assert "Welcome" in page.content.decode()


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "This password is too short"),
        ("password123456", "password123456", "This password is too common"),
        ("8204719365021", "8204719365021", "This password is entirely numeric"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords are not the same"),
    ],
)
def test_the_password_must_pass_djangos_validators(
    client, invitation, accept_url, password, confirm, message
):
    before = _state(invitation)

    response = client.post(
        accept_url, {"full_name": "Ada", "password": password, "password_confirm": confirm}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _state(invitation) == before


def test_a_password_like_the_email_is_refused(client, accept_url, invitation):
    email = invitation.access.contact.email
    response = client.post(
        accept_url, {"full_name": "Ada", "password": email, "password_confirm": email}
    )

    assert response.status_code == 200
    assert "too similar" in response.content.decode()


def test_an_expired_invitation_gets_a_clear_page_and_changes_nothing(client, clock, portal_reverse):
    # given an invitation valid for 7 days from now (the clock is frozen)
    access = PortalAccessFactory()
    invitation = PortalInvitationFactory(
        access=access, token="expiring", expires_at=clock.now + timedelta(days=7)
    )
    url = portal_reverse(access.organization, "portal:accept", token="expiring")

    # when the last second of its lifetime is still good …
    clock.advance(days=7, seconds=-1)
    assert client.get(url).status_code == 200

    # … and one second later it is over
    clock.advance(seconds=1)
    before = _state(invitation)
    page = client.get(url)
    posted = client.post(
        url, {"full_name": "Ada", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )

    assert page.status_code == 410
    assert "This invitation has expired" in page.content.decode()
    assert posted.status_code == 410
    assert _state(invitation) == before


def test_a_used_invitation_cannot_be_used_again(client, invitation, accept_url):
    client.post(
        accept_url,
        {"full_name": "Ada", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    client.logout()
    before = _state(invitation)

    response = client.post(
        accept_url,
        {"full_name": "Eve", "password": "another-long-password", "password_confirm": "x"},
    )

    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert _state(invitation) == before


def test_a_superseded_invitation_points_to_the_latest_email(client, invitation, accept_url):
    # given a reinvite: a newer token supersedes this one
    PortalInvitation.objects.filter(pk=invitation.pk).update(superseded_at=invitation.expires_at)
    PortalInvitationFactory(access=invitation.access, token="newer")
    before = _state(invitation)

    response = client.post(
        accept_url,
        {"full_name": "Ada", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert response.status_code == 410
    assert "A newer invitation was sent to you" in response.content.decode()
    assert _state(invitation) == before


def test_a_forged_token_gets_a_clear_page(client, invitation, portal_reverse):
    url = portal_reverse(invitation.organization, "portal:accept", token="the-tokem")

    response = client.get(url)

    assert response.status_code == 410
    assert "This invitation link is not valid" in response.content.decode()


def test_a_token_of_another_organisation_is_not_valid_here(client, invitation, portal_reverse):
    other = PortalAccessFactory().organization
    url = portal_reverse(other, "portal:accept", token="the-token")

    assert client.get(url).status_code == 410


def test_the_invitation_of_a_disabled_contact_cannot_be_used(client, invitation, accept_url):
    portal_access_disable(access=invitation.access)
    before = _state(invitation)

    response = client.post(
        accept_url,
        {"full_name": "Ada", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert response.status_code == 410
    assert "disabled" in response.content.decode()
    assert _state(invitation) == before


def test_an_existing_account_signs_in_with_its_password_and_the_access_is_linked(
    client, invitation, accept_url, portal_reverse
):
    # given the contact already has a Portico account (say, another organisation's portal)
    user = UserFactory(email=invitation.access.contact.email.upper())

    # when they open the invitation, then give their password
    page = client.get(accept_url).content.decode()
    response = client.post(accept_url, {"password": TEST_PASSWORD})

    # then the page asked only for that password, and the access is linked to it
    assert "already have a Portico account" in page
    assert "Confirm the password" not in page
    assert response.status_code == 302
    assert response["Location"] == portal_reverse(invitation.organization, "portal:home")
    access = PortalAccess.objects.get(pk=invitation.access_id)
    assert (access.status, access.user_id) == (AccessStatus.ACTIVE, user.pk)
    assert User.objects.filter(email__iexact=user.email).count() == 1


def test_an_existing_account_with_a_wrong_password_changes_nothing(client, invitation, accept_url):
    UserFactory(email=invitation.access.contact.email)
    before = _state(invitation)

    response = client.post(accept_url, {"password": "not-my-password"})

    assert response.status_code == 200
    assert "enter its password" in response.content.decode()
    assert _state(invitation) == before
    assert "_auth_user_id" not in client.session


def test_guessing_an_existing_accounts_password_here_is_throttled(client, invitation, accept_url):
    UserFactory(email=invitation.access.contact.email)
    for _attempt in range(3):
        client.post(accept_url, {"password": "wrong-guess"})

    response = client.post(accept_url, {"password": TEST_PASSWORD})

    assert response.status_code == 429
    assert PortalAccess.objects.get(pk=invitation.access_id).status == AccessStatus.INVITED


def test_a_person_signed_in_with_the_invited_email_accepts_with_one_click(
    client, invitation, accept_url
):
    user = UserFactory(email=invitation.access.contact.email)
    client.force_login(user)

    page = client.get(accept_url).content.decode()
    response = client.post(accept_url)

    assert "You are signed in with this account" in page
    assert response.status_code == 302
    access = PortalAccess.objects.get(pk=invitation.access_id)
    assert (access.status, access.user_id) == (AccessStatus.ACTIVE, user.pk)
