"""Staff inviting: Configure portal access, Reinvite, the customer form's
checkbox and the portal status on the customer overview (views)."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from portico.customers.models import ContactPerson, Customer
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.customers.tests.test_views import DETAIL_QUERIES, customer_form_data
from portico.mail.models import OutboundEmail
from portico.portal_access.models import AccessStatus, PortalAccess, PortalInvitation
from portico.portal_access.tests.factories import PortalAccessFactory, PortalInvitationFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "portal-access-dialog"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def access_url(customer) -> str:
    return reverse("portal_access:customer_access", args=[customer.pk])


def reinvite_url(contact) -> str:
    return reverse("portal_access:contact_reinvite", args=[contact.customer_id, contact.pk])


def detail_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def status_of(contact) -> str:
    access = PortalAccess.objects.filter(contact=contact).first()
    return access.display_status if access else "not_invited"


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Northwind Traders")


@pytest.fixture
def anna(customer):
    """Never invited."""
    return ContactPersonFactory(
        customer=customer, first_name="Anna", last_name="Berg", email="anna@nw.example"
    )


@pytest.fixture
def ben(customer):
    """Invited, with a pending link."""
    contact = ContactPersonFactory(
        customer=customer, first_name="Ben", last_name="Cole", email="ben@nw.example"
    )
    PortalInvitationFactory(access=PortalAccessFactory(contact=contact), token="ben-token")
    return contact


@pytest.fixture
def eve(customer):
    """No e-mail address."""
    return ContactPersonFactory(customer=customer, first_name="Eve", last_name="Dunn", email="")


# --- Configure portal access: the dialog ----------------------------------------


def test_the_overview_offers_configure_portal_access_in_more(staff_client, customer):
    # when
    response = staff_client.get(detail_url(customer))

    # then: a link (a plain page without JavaScript) that htmx loads into the dialog
    link = re.search(
        r'<a class="dropdown-item"[^>]*>[^<]*<i[^>]*></i> Configure portal access', response.text
    )
    assert link
    assert f'href="{access_url(customer)}"' in link.group(0)
    assert f'hx-get="{access_url(customer)}"' in link.group(0)
    assert 'id="portal-access-dialog"' in response.text


def test_the_dialog_lists_every_contact_with_checkbox_status_and_email(
    staff_client, anna, ben, eve
):
    # when
    response = staff_client.get(access_url(anna.customer), headers=HTMX)

    # then: only the dialog's content
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Configure portal access" in response.text
    assert "anna@nw.example" in response.text and "ben@nw.example" in response.text
    boxes = {
        int(match[1]): match[0]
        for match in re.findall(r'(<input [^>]*name="contacts" value="(\d+)"[^>]*>)', response.text)
    }
    assert "checked" not in boxes[anna.pk]
    assert "checked" in boxes[ben.pk]
    # no e-mail: shown disabled, with the reason
    assert "disabled" in boxes[eve.pk]
    assert "No e-mail address" in response.text
    rows = {row.contact.first_name: row.label for row in response.context["rows"]}
    assert rows == {"Anna": "Not invited", "Ben": "Invited", "Eve": "Not invited"}


def test_the_dialog_is_also_a_plain_page(staff_client, anna):
    # when: without JavaScript the link opens the page
    response = staff_client.get(access_url(anna.customer))

    # then
    assert response.status_code == 200
    assert "<html" in response.text
    assert "<h1>Configure portal access</h1>" in response.text
    assert "hx-post" not in response.text


def test_saving_the_dialog_invites_the_ticked_and_disables_the_unticked(
    staff_client, anna, ben, eve
):
    # when: Anna ticked, Ben unticked
    response = staff_client.post(access_url(anna.customer), {"contacts": [anna.pk]}, headers=HTMX)

    # then: the page reloads with the result message
    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(anna.customer)
    assert messages_of(response) == [
        "Portal access saved: 1 invitation sent. Access disabled for 1 contact person."
    ]
    assert (status_of(anna), status_of(ben), status_of(eve)) == (
        "invited",
        "disabled",
        "not_invited",
    )
    assert list(OutboundEmail.objects.values_list("to_email", flat=True)) == ["anna@nw.example"]


def test_saving_the_plain_page_redirects_to_the_overview(staff_client, anna, ben):
    # when
    response = staff_client.post(access_url(anna.customer), {"contacts": [anna.pk, ben.pk]})

    # then
    assert response.status_code == 302
    assert response.url == detail_url(anna.customer)
    assert messages_of(response) == ["Portal access saved: 1 invitation sent."]


def test_unticking_everyone_disables_everyone(staff_client, ben):
    # when: no box ticked, so no "contacts" in the post
    response = staff_client.post(access_url(ben.customer), {})

    # then
    assert messages_of(response) == ["Portal access saved: Access disabled for 1 contact person."]
    assert status_of(ben) == "disabled"


def test_saving_without_changes_says_so(staff_client, anna, ben):
    # when
    response = staff_client.post(access_url(ben.customer), {"contacts": [ben.pk]})

    # then
    assert messages_of(response) == ["Portal access saved: nothing changed."]
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "dialog"])
def test_a_contact_without_an_email_cannot_be_ticked(staff_client, anna, ben, eve, headers):
    # when: a tampered form ticks Eve
    response = staff_client.post(
        access_url(anna.customer), {"contacts": [anna.pk, eve.pk]}, headers=headers
    )

    # then: the form says why and nothing changed
    assert response.status_code == (200 if headers else 422)
    assert "Eve Dunn cannot be invited: no e-mail address." in response.text
    assert (status_of(anna), status_of(ben), status_of(eve)) == (
        "not_invited",
        "invited",
        "not_invited",
    )
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize("owner", ["another customer", "another organisation"])
def test_a_contact_of_another_customer_is_refused_and_nothing_changes(
    staff_client, organization, anna, ben, owner
):
    # given
    other = CustomerFactory(organization=organization) if owner == "another customer" else None
    foreign = ContactPersonFactory(customer=other) if other else ContactPersonFactory()

    # when
    response = staff_client.post(access_url(anna.customer), {"contacts": [anna.pk, foreign.pk]})

    # then
    assert response.status_code == 422
    assert "A contact person in this form does not belong to this customer." in response.text
    assert (status_of(anna), status_of(ben), status_of(foreign)) == (
        "not_invited",
        "invited",
        "not_invited",
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organisations_customer_is_not_found(staff_client, method):
    # given
    theirs = PortalAccessFactory(contact__email="theirs@example.com")

    # when
    response = getattr(staff_client, method)(access_url(theirs.customer), {"contacts": []})

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AccessStatus.INVITED


def test_the_dialog_needs_a_signed_in_member(client, customer):
    response = client.get(access_url(customer))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


# --- Reinvite -------------------------------------------------------------------


def test_reinvite_sends_a_fresh_invitation(staff_client, organization, ben):
    # when
    response = staff_client.post(reinvite_url(ben))

    # then
    assert response.status_code == 302
    assert response.url == detail_url(ben.customer)
    assert messages_of(response) == ["A new invitation was sent to Ben Cole (ben@nw.example)."]
    old = PortalInvitation.objects.get(token_hash__isnull=False, superseded_at__isnull=False)
    assert old.access.contact == ben
    assert PortalInvitation.objects.filter(access__contact=ben, superseded_at=None).count() == 1
    assert OutboundEmail.objects.get().to_email == "ben@nw.example"


def test_reinvite_an_active_contact_says_they_already_use_the_portal(staff_client, customer):
    # given
    access = PortalAccessFactory(contact__customer=customer, active=True)

    # when
    response = staff_client.post(reinvite_url(access.contact))

    # then: a message, not an error page
    assert response.status_code == 302
    assert messages_of(response) == [f"{access.contact.full_name} already uses the portal."]
    assert not OutboundEmail.objects.exists()


def test_reinvite_needs_post(staff_client, ben):
    response = staff_client.get(reinvite_url(ben))

    assert response.status_code == 405
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize("case", ["another organisation", "another customer's url", "no access"])
def test_reinvite_of_a_contact_that_is_not_ours_is_not_found(
    staff_client, organization, customer, anna, case
):
    # given
    if case == "another organisation":
        contact = PortalAccessFactory().contact
        url = reinvite_url(contact)
    elif case == "another customer's url":
        contact = PortalAccessFactory(contact__customer__organization=organization).contact
        url = reverse("portal_access:contact_reinvite", args=[customer.pk, contact.pk])
    else:
        contact = anna
        url = reinvite_url(anna)

    # when
    response = staff_client.post(url)

    # then
    assert response.status_code == 404
    assert not OutboundEmail.objects.exists()


# --- the customer overview: portal status of each contact ---------------------------


def test_the_overview_shows_each_contacts_portal_status(staff_client, customer):
    # given
    now = timezone.now()
    people = {
        "Not invited": ContactPersonFactory(customer=customer, first_name="Nora"),
        "Invited": PortalAccessFactory(contact__customer=customer).contact,
        "Active": PortalAccessFactory(
            contact__customer=customer, active=True, last_login_at=now
        ).contact,
        "Expired": PortalAccessFactory(contact__customer=customer, expired=True).contact,
        "Disabled": PortalAccessFactory(contact__customer=customer, disabled=True).contact,
    }

    # when
    response = staff_client.get(detail_url(customer))

    # then
    html = response.text
    for label, contact in people.items():
        status = label.lower().replace(" ", "_")
        cell = re.search(
            rf'<div class="portal-status" data-portal-status="{status}">(.*?)</td>', html, re.S
        )
        assert cell, label
        assert f">{label}</span>" in cell.group(0)
        has_reinvite = reinvite_url(contact) in cell.group(0)
        assert has_reinvite == (label in {"Invited", "Expired", "Disabled"}), label
    assert "Invited " in html and "Expires " in html and "Expired " in html
    assert "Accepted " in html and "Last sign-in " in html
    assert html.count("> Reinvite</button>") == 3


def test_a_contact_without_an_email_gets_no_reinvite_button(staff_client, customer):
    # given: invited, then the e-mail address was removed
    access = PortalAccessFactory(contact__customer=customer)
    ContactPerson.objects.filter(pk=access.contact_id).update(email="")

    # when
    response = staff_client.get(detail_url(customer))

    # then
    assert reinvite_url(access.contact) not in response.text


@pytest.mark.parametrize("contact_count", [1, 30])
def test_the_overview_needs_the_same_queries_with_portal_statuses(
    staff_client, organization, django_assert_num_queries, contact_count
):
    # given: every contact invited or active
    customer = CustomerFactory(organization=organization)
    for index in range(contact_count):
        PortalAccessFactory(contact__customer=customer, active=bool(index % 2))

    # when / then: the statuses come with the contacts
    with django_assert_num_queries(DETAIL_QUERIES):
        response = staff_client.get(detail_url(customer))
    assert response.text.count('class="portal-status"') == contact_count


# --- the customer form: "Allow portal access for this customer" ---------------------


CREATE = reverse("customers:create")


def test_new_customer_with_portal_access_invites_the_primary_contact(staff_client):
    # when
    response = staff_client.post(
        CREATE,
        customer_form_data(
            allow_portal_access="on",
            portal_language="de",
            contacts=[
                {"first_name": "Pia", "email": "pia@nw.example", "is_primary": True},
                {"first_name": "Quinn", "email": "quinn@nw.example"},
            ],
        ),
    )

    # then
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert messages_of(response) == [
        "Customer Northwind Traders created.",
        "A portal invitation was sent to pia@nw.example.",
    ]
    access = PortalAccess.objects.get()
    assert (access.contact.email, access.customer, access.status) == (
        "pia@nw.example",
        customer,
        AccessStatus.INVITED,
    )
    email = OutboundEmail.objects.get()
    assert (email.to_email, email.language) == ("pia@nw.example", "de")


def test_new_customer_without_the_checkbox_invites_nobody(staff_client):
    # when
    staff_client.post(
        CREATE, customer_form_data(contacts=[{"first_name": "Pia", "email": "p@x.example"}])
    )

    # then
    assert Customer.objects.exists()
    assert not PortalAccess.objects.exists()
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    ("contacts", "error"),
    [
        (
            [{"first_name": "Pia", "last_name": "Lund", "is_primary": True}],
            "The primary contact person, Pia Lund, has no e-mail address: "
            "add one to allow portal access.",
        ),
        ([], "Add a contact person with an e-mail address to allow portal access."),
    ],
    ids=["primary without e-mail", "no contact"],
)
def test_new_customer_with_portal_access_but_no_email_saves_nothing(staff_client, contacts, error):
    # when
    response = staff_client.post(
        CREATE, customer_form_data(allow_portal_access="on", contacts=contacts)
    )

    # then: the error is on the checkbox, and nothing was saved
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors == {"allow_portal_access": [error]}
    assert error in response.text
    assert "<h1>New customer</h1>" in response.text
    assert not Customer.objects.exists()
    assert not ContactPerson.objects.exists()
    assert not PortalAccess.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert messages_of(response) == []


@pytest.fixture
def edited(customer):
    """Northwind with its primary contact Pia."""
    ContactPersonFactory(
        customer=customer,
        first_name="Pia",
        last_name="Lund",
        email="pia@nw.example",
        is_primary=True,
    )
    return customer


def edit_data(customer, **fields) -> dict:
    contacts = [
        {
            "id": str(contact.pk),
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "is_primary": contact.is_primary,
        }
        for contact in customer.contacts.all()
    ]
    return customer_form_data(initial_forms=len(contacts), contacts=contacts, **fields)


@pytest.mark.parametrize(
    ("trait", "checked"),
    [(None, False), ("invited", True), ("active", True), ("disabled", False)],
)
def test_edit_shows_the_checkbox_ticked_when_the_primary_contact_has_access(
    staff_client, edited, trait, checked
):
    # given
    if trait:
        PortalAccessFactory(
            contact=edited.contacts.get(), **({trait: True} if trait != "invited" else {})
        )

    # when
    response = staff_client.get(reverse("customers:edit", args=[edited.pk]))

    # then
    box = re.search(r'<input type="checkbox" name="allow_portal_access"[^>]*>', response.text)
    assert box
    assert ("checked" in box.group(0)) is checked
    assert "Unticking does not end anyone&#x27;s access" in response.text


def test_edit_ticking_the_checkbox_invites_the_primary_contact(staff_client, edited):
    # when
    response = staff_client.post(
        reverse("customers:edit", args=[edited.pk]), edit_data(edited, allow_portal_access="on")
    )

    # then
    assert response.status_code == 302
    assert messages_of(response) == [
        "Customer Northwind Traders saved.",
        "A portal invitation was sent to pia@nw.example.",
    ]
    assert status_of(edited.contacts.get()) == "invited"


def test_edit_saving_again_with_the_checkbox_ticked_sends_nothing_twice(staff_client, edited):
    # given
    PortalAccessFactory(contact=edited.contacts.get())

    # when
    response = staff_client.post(
        reverse("customers:edit", args=[edited.pk]), edit_data(edited, allow_portal_access="on")
    )

    # then
    assert messages_of(response) == ["Customer Northwind Traders saved."]
    assert not OutboundEmail.objects.exists()


def test_edit_unticking_the_checkbox_disables_nobody(staff_client, edited):
    # given
    PortalAccessFactory(contact=edited.contacts.get(), active=True)

    # when
    staff_client.post(reverse("customers:edit", args=[edited.pk]), edit_data(edited))

    # then
    assert status_of(edited.contacts.get()) == "active"


def test_edit_with_the_checkbox_and_no_email_saves_nothing(staff_client, edited):
    # given: the primary contact's e-mail is cleared in the same save
    data = edit_data(edited, allow_portal_access="on", display_name="Renamed")
    data["contacts-0-email"] = ""

    # when
    response = staff_client.post(reverse("customers:edit", args=[edited.pk]), data)

    # then
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "allow_portal_access": [
            "The primary contact person, Pia Lund, has no e-mail address: "
            "add one to allow portal access."
        ]
    }
    edited.refresh_from_db()
    assert edited.display_name == "Northwind Traders"
    assert edited.contacts.get().email == "pia@nw.example"
    assert not PortalAccess.objects.exists()


def test_an_expired_invitation_keeps_the_checkbox_ticked(staff_client, edited):
    # given: expired yesterday
    PortalAccessFactory(
        contact=edited.contacts.get(),
        invitation_expires_at=timezone.now() - timedelta(days=1),
    )

    # when
    response = staff_client.get(reverse("customers:edit", args=[edited.pk]))

    # then: Reinvite on the overview renews it; saving the form does not
    assert response.context["form"].initial["allow_portal_access"] is True
