"""Staff inviting in Chromium: the Configure portal access dialog and Reinvite."""

import re

import pytest
from playwright.sync_api import Page, expect

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.models import AccessStatus, PortalAccess
from portico.portal_access.tests.factories import PortalAccessFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_configure_portal_access_in_the_dialog_then_reinvite(staff_page: Page, organization):
    # given a customer with three contact persons: one already invited, one without e-mail
    page = staff_page
    customer = CustomerFactory(organization=organization, display_name="Acme Rockets")
    ContactPersonFactory(
        customer=customer, first_name="Wile", last_name="Coyote", email="wile@acme.example"
    )
    PortalAccessFactory(
        contact=ContactPersonFactory(
            customer=customer, first_name="Bugs", last_name="Bunny", email="bugs@acme.example"
        )
    )
    ContactPersonFactory(customer=customer, first_name="Road", last_name="Runner", email="")

    # when they open the customer's overview → More → Configure portal access
    page.goto(f"/app/customers/{customer.pk}/")
    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="Configure portal access").click()

    # then a dialog lists every contact with its status; Road has no e-mail and cannot be ticked
    dialog = page.get_by_role("dialog", name="Configure portal access")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label(re.compile("Wile Coyote"))).not_to_be_checked()
    expect(dialog.get_by_label(re.compile("Bugs Bunny"))).to_be_checked()
    expect(dialog.get_by_label(re.compile("Road Runner"))).to_be_disabled()
    expect(dialog).to_contain_text("No e-mail address")

    # when they tick Wile, untick Bugs and save
    dialog.get_by_label(re.compile("Wile Coyote")).check()
    dialog.get_by_label(re.compile("Bugs Bunny")).uncheck()
    dialog.get_by_role("button", name="Save").click()

    # then the overview says what happened and shows the new statuses
    expect(page.get_by_role("alert")).to_contain_text(
        "Portal access saved: 1 invitation sent. Access disabled for 1 contact person."
    )
    people = page.get_by_role("region", name="Contact persons (3)")
    wile = people.get_by_role("row", name=re.compile("Wile Coyote"))
    bugs = people.get_by_role("row", name=re.compile("Bugs Bunny"))
    expect(wile).to_contain_text("Invited")
    expect(wile).to_contain_text("Expires")
    expect(bugs).to_contain_text("Disabled")
    expect(people.get_by_role("row", name=re.compile("Road Runner"))).to_contain_text("Not invited")
    assert list(OutboundEmail.objects.values_list("to_email", flat=True)) == ["wile@acme.example"]

    # when they re-enable Bugs with Reinvite
    bugs.get_by_role("button", name="Reinvite Bugs Bunny").click()

    # then Bugs is invited again, with a new e-mail
    expect(page.get_by_role("alert")).to_contain_text(
        "A new invitation was sent to Bugs Bunny (bugs@acme.example)."
    )
    expect(
        page.get_by_role("region", name="Contact persons (3)").get_by_role(
            "row", name=re.compile("Bugs Bunny")
        )
    ).to_contain_text("Invited")
    assert PortalAccess.objects.get(contact__first_name="Bugs").status == AccessStatus.INVITED
    assert OutboundEmail.objects.filter(to_email="bugs@acme.example").count() == 1
