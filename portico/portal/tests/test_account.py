"""My details (view and edit, contact persons, staff told of changes), Security
(sign out of all sessions) and the contact's own language."""

import pytest
from django.test import Client

from portico.accounts.tests.factories import MembershipFactory
from portico.customers.models import ContactPerson
from portico.customers.tests.factories import ContactPersonFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_settings(portal_access):
    return PortalSettingsFactory(organization=portal_access.organization)


@pytest.fixture
def url(portal_access, portal_reverse, portal_settings):
    def build(name, **kwargs):
        return portal_reverse(portal_access.organization, name, **kwargs)

    return build


@pytest.fixture
def owner(portal_access):
    return MembershipFactory(
        organization=portal_access.organization, role="owner", user__email="owner@shop.example"
    )


def _details_data(customer, **changes) -> dict:
    from portico.portal.account_services import DETAIL_FIELDS

    data = {name: getattr(customer, name) for name in DETAIL_FIELDS}
    data.update(changes)
    return data


# --- My details ---------------------------------------------------------------------------


def test_my_details_shows_the_customer_its_addresses_and_contact_persons(
    portal_client, portal_access, url
):
    customer = portal_access.customer
    customer.billing_street = "12 Canal Street"
    customer.billing_city = "Leeds"
    customer.shipping_street = "Dock 4"
    customer.save()
    colleague = ContactPersonFactory(customer=customer, organization=customer.organization)

    page = portal_client.get(url("portal:details")).content.decode()

    assert customer.display_name in page and customer.company_name in page
    assert customer.phone in page and customer.email in page
    assert "12 Canal Street" in page and "Leeds" in page and "Dock 4" in page
    assert portal_access.contact.full_name in page and colleague.full_name in page
    assert "Edit details" in page


def test_editing_the_details_saves_them_and_emails_staff_old_and_new(
    portal_client, portal_access, url, owner
):
    customer = portal_access.customer
    customer.billing_city = "Leeds"
    customer.save()
    old_phone = customer.phone

    response = portal_client.post(
        url("portal:details_edit"),
        _details_data(customer, phone="+44 113 496 0000", billing_city="York"),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "+44 113 496 0000"
    assert customer.billing_city == "York"
    assert "+44 113 496 0000" in customer.search_text
    email = OutboundEmail.objects.get(kind="activity.notification")
    assert email.to_email == "owner@shop.example"
    assert f"Phone: {old_phone} → +44 113 496 0000" in email.body_text
    assert "Billing address: city: Leeds → York" in email.body_text
    assert portal_access.contact.full_name in email.body_text
    assert "shipping" not in email.body_text.lower()


def test_saving_unchanged_details_sends_nothing(portal_client, portal_access, url, owner):
    response = portal_client.post(url("portal:details_edit"), _details_data(portal_access.customer))

    assert response.status_code == 302
    assert not OutboundEmail.objects.exists()


def test_no_email_when_the_organisation_turned_portal_notifications_off(
    portal_client, portal_access, url, owner, portal_settings
):
    portal_settings.notify_by_email = False
    portal_settings.save()

    portal_client.post(
        url("portal:details_edit"), _details_data(portal_access.customer, phone="+1 555 0100")
    )

    portal_access.customer.refresh_from_db()
    assert portal_access.customer.phone == "+1 555 0100"
    assert not OutboundEmail.objects.exists()


def test_oversize_input_is_refused_with_a_clear_message(portal_client, portal_access, url):
    response = portal_client.post(
        url("portal:details_edit"), _details_data(portal_access.customer, billing_city="x" * 5000)
    )

    assert response.status_code == 422
    assert "Ensure this value has at most 100 characters (it has 5000)." in (
        response.content.decode()
    )
    portal_access.customer.refresh_from_db()
    assert portal_access.customer.billing_city == ""


def test_the_name_cannot_be_emptied(portal_client, portal_access, url):
    response = portal_client.post(
        url("portal:details_edit"), _details_data(portal_access.customer, display_name="  ")
    )

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_with_editing_off_my_details_is_read_only_and_edit_pages_are_404(
    portal_client, portal_access, url, portal_settings
):
    portal_settings.allow_customers_edit_details = False
    portal_settings.save()
    contact = portal_access.contact

    page = portal_client.get(url("portal:details")).content.decode()

    assert "Edit details" not in page
    assert "please contact" in page
    assert portal_client.get(url("portal:details_edit")).status_code == 404
    assert (
        portal_client.post(
            url("portal:details_edit"), _details_data(portal_access.customer, phone="1")
        ).status_code
        == 404
    )
    assert portal_client.get(url("portal:contact_create")).status_code == 404
    assert portal_client.get(url("portal:contact_edit", pk=contact.pk)).status_code == 404


# --- contact persons ---------------------------------------------------------------------


def test_adding_a_contact_person_saves_it_and_tells_staff(portal_client, portal_access, url, owner):
    response = portal_client.post(
        url("portal:contact_create"),
        {"first_name": "Grace", "last_name": "Hopper", "email": "Grace@Customer.Example"},
    )

    assert response.status_code == 302
    added = ContactPerson.objects.get(customer=portal_access.customer, first_name="Grace")
    assert added.email == "grace@customer.example"
    assert not added.is_primary
    email = OutboundEmail.objects.get(kind="activity.notification")
    assert "updated the details of" in email.body_text
    assert "Grace Hopper: First name: — → Grace" in email.body_text
    portal_access.customer.refresh_from_db()
    assert "grace hopper" in portal_access.customer.search_text


def test_editing_a_contact_person_emails_old_and_new(portal_client, portal_access, url, owner):
    colleague = ContactPersonFactory(
        customer=portal_access.customer,
        organization=portal_access.organization,
        first_name="Alan",
        phone="111",
    )

    response = portal_client.post(
        url("portal:contact_edit", pk=colleague.pk),
        {
            "first_name": "Alan",
            "last_name": colleague.last_name,
            "email": colleague.email,
            "phone": "222",
        },
    )

    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.phone == "222"
    email = OutboundEmail.objects.get(kind="activity.notification")
    assert f"Alan {colleague.last_name}: Phone: 111 → 222" in email.body_text


def test_a_duplicate_email_is_refused_as_on_the_staff_side(portal_client, portal_access, url):
    response = portal_client.post(
        url("portal:contact_create"),
        {"first_name": "Copy", "email": portal_access.contact.email.upper()},
    )

    assert response.status_code == 422
    assert "Another contact person of this customer has this e-mail." in response.content.decode()
    assert not ContactPerson.objects.filter(first_name="Copy").exists()


def test_the_email_of_a_person_with_portal_access_cannot_be_changed_here(
    portal_client, portal_access, url
):
    # given a colleague who signs in to the portal too
    colleague = PortalAccessFactory(
        active=True,
        contact__customer=portal_access.customer,
        contact__organization=portal_access.organization,
    ).contact
    old_email = colleague.email

    form = portal_client.get(url("portal:contact_edit", pk=colleague.pk)).content.decode()
    response = portal_client.post(
        url("portal:contact_edit", pk=colleague.pk),
        {"first_name": colleague.first_name, "email": "attacker@evil.example"},
    )

    assert "it cannot be changed here" in form
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.email == old_email


def test_another_customers_contact_person_is_not_found(portal_client, portal_access, url):
    stranger = ContactPersonFactory(customer__organization=portal_access.organization)

    response = portal_client.post(
        url("portal:contact_edit", pk=stranger.pk), {"first_name": "Hijacked"}
    )

    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.first_name != "Hijacked"


def test_the_primary_contact_stays_primary_after_edits(portal_client, portal_access, url):
    primary = portal_access.contact
    primary.is_primary = True
    primary.save()

    portal_client.post(url("portal:contact_create"), {"first_name": "Second"})
    portal_client.post(
        url("portal:contact_edit", pk=primary.pk),
        {"first_name": "Renamed", "email": primary.email},
    )

    primary.refresh_from_db()
    assert primary.is_primary and primary.first_name == "Renamed"
    assert ContactPerson.objects.filter(customer=portal_access.customer).count() == 2


# --- security -------------------------------------------------------------------------------


def test_security_links_password_and_two_factor_and_offers_sign_out_everywhere(portal_client, url):
    page = portal_client.get(url("portal:security")).content.decode()

    assert url("portal:password_change") in page
    assert url("portal:two_factor") in page
    assert url("portal:sign_out_everywhere") in page


def test_sign_out_everywhere_ends_every_session_of_the_person(
    portal_client, portal_user, portal_access, url
):
    # given the same person signed in on a second device
    other_device = Client()
    other_device.force_login(portal_user)
    assert other_device.get(url("portal:home")).status_code == 200

    # when they sign out of all sessions here
    response = portal_client.post(url("portal:sign_out_everywhere"), follow=True)

    # then this session ends with the sign-in page and a message …
    assert response.redirect_chain[-1][0] == url("portal:sign_in")
    assert "You are signed out on all your devices" in response.content.decode()
    assert portal_client.get(url("portal:home")).status_code == 302
    # … and the other device is signed out at its next request
    elsewhere = other_device.get(url("portal:home"))
    assert elsewhere.status_code == 302
    assert elsewhere["Location"].startswith(url("portal:sign_in"))
    # and signing in again works
    portal_user.refresh_from_db()
    fresh = Client()
    fresh.force_login(portal_user)
    assert fresh.get(url("portal:home")).status_code == 200


def test_sign_out_everywhere_only_accepts_posts(portal_client, url):
    assert portal_client.get(url("portal:sign_out_everywhere")).status_code == 405


# --- language ---------------------------------------------------------------------------------


def test_switching_the_language_changes_the_portal_for_this_contact(
    portal_client, portal_access, url
):
    details = url("portal:details")

    response = portal_client.post(url("portal:language_set"), {"language": "de", "next": details})

    assert response.status_code == 302 and response["Location"] == details
    portal_access.refresh_from_db()
    assert portal_access.language == "de"
    page = portal_client.get(details).content.decode()
    assert '<html lang="de"' in page
    # a label from Django's German catalogue
    error_page = portal_client.post(
        url("portal:details_edit"), _details_data(portal_access.customer, display_name="")
    ).content.decode()
    assert "Dieses Feld ist zwingend erforderlich." in error_page


def test_choosing_the_default_language_follows_the_customer_again(
    portal_client, portal_access, url
):
    portal_access.language = "fr"
    portal_access.save()
    portal_access.customer.portal_language = "nl"
    portal_access.customer.save()

    portal_client.post(url("portal:language_set"), {"language": ""})

    portal_access.refresh_from_db()
    assert portal_access.language == ""
    assert '<html lang="nl"' in portal_client.get(url("portal:home")).content.decode()


def test_the_language_switcher_refuses_unknown_languages_and_foreign_redirects(
    portal_client, portal_access, url
):
    response = portal_client.post(
        url("portal:language_set"), {"language": "xx", "next": "https://evil.example/"}
    )

    assert response["Location"] == url("portal:home")
    portal_access.refresh_from_db()
    assert portal_access.language == ""


def test_the_footer_shows_the_language_switcher_with_native_names(portal_client, url):
    page = portal_client.get(url("portal:home")).content.decode()

    assert url("portal:language_set") in page
    assert "Deutsch" in page and "Français" in page and "日本語" in page
