"""Portal sign-in (throttled), sign-out, forgotten password and change password."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portico.accounts.tests.factories import TEST_PASSWORD, MembershipFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.authentication import portal_password_reset_tokens
from portico.portal_access.services import portal_access_disable
from portico.portal_access.tests.factories import PortalAccessFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase"


def _sign_in(client, organization, portal_reverse, email, password, **extra):
    return client.post(
        portal_reverse(organization, "portal:sign_in"),
        {"email": email, "password": password, **extra},
    )


# --- sign-in -------------------------------------------------------------------------


def test_signing_in_opens_portal_home_and_records_the_sign_in(
    client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization

    response = _sign_in(client, organization, portal_reverse, portal_user.email, TEST_PASSWORD)

    home = portal_reverse(organization, "portal:home")
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200
    portal_access.refresh_from_db()
    assert portal_access.last_login_at is not None


def test_signing_in_goes_on_to_the_page_asked_for(
    client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization
    wanted = portal_reverse(organization, "portal:password_change")

    response = _sign_in(
        client, organization, portal_reverse, portal_user.email, TEST_PASSWORD, next=wanted
    )
    elsewhere = _sign_in(
        client,
        organization,
        portal_reverse,
        portal_user.email,
        TEST_PASSWORD,
        next="https://evil.example/",
    )

    assert response["Location"] == wanted
    assert elsewhere["Location"] == portal_reverse(organization, "portal:home")


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization

    wrong = _sign_in(client, organization, portal_reverse, portal_user.email, "not-it")
    unknown = _sign_in(client, organization, portal_reverse, "nobody@nowhere.example", "not-it")

    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "The e-mail or password is not right." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_is_throttled_after_repeated_failures(
    client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization
    for _attempt in range(3):
        _sign_in(client, organization, portal_reverse, portal_user.email, "guess")

    # even the right password waits now
    response = _sign_in(client, organization, portal_reverse, portal_user.email, TEST_PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session


def test_an_account_without_access_here_is_not_signed_in(client, portal_reverse):
    # given a staff member of another organisation, and this organisation's portal
    staff = MembershipFactory().user
    organization = PortalAccessFactory(active=True).organization

    response = _sign_in(client, organization, portal_reverse, staff.email, TEST_PASSWORD)

    assert response.status_code == 200
    assert "has no access to the customer portal" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_disabled_contact_signing_in_sees_the_disabled_page(
    client, portal_access, portal_user, portal_reverse
):
    portal_access_disable(access=portal_access)

    response = _sign_in(
        client, portal_access.organization, portal_reverse, portal_user.email, TEST_PASSWORD
    )

    assert response.status_code == 403
    assert "Access disabled" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session(portal_client, portal_access, portal_reverse):
    organization = portal_access.organization
    sign_out = portal_reverse(organization, "portal:sign_out")

    assert portal_client.get(sign_out).status_code == 405
    response = portal_client.post(sign_out)

    assert response.status_code == 302
    assert response["Location"] == portal_reverse(organization, "portal:sign_in")
    assert portal_client.get(portal_reverse(organization, "portal:home")).status_code == 302


# --- forgotten password ------------------------------------------------------------------


def _request_reset(client, organization, portal_reverse, email):
    return client.post(portal_reverse(organization, "portal:password_reset"), {"email": email})


def _reset_path(email: OutboundEmail) -> str:
    url = email.secret_values["reset_url"]
    return re.sub(r"^https?://[^/]+", "", url)


def test_a_forgotten_password_is_reset_through_a_single_use_link(
    client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization
    portal_access.customer.portal_language = "de"
    portal_access.customer.save()

    # when the contact asks for a link
    response = _request_reset(client, organization, portal_reverse, portal_user.email.upper())

    # then a portal-branded e-mail in the customer's portal language holds it as a secret
    assert response["Location"] == portal_reverse(organization, "portal:password_reset_sent")
    email = OutboundEmail.objects.get(kind="portal.password_reset")
    assert (email.to_email, email.language) == (portal_user.email, "de")
    assert organization.name in email.subject
    assert email.secret_values["reset_url"] not in email.body_text

    # when they open it and choose a new password
    opened = client.get(_reset_path(email))
    assert opened.status_code == 302  # Django moves the token out of the URL first
    form_url = opened["Location"]
    assert "Choose a new password" in client.get(form_url).content.decode()
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    # then the new password works, and the link does not work a second time
    assert done.status_code == 302
    assert done["Location"] == portal_reverse(organization, "portal:sign_in")
    portal_user.refresh_from_db()
    assert portal_user.check_password(NEW_PASSWORD)
    again = client.get(_reset_path(email), follow=True)
    assert "This link no longer works" in again.content.decode()


def test_asking_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, portal_access, portal_reverse
):
    organization = portal_access.organization
    staff = MembershipFactory().user  # an account, but no access to this portal

    unknown = _request_reset(client, organization, portal_reverse, "nobody@nowhere.example")
    no_access = _request_reset(client, organization, portal_reverse, staff.email)

    sent = portal_reverse(organization, "portal:password_reset_sent")
    assert unknown["Location"] == no_access["Location"] == sent
    assert not OutboundEmail.objects.filter(kind="portal.password_reset").exists()


def test_a_reset_link_works_for_one_hour(clock, portal_user):
    token = portal_password_reset_tokens.make_token(portal_user)

    clock.advance(minutes=59, seconds=59)
    assert portal_password_reset_tokens.check_token(portal_user, token)
    clock.advance(seconds=2)
    assert not portal_password_reset_tokens.check_token(portal_user, token)


def test_an_expired_reset_link_shows_a_clear_page(
    client, clock, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization
    _request_reset(client, organization, portal_reverse, portal_user.email)
    email = OutboundEmail.objects.get(kind="portal.password_reset")

    clock.advance(hours=1, seconds=1)
    response = client.get(_reset_path(email), follow=True)

    assert "This link no longer works" in response.content.decode()
    portal_user.refresh_from_db()
    assert portal_user.check_password(TEST_PASSWORD)


def test_a_staff_reset_link_does_not_open_the_portal_reset(
    client, portal_access, portal_user, portal_reverse
):
    uid = urlsafe_base64_encode(force_bytes(portal_user.pk))
    staff_token = default_token_generator.make_token(portal_user)

    response = client.get(
        portal_reverse(
            portal_access.organization,
            "portal:password_reset_confirm",
            uidb64=uid,
            token=staff_token,
        ),
        follow=True,
    )

    assert "This link no longer works" in response.content.decode()


def test_a_reset_link_names_only_contacts_of_this_portal(client, portal_user, portal_reverse):
    other = PortalAccessFactory(active=True).organization
    uid = urlsafe_base64_encode(force_bytes(portal_user.pk))
    token = portal_password_reset_tokens.make_token(portal_user)

    response = client.get(
        portal_reverse(other, "portal:password_reset_confirm", uidb64=uid, token=token),
        follow=True,
    )

    assert "This link no longer works" in response.content.decode()


# --- change password --------------------------------------------------------------------


def test_changing_the_password_keeps_this_session(
    portal_client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization
    url = portal_reverse(organization, "portal:password_change")

    wrong = portal_client.post(
        url,
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    response = portal_client.post(
        url,
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert wrong.status_code == 200
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    assert response.status_code == 302
    portal_user.refresh_from_db()
    assert portal_user.check_password(NEW_PASSWORD)
    assert portal_client.get(portal_reverse(organization, "portal:home")).status_code == 200


def test_changing_the_password_ends_the_other_sessions(
    client, portal_access, portal_user, portal_reverse
):
    organization = portal_access.organization
    other_device = Client()
    other_device.force_login(portal_user)
    client.force_login(portal_user)

    client.post(
        portal_reverse(organization, "portal:password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    home = portal_reverse(organization, "portal:home")
    assert client.get(home).status_code == 200
    assert other_device.get(home).status_code == 302
