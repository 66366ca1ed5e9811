"""Self sign-up: /portal/<portal-name>/signup/ → verification e-mail → password
→ customer, primary contact, account and active access; staff are told."""

import re
import signal
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from portico.accounts.models import Role, User
from portico.accounts.tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)
from portico.customers.models import ContactPerson, Customer, CustomerType
from portico.mail.models import OutboundEmail
from portico.portal_access.models import AccessStatus, PortalAccess, SignupRequest
from portico.portal_access.services import portal_settings_get
from portico.portal_access.settings_services import portal_name_change
from portico.portal_access.signup import (
    SIGNUP_REQUESTS_PER_EMAIL,
    SignupData,
    signup_request_create,
)
from portico.portal_access.tests.factories import PortalAccessFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "tulip-harbour-lantern-42"
VERIFY_LINK = re.compile(re.escape(settings.SITE_URL) + r"(/portal/[\w-]+/signup/verify/[\w-]+/)")


@pytest.fixture
def organization(membership):
    """An organisation whose portal takes sign-ups; its owner is ``membership``."""
    organization = membership.organization
    organization.base_currency = "EUR"
    organization.save()
    portal_settings = portal_settings_get(organization=organization)
    portal_settings.allow_self_signup = True
    portal_settings.save()
    return organization


def _signup_url(organization, path: str = "") -> str:
    return f"/portal/{organization.portal_name}/signup/{path}"


def _form(**changes) -> dict:
    data = {
        "customer_type": "business",
        "company_name": "Blue Harbour Ltd",
        "first_name": "Nora",
        "last_name": "Lind",
        "email": "Nora@BlueHarbour.example",
        "phone": "+46 8 555 0100",
        "portal_language": "sv",
    }
    data.update(changes)
    return data


def _data(**changes) -> SignupData:
    values = _form(**changes)
    values["email"] = values["email"].lower()
    return SignupData(**values)


def _verify_path(email: OutboundEmail) -> str:
    """The private link of a verification e-mail, as its recipient reads it."""
    match = VERIFY_LINK.search(email.with_secrets(email.body_text))
    assert match, email.body_text
    return match.group(1)


def _sign_up(client, organization, **changes) -> str:
    """Send the sign-up form; the path of the link e-mailed to confirm it."""
    response = client.post(_signup_url(organization), _form(**changes))
    assert response.status_code == 302, response.content.decode()
    return _verify_path(OutboundEmail.objects.filter(kind="portal_access.signup_verify").last())


def _nothing_created() -> bool:
    return not (Customer.objects.exists() or PortalAccess.objects.exists())


# --- closed -----------------------------------------------------------------------


def test_with_sign_up_off_the_page_says_it_is_closed(client, membership):
    # given: a fresh organisation (sign-up is off by default)
    organization = membership.organization

    # when
    page = client.get(_signup_url(organization))
    posted = client.post(_signup_url(organization), _form())

    # then
    assert page.status_code == posted.status_code == 403
    assert "Sign-up is closed" in page.content.decode()
    assert not SignupRequest.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_turning_sign_up_off_closes_links_already_sent(client, organization):
    # given
    path = _sign_up(client, organization)
    portal_settings = portal_settings_get(organization=organization)
    portal_settings.allow_self_signup = False
    portal_settings.save()

    # when
    page = client.get(path)
    posted = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    # then
    assert page.status_code == posted.status_code == 403
    assert _nothing_created()


# --- the form -----------------------------------------------------------------------


def test_the_form_asks_for_company_or_individual_names_and_the_language(client, organization):
    response = client.get(_signup_url(organization))

    page = response.content.decode()
    assert response.status_code == 200
    for label in ["Company", "Individual", "Company name", "First name", "Last name"]:
        assert label in page
    assert "E-mail" in page and "Portal language" in page


def test_signing_up_sends_a_verification_link_and_creates_nothing_yet(client, organization):
    # when
    response = client.post(_signup_url(organization), _form(), follow=True)

    # then: a page says to check the inbox
    assert "Check your e-mail" in response.content.decode()
    assert "nora@blueharbour.example" in response.content.decode()
    # and only the request and its e-mail exist
    assert _nothing_created()
    signup_request = SignupRequest.objects.get()
    assert signup_request.email == "nora@blueharbour.example"
    assert signup_request.expires_at - timezone.now() > timedelta(hours=23, minutes=59)
    email = OutboundEmail.objects.get(kind="portal_access.signup_verify")
    assert email.to_email == "nora@blueharbour.example"
    assert email.language == "sv"
    # the stored e-mail and request hold no working token
    path = _verify_path(email)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert token not in email.body_text and token not in email.body_html
    assert signup_request.token_hash != token and len(token) >= 32


def test_a_company_needs_its_name(client, organization):
    response = client.post(_signup_url(organization), _form(company_name=""))

    assert response.status_code == 422
    assert "company_name" in response.context["form"].errors
    assert not SignupRequest.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [("email", "not-an-address"), ("portal_language", "tlh"), ("customer_type", "government")],
)
def test_bad_or_tampered_fields_are_form_errors(client, organization, field, value):
    response = client.post(_signup_url(organization), _form(**{field: value}))

    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not SignupRequest.objects.exists()


def test_an_address_that_can_already_sign_in_is_told_to_sign_in(client, organization):
    # given: a contact of some customer has an active access with this e-mail
    PortalAccessFactory(
        active=True,
        contact__customer__organization=organization,
        contact__email="nora@blueharbour.example",
    )

    # when
    response = client.post(_signup_url(organization), _form())

    # then: the form says so, naming nothing else
    assert response.status_code == 422
    error = response.context["form"].errors["email"][0]
    assert "can already sign in to this portal. Sign in instead" in error
    assert not SignupRequest.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_the_same_address_may_sign_up_on_another_organisations_portal(client, organization):
    # given: active access to ANOTHER organisation's portal
    PortalAccessFactory(active=True, contact__email="nora@blueharbour.example")

    # when
    response = client.post(_signup_url(organization), _form())

    # then
    assert response.status_code == 302


def test_a_disabled_contact_cannot_sign_up_again(client, organization):
    PortalAccessFactory(
        disabled=True,
        contact__customer__organization=organization,
        contact__email="nora@blueharbour.example",
    )

    response = client.post(_signup_url(organization), _form())

    assert response.status_code == 422
    assert "cannot sign up for this portal" in response.context["form"].errors["email"][0]


def test_sign_up_requests_are_throttled_per_address(client, organization):
    # given: the allowed number of requests for one e-mail
    for _attempt in range(SIGNUP_REQUESTS_PER_EMAIL):
        assert client.post(_signup_url(organization), _form()).status_code == 302

    # when
    response = client.post(_signup_url(organization), _form())

    # then
    assert response.status_code == 429
    assert "Too many sign-up requests" in response.content.decode()
    assert SignupRequest.objects.count() == SIGNUP_REQUESTS_PER_EMAIL


def test_sign_up_requests_are_throttled_per_client(client, organization):
    for number in range(10):
        client.post(_signup_url(organization), _form(email=f"person{number}@example.com"))

    response = client.post(_signup_url(organization), _form(email="one-more@example.com"))

    assert response.status_code == 429
    assert SignupRequest.objects.count() == 10


# --- verifying ----------------------------------------------------------------------


def test_the_link_creates_the_customer_contact_account_and_access(client, organization):
    # given
    path = _sign_up(client, organization)

    # when: the link asks for a password, which is then chosen
    page = client.get(path)
    response = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    # then: signed in at portal home
    assert "Choose a password" in page.content.decode()
    assert response.status_code == 302
    assert response.url == f"/portal/{organization.portal_name}/"
    home = client.get(response.url)
    assert home.status_code == 200
    assert "Välkommen, Nora" in home.content.decode()  # in the language chosen (sv)
    # a customer in the organisation's base currency and the chosen language
    customer = Customer.objects.get(organization=organization)
    assert customer.display_name == "Blue Harbour Ltd"
    assert customer.company_name == "Blue Harbour Ltd"
    assert customer.customer_type == CustomerType.BUSINESS
    assert customer.currency == "EUR"
    assert customer.portal_language == "sv"
    assert customer.email == "nora@blueharbour.example"
    assert "nora lind" in customer.search_text
    # its primary contact, with an active access and a new account
    contact = ContactPerson.objects.get(customer=customer)
    assert contact.is_primary
    assert (contact.first_name, contact.last_name) == ("Nora", "Lind")
    access = PortalAccess.objects.get(contact=contact)
    assert access.status == AccessStatus.ACTIVE
    assert access.accepted_at is not None
    assert access.user.email == "nora@blueharbour.example"
    assert access.user.check_password(NEW_PASSWORD)
    assert access.user.full_name == "Nora Lind"
    assert access.user.language == "sv"
    assert SignupRequest.objects.get().completed_at is not None


def test_an_individual_is_named_after_the_person(client, organization):
    path = _sign_up(client, organization, customer_type="individual", company_name="Ignored Ltd")

    client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    customer = Customer.objects.get()
    assert customer.customer_type == CustomerType.INDIVIDUAL
    assert customer.display_name == "Nora Lind"
    assert customer.company_name == ""


def test_a_weak_or_mismatched_password_creates_nothing(client, organization):
    path = _sign_up(client, organization)

    weak = client.post(path, {"password": "12345678901", "password_confirm": "12345678901"})
    mismatched = client.post(path, {"password": NEW_PASSWORD, "password_confirm": "other"})

    assert weak.status_code == mismatched.status_code == 422
    assert "password" in weak.context["form"].errors
    assert "password_confirm" in mismatched.context["form"].errors
    assert _nothing_created()
    assert not User.objects.filter(email="nora@blueharbour.example").exists()


def test_a_replayed_link_gets_a_clear_page_and_changes_nothing(client, organization):
    # given: the sign-up is finished, and the person signs out
    path = _sign_up(client, organization)
    client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    client.logout()

    # when: the link is opened and posted again
    page = client.get(path)
    posted = client.post(path, {"password": "another-pass-phrase-9", "password_confirm": "x"})

    # then
    assert page.status_code == posted.status_code == 410
    assert "already been used" in page.content.decode()
    assert Customer.objects.count() == 1
    assert PortalAccess.objects.get().user.check_password(NEW_PASSWORD)


def test_an_expired_link_gets_a_clear_page_and_creates_nothing(client, organization, clock):
    # given: a link, and the clock moved past its 24 hours
    path = _sign_up(client, organization)
    clock.advance(hours=24, seconds=1)

    # when
    page = client.get(path)
    posted = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    # then
    assert page.status_code == posted.status_code == 410
    assert "This sign-up link has expired" in page.content.decode()
    assert _nothing_created()


def test_a_link_still_works_just_before_it_expires(client, organization, clock):
    path = _sign_up(client, organization)
    clock.advance(hours=23, minutes=59)

    response = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert Customer.objects.count() == 1


def test_a_forged_link_gets_a_clear_page(client, organization):
    response = client.get(_signup_url(organization, "verify/forged-token-that-was-never-sent/"))

    assert response.status_code == 410
    assert "This sign-up link is not valid." in response.content.decode()


def test_a_link_works_only_on_its_own_organisations_portal(client, organization):
    # given: another organisation that also takes sign-ups
    path = _sign_up(client, organization)
    other = MembershipFactory().organization
    other_settings = portal_settings_get(organization=other)
    other_settings.allow_self_signup = True
    other_settings.save()
    token = path.rstrip("/").rsplit("/", 1)[-1]

    # when
    response = client.post(
        _signup_url(other, f"verify/{token}/"),
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    # then
    assert response.status_code == 410
    assert _nothing_created()


def test_finishing_one_link_uses_up_every_other_link_of_the_address(client, organization):
    # given: the person signed up twice, so got two links
    first = _sign_up(client, organization)
    second = _sign_up(client, organization)

    # when
    client.post(second, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    client.logout()

    # then: the first link creates no second customer
    response = client.post(first, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert Customer.objects.count() == 1


def test_an_earlier_portal_name_redirects_the_sign_up_link(client, organization, membership):
    # given: a link sent before the portal was renamed
    path = _sign_up(client, organization)
    old_name = organization.portal_name
    portal_name_change(membership=membership, new_name="blue-portal")

    # when
    response = client.get(path)

    # then
    assert response.status_code == 301
    assert response.url == path.replace(f"/portal/{old_name}/", "/portal/blue-portal/")
    assert client.get(response.url).status_code == 200


def test_with_two_factor_required_the_new_user_sets_it_up_first(client, organization):
    # given
    portal_settings = portal_settings_get(organization=organization)
    portal_settings.require_two_factor = True
    portal_settings.save()
    path = _sign_up(client, organization)

    # when
    response = client.post(
        path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, follow=True
    )

    # then: portal home sends them to the two-factor set-up
    assert response.redirect_chain[-1][0].startswith(
        f"/portal/{organization.portal_name}/account/two-factor/setup/"
    )
    assert PortalAccess.objects.get().status == AccessStatus.ACTIVE


# --- an existing account ---------------------------------------------------------------


def test_an_existing_account_is_linked_once_its_password_is_given(client, organization):
    # given: the person already has a Portico account (say, staff elsewhere)
    existing = UserFactory(email="nora@blueharbour.example")
    path = _sign_up(client, organization)

    # when: the link asks for that account's password; a wrong one first
    page = client.get(path)
    wrong = client.post(path, {"password": "not-the-password"})
    right = client.post(path, {"password": TEST_PASSWORD})

    # then
    assert "You already have a Portico account" in page.content.decode()
    assert wrong.status_code == 422
    assert "enter its password" in wrong.content.decode()
    assert right.status_code == 302
    access = PortalAccess.objects.get()
    assert access.user == existing
    assert User.objects.filter(email__iexact="nora@blueharbour.example").count() == 1
    existing.refresh_from_db()
    assert existing.check_password(TEST_PASSWORD)  # unchanged


def test_wrong_passwords_for_an_existing_account_are_throttled(client, organization):
    UserFactory(email="nora@blueharbour.example")
    path = _sign_up(client, organization)
    for _attempt in range(settings.LOGIN_FAILURES_BEFORE_DELAY):
        client.post(path, {"password": "guess"})

    # when: even the right password must wait now
    response = client.post(path, {"password": TEST_PASSWORD})

    # then
    assert response.status_code == 429
    assert _nothing_created()


def test_the_signed_in_person_finishes_with_one_press(client, organization):
    # given: signed in already with the e-mail that signed up
    existing = UserFactory(email="nora@blueharbour.example")
    path = _sign_up(client, organization)
    client.force_login(existing)

    # when
    page = client.get(path)
    response = client.post(path)

    # then
    assert "Finish signing up" in page.content.decode()
    assert response.status_code == 302
    assert PortalAccess.objects.get().user == existing


# --- staff are told ------------------------------------------------------------------


def test_the_members_are_e_mailed_about_the_new_customer(client, organization, membership):
    # given: an admin who reads German and a staff-role colleague
    admin = MembershipFactory(organization=organization, role=Role.ADMIN, user__language="de")
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    path = _sign_up(client, organization)

    # when
    client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    # then: every member, by default (their notification preferences)
    notices = OutboundEmail.objects.filter(kind="activity.notification")
    assert sorted(notice.to_email for notice in notices) == sorted(
        [membership.user.email, admin.user.email, staff.user.email]
    )
    customer = Customer.objects.get()
    owner_notice = notices.get(to_email=membership.user.email)
    assert owner_notice.subject == "Nora Lind signed up for the portal as Blue Harbour Ltd"
    assert "Nora Lind signed up for the portal as Blue Harbour Ltd" in owner_notice.body_text
    assert f"{settings.SITE_URL}/app/customers/{customer.pk}/" in owner_notice.body_text
    assert notices.get(to_email=admin.user.email).language == "de"


def test_no_staff_e_mail_when_e_mail_notifications_are_off(client, organization):
    portal_settings = portal_settings_get(organization=organization)
    portal_settings.notify_by_email = False
    portal_settings.save()
    path = _sign_up(client, organization)

    client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert Customer.objects.exists()
    assert not OutboundEmail.objects.filter(kind="activity.notification").exists()


def test_a_name_with_an_ampersand_reads_plainly_in_the_e_mails(client, organization):
    path = _sign_up(client, organization, company_name="Lind & Sons")

    client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    notice = OutboundEmail.objects.get(kind="activity.notification")
    assert notice.subject == "Nora Lind signed up for the portal as Lind & Sons"
    assert "Lind & Sons" in notice.body_text
    assert "Lind &amp; Sons" in notice.body_html


# --- through the real worker and SMTP ---------------------------------------------------


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
def test_the_verification_e_mail_arrives_with_a_working_link(client, smtp_server):  # noqa: F811
    # given
    membership = MembershipFactory()
    portal_settings = portal_settings_get(organization=membership.organization)
    portal_settings.allow_self_signup = True
    portal_settings.save()
    signup_request_create(organization=membership.organization, data=_data())

    # when: the worker delivers the outbox
    _run_worker()

    # then: the message carries the link; the link finishes the sign-up
    [message] = smtp_server.received
    assert message.rcpt_tos == ("nora@blueharbour.example",)
    text = message.body("text/plain")
    assert VERIFY_LINK.search(message.body("text/html"))
    path = VERIFY_LINK.search(text).group(1)
    response = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert PortalAccess.objects.get().status == AccessStatus.ACTIVE
