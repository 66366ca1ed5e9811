"""Per-contact permissions in Configure portal access (which portal modules
each contact sees) and Settings → Customer portal → Show void documents."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.portal_access.models import PortalAccess, PortalSettings
from portico.portal_access.services import PortalAccessError
from portico.portal_access.staff_services import (
    portal_access_configure,
    portal_modules_normalize,
)
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory

pytestmark = pytest.mark.django_db

ALL = ["quotes", "sales_orders", "invoices", "payments", "credit_notes", "statement", "projects"]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Northwind Traders")


@pytest.fixture
def active(customer):
    """Uses the portal, no limit."""
    contact = ContactPersonFactory(
        customer=customer, first_name="Ada", last_name="Active", email="ada@nw.example"
    )
    return PortalAccessFactory(active=True, contact=contact)


@pytest.fixture
def newcomer(customer):
    return ContactPersonFactory(
        customer=customer, first_name="Ned", last_name="New", email="ned@nw.example"
    )


def access_url(customer) -> str:
    return reverse("portal_access:customer_access", args=[customer.pk])


def test_normalize_keeps_the_portal_order_and_stores_all_as_no_limit():
    assert portal_modules_normalize(["payments", "invoices"]) == ["invoices", "payments"]
    assert portal_modules_normalize(list(reversed(ALL))) == []


def test_the_dialog_shows_each_contacts_modules(staff_client, customer, active):
    # given: Ada is limited to invoices and payments
    active.modules = ["invoices", "payments"]
    active.save()

    # when
    text = staff_client.get(access_url(customer)).text

    # then: a Modules row with a summary and her modules ticked
    assert "Invoices, Payments" in text
    name = f"modules_{active.contact_id}"
    ticked = set(
        re.findall(rf'<input type="checkbox" name="{name}" value="(\w+)"[^>]* checked', text)
    )
    offered = re.findall(rf'<input type="checkbox" name="{name}" value="(\w+)"', text)
    assert ticked == {"invoices", "payments"}
    assert offered == ALL
    assert f'name="modules_shown" value="{active.contact_id}"' in text


def test_saving_limits_a_contact_to_some_modules(staff_client, customer, active):
    # when
    response = staff_client.post(
        access_url(customer),
        {
            "contacts": [active.contact_id],
            "modules_shown": [active.contact_id],
            f"modules_{active.contact_id}": ["payments", "invoices"],
        },
    )

    # then
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.modules == ["invoices", "payments"]
    assert messages_of(response) == ["Portal access saved: Modules changed for 1 contact person."]


def test_ticking_every_module_stores_no_limit(staff_client, customer, active):
    # given
    active.modules = ["invoices"]
    active.save()

    # when
    staff_client.post(
        access_url(customer),
        {
            "contacts": [active.contact_id],
            "modules_shown": [active.contact_id],
            f"modules_{active.contact_id}": ALL,
        },
    )

    # then
    active.refresh_from_db()
    assert active.modules == []


def test_a_newly_invited_contact_gets_the_chosen_modules(staff_client, customer, newcomer):
    # when
    response = staff_client.post(
        access_url(customer),
        {
            "contacts": [newcomer.pk],
            "modules_shown": [newcomer.pk],
            f"modules_{newcomer.pk}": ["quotes"],
        },
    )

    # then
    assert messages_of(response) == ["Portal access saved: 1 invitation sent."]
    assert PortalAccess.objects.get(contact=newcomer).modules == ["quotes"]


def test_no_module_ticked_for_a_ticked_contact_is_refused(staff_client, customer, active):
    # when
    response = staff_client.post(
        access_url(customer),
        {"contacts": [active.contact_id], "modules_shown": [active.contact_id]},
    )

    # then: the form says why, nothing changed
    assert response.status_code == 422
    assert "Choose at least one module for Ada Active" in response.text
    active.refresh_from_db()
    assert active.modules == []


def test_a_post_without_module_checkboxes_keeps_the_modules(staff_client, customer, active):
    # given
    active.modules = ["invoices"]
    active.save()

    # when: an older form, only the ticked contacts
    staff_client.post(access_url(customer), {"contacts": [active.contact_id]})

    # then
    active.refresh_from_db()
    assert active.modules == ["invoices"]


def test_an_unknown_module_is_refused(customer, active):
    with pytest.raises(PortalAccessError):
        portal_access_configure(
            customer=customer,
            contact_ids={active.contact_id},
            actor=None,
            modules={active.contact_id: ["payroll"]},
        )


def test_modules_the_organisation_hides_are_marked_in_the_dialog(
    staff_client, organization, customer, active
):
    PortalSettingsFactory(organization=organization, modules=["invoices", "payments"])

    text = staff_client.get(access_url(customer)).text

    assert "Quotes (hidden for every customer in Settings → Customer portal)" in text


# --- Settings → Customer portal: Show void documents ----------------------------------


def settings_post(**changes) -> dict:
    data = {
        "banner_message": "",
        "modules": ALL,
        "invitation_lifetime_days": 7,
    }
    data.update(changes)
    return data


def test_the_settings_page_offers_show_void_documents(staff_client):
    text = staff_client.get(reverse("portal_access:settings")).text

    assert "Show void documents in the portal" in text
    assert 'name="show_void_documents"' in text


def test_saving_show_void_documents(staff_client, organization):
    # when: ticked
    response = staff_client.post(
        reverse("portal_access:settings"), settings_post(show_void_documents="on")
    )

    # then
    assert response.status_code == 302
    assert PortalSettings.objects.get(organization=organization).show_void_documents is True

    # when: unticked
    staff_client.post(reverse("portal_access:settings"), settings_post())

    # then
    assert PortalSettings.objects.get(organization=organization).show_void_documents is False
