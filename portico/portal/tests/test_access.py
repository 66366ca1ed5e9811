"""The portal's request layer: portal names, who may enter, disabling mid-session."""

import pytest
from django.urls import reverse

from portico.accounts.tests.factories import MembershipFactory
from portico.portal_access.models import PortalNameHistory
from portico.portal_access.services import portal_access_disable
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory

pytestmark = pytest.mark.django_db


def test_an_earlier_portal_name_redirects_permanently_to_the_same_page(client, portal_organization):
    # given an organisation that was called "old-shop" before
    PortalNameHistory.objects.create(organization=portal_organization, portal_name="old-shop")

    # when an old link (an invitation, say) is opened
    response = client.get("/portal/old-shop/accept/some-token/?from=mail")

    # then it goes to the same page under the current name
    assert response.status_code == 301
    assert response["Location"] == (
        f"/portal/{portal_organization.portal_name}/accept/some-token/?from=mail"
    )


def test_an_earlier_portal_name_keeps_a_posted_form_with_308(client, portal_organization):
    PortalNameHistory.objects.create(organization=portal_organization, portal_name="old-shop")

    response = client.post("/portal/old-shop/sign-in/", {"email": "a@b.example"})

    assert response.status_code == 308
    assert response["Location"] == f"/portal/{portal_organization.portal_name}/sign-in/"


def test_an_unknown_portal_name_is_not_found(client):
    assert client.get("/portal/nobody-has-this/").status_code == 404
    assert client.get("/portal/nobody-has-this/sign-in/").status_code == 404


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_portal_sign_in(
    client, portal_organization, portal_reverse
):
    home = portal_reverse(portal_organization, "portal:home")

    response = client.get(home)

    assert response.status_code == 302
    assert response["Location"] == (
        portal_reverse(portal_organization, "portal:sign_in") + f"?next={home}"
    )


def test_a_contact_of_one_organisation_cannot_open_another_organisations_portal(
    portal_client, portal_reverse
):
    # given a contact signed in to organisation A's portal, and organisation B
    other = PortalAccessFactory(active=True).organization

    # when they open B's portal
    response = portal_client.get(portal_reverse(other, "portal:home"))

    # then B's portal asks them to sign in
    assert response.status_code == 302
    assert response["Location"].startswith(portal_reverse(other, "portal:sign_in"))


def test_a_staff_member_without_access_is_sent_to_the_portal_sign_in(
    staff_client, organization, portal_reverse
):
    # given a signed-in staff member, of this very organisation

    # when they open the organisation's portal
    response = staff_client.get(portal_reverse(organization, "portal:home"))

    # then the portal wants a contact's account
    assert response.status_code == 302
    assert response["Location"].startswith(portal_reverse(organization, "portal:sign_in"))
    sign_in = staff_client.get(response["Location"])
    assert "which has no access to this portal" in sign_in.content.decode()


def test_staff_in_one_organisation_and_contact_in_another_uses_both(client, portal_reverse):
    # given one person: staff of organisation A, contact of a customer of B
    access = PortalAccessFactory(active=True)
    MembershipFactory(user=access.user)
    client.force_login(access.user)

    # when they open B's portal and A's back office in one session
    portal = client.get(portal_reverse(access.organization, "portal:home"))
    staff = client.get(reverse("customers:list"))

    # then both work
    assert portal.status_code == 200
    assert staff.status_code == 200


def test_disabling_an_access_mid_session_shows_the_disabled_page_at_the_next_request(
    portal_client, portal_access, portal_reverse
):
    home = portal_reverse(portal_access.organization, "portal:home")
    assert portal_client.get(home).status_code == 200

    # when staff end the contact's access
    portal_access_disable(access=portal_access)

    # then the open session stops working at once
    response = portal_client.get(home)
    assert response.status_code == 403
    assert "Access disabled" in response.content.decode()
    assert (
        portal_client.get(
            portal_reverse(portal_access.organization, "portal:password_change")
        ).status_code
        == 403
    )


def test_a_reinvited_access_waits_for_the_new_invitation(
    portal_client, portal_access, portal_reverse
):
    # given an access disabled, then invited again (not accepted yet)
    portal_access.status = "invited"
    portal_access.save()

    response = portal_client.get(portal_reverse(portal_access.organization, "portal:home"))

    assert response.status_code == 403


def test_home_greets_the_contact_with_the_customer_and_the_banner(
    portal_client, portal_access, portal_reverse
):
    PortalSettingsFactory(
        organization=portal_access.organization, banner_message="Closed on Friday 24th."
    )

    response = portal_client.get(portal_reverse(portal_access.organization, "portal:home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Welcome, {portal_access.contact.first_name}" in page
    assert portal_access.customer.display_name in page
    assert portal_access.organization.name in page
    assert "Closed on Friday 24th." in page
    assert "My details" in page and "Security" in page


def test_entering_the_portal_records_the_sign_in_once_per_session(
    portal_client, portal_access, portal_reverse
):
    home = portal_reverse(portal_access.organization, "portal:home")

    portal_client.get(home)
    portal_access.refresh_from_db()
    first = portal_access.last_login_at
    portal_client.get(home)
    portal_access.refresh_from_db()

    assert first is not None
    assert portal_access.last_login_at == first


def test_a_portal_page_checks_access_in_a_fixed_number_of_queries(
    portal_client, portal_access, portal_reverse, django_assert_num_queries
):
    # given a session that has already entered the portal
    PortalSettingsFactory(organization=portal_access.organization)
    portal_client.get(portal_reverse(portal_access.organization, "portal:home"))
    # a page that reads nothing of its own (the home page has its own count, test_home.py)
    page = portal_reverse(portal_access.organization, "portal:password_change")

    # then a page costs: session, user, organisation by name, the access
    # (with contact, customer, settings and device) — nothing more
    with django_assert_num_queries(4):
        response = portal_client.get(page)
    assert response.status_code == 200
