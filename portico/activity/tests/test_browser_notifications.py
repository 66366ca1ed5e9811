"""Notifications, end to end in Chromium (issue 7's proof).

Ada, a contact, accepts a quote and comments on an invoice in her browser; in
another, the staff member's bell count rises without the page being
reloaded (the bell polls every NOTIFICATION_POLL_SECONDS, 1 here), the
dropdown names both, and opening one marks it read: the count drops and the
Notifications page shows it read. The documents are made with the services
beforehand; everything under test is done by clicking and typing.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from portico.activity.models import Notification
from portico.core.testing.browser import ada_portal_access
from portico.customers.tests.factories import CustomerFactory
from portico.portal.tests.test_browser_portal_experience import (
    portal_nav,
    sent_invoice,
    sent_quote,
)
from portico.portal_access.models import PortalAccess

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIGNER = "Ada Lovelace"


@pytest.fixture(autouse=True)
def fast_bell(settings):
    """The bell asks for its count every second instead of every 30."""
    settings.NOTIFICATION_POLL_SECONDS = 1


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Analytical Engines")


@pytest.fixture
def access(customer) -> PortalAccess:
    return ada_portal_access(customer, full_name=SIGNER)


@pytest.fixture
def portal(open_portal) -> Page:
    """Ada's own browser, signed in to the portal through its sign-in form."""
    return open_portal()


def bell_badge(staff: Page):
    """The unread count on the bell (absent at zero)."""
    return staff.locator("#bell-count [data-unread-count]")


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()


def test_staff_bell_counts_the_contacts_moves_live_and_opening_one_marks_it_read(
    staff_page: Page, portal: Page, customer, membership
):
    # given a sent quote and a sent invoice, and staff on their home page, nothing unread
    staff = staff_page
    quote = sent_quote(customer, membership.user, description="Analytical engine, phase 1")
    invoice = sent_invoice(customer, membership.user)
    staff.goto("/app/")
    expect(staff.locator("#bell-count")).to_be_attached()
    expect(bell_badge(staff)).to_have_count(0)
    staff.evaluate("window.stillTheSamePage = true")

    # when Ada accepts the quote in her browser
    portal_nav(portal, "Quotes")
    portal.get_by_role("link", name=quote.number).click()
    portal.get_by_role("button", name="Accept quote").first.click()
    accept_form = portal.locator("#decision-accept")
    accept_form.get_by_label("Your full name").fill(SIGNER)
    accept_form.get_by_label("I accept the terms shown above").check()
    accept_form.get_by_role("button", name="Accept quote").click()
    expect(
        portal.get_by_role("heading", name=re.compile(rf"^Accepted by {SIGNER} on "))
    ).to_be_visible()

    # then the staff bell counts it, without a reload: the quote viewed, the quote accepted
    assert unread_count(membership.user) == 2
    expect(bell_badge(staff)).to_have_attribute("data-unread-count", "2")

    # when Ada comments on the invoice
    question = "Does this include the punched cards delivered on Monday?"
    portal_nav(portal, "Invoices")
    portal.get_by_role("link", name=invoice.number).click()
    thread = portal.get_by_role("region", name=re.compile("^Comments"))
    thread.get_by_label("Comment", exact=True).fill(question)
    thread.get_by_role("button", name="Post comment").click()
    expect(portal.get_by_role("status")).to_contain_text("Your comment was posted.")

    # then the count rises again, still on the same page: the invoice viewed, the comment
    assert unread_count(membership.user) == 4
    expect(bell_badge(staff)).to_have_attribute("data-unread-count", "4")
    expect(bell_badge(staff)).to_contain_text("4 unread notifications")
    assert staff.evaluate("window.stillTheSamePage") is True

    # when staff open the bell, the dropdown names both
    staff.get_by_role("button", name="Notifications").click()
    dropdown = staff.locator(".notification-bell .dropdown-menu")
    accepted = dropdown.get_by_role(
        "link", name=re.compile(rf"{SIGNER} \(Analytical Engines\) accepted quote {quote.number}")
    )
    commented = dropdown.get_by_role(
        "link",
        name=re.compile(rf"{SIGNER} \(Analytical Engines\) commented on invoice {invoice.number}"),
    )
    expect(accepted).to_be_visible()
    expect(commented).to_be_visible()

    # and open the accepted quote's notification
    accepted.click()

    # then it leads to the quote and the count drops by one
    expect(staff.get_by_role("heading", name=f"Quote {quote.number}")).to_be_visible()
    expect(bell_badge(staff)).to_have_attribute("data-unread-count", "3")
    assert unread_count(membership.user) == 3

    # and the Notifications page shows it read, the comment still unread
    staff.goto("/app/notifications/")
    accepted_row = staff.locator(
        "[data-notification-row]", has_text=f"accepted quote {quote.number}"
    )
    commented_row = staff.locator(
        "[data-notification-row]", has_text=f"commented on invoice {invoice.number}"
    )
    expect(accepted_row.get_by_role("button", name="Mark unread")).to_be_visible()
    expect(accepted_row.get_by_role("img", name="Unread")).to_have_count(0)
    expect(commented_row.get_by_role("button", name="Mark read")).to_be_visible()
    expect(commented_row.get_by_role("img", name="Unread")).to_be_visible()
