"""The seed's portal journey, end to end in Chromium (issue 4's proof).

Staff configure portal access for a contact → the invitation travels through
the worker and a real local SMTP server → the contact opens **Accept
invitation** from that e-mail, sets a password and lands on portal home →
staff see **Active** → staff untick the contact and the open portal page
stops working at its next request.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import EmailStatus, OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCEPT_LINK = re.compile(r"https?://[^\s\"<>]+/accept/[^\s\"<>]+/")


def run_worker() -> None:
    """What `manage.py db_worker` does in production: deliver the outbox."""
    import signal

    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
        )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def test_invite_accept_activate_then_disable(
    staff_page: Page,
    browser,
    live_server,
    organization,
    settings,
    smtp_server,  # noqa: F811
):
    # given a customer whose contact person has an e-mail; links point at this server
    settings.SITE_URL = live_server.url
    staff = staff_page
    customer = CustomerFactory(organization=organization, display_name="Acme Corporation")
    ContactPersonFactory(
        customer=customer,
        first_name="Pat",
        last_name="Portal",
        email="portal@acme.example",
        is_primary=True,
    )

    # when staff configure portal access for Pat
    staff.goto(f"/app/customers/{customer.pk}/")
    staff.get_by_role("button", name="More").click()
    staff.get_by_role("link", name="Configure portal access").click()
    dialog = staff.get_by_role("dialog", name="Configure portal access")
    dialog.get_by_label(re.compile("Pat Portal")).check()
    dialog.get_by_role("button", name="Save").click()
    people = staff.get_by_role("region", name=re.compile(r"^Contact persons? \("))
    expect(people.get_by_role("row", name=re.compile("Pat Portal"))).to_contain_text("Invited")

    # and the worker delivers the invitation through the SMTP server
    run_worker()
    assert OutboundEmail.objects.get().status == EmailStatus.SENT
    (message,) = smtp_server.received
    assert message.rcpt_tos == ("portal@acme.example",)
    html = message.body("text/html")
    assert "Accept invitation" in html
    accept_url = ACCEPT_LINK.search(message.body("text/plain")).group(0)
    assert accept_url.startswith(live_server.url)

    # then Pat opens Accept invitation in their own browser and chooses a password
    portal_context = browser.new_context(viewport={"width": 390, "height": 844})
    portal = portal_context.new_page()
    try:
        portal.goto(accept_url)
        expect(portal.get_by_role("heading", name="Accept invitation")).to_be_visible()
        expect(portal.get_by_text("portal@acme.example")).to_be_visible()
        portal.get_by_label("Choose a password").fill("sunny-portal-2026")
        portal.get_by_label("Confirm the password").fill("sunny-portal-2026")
        portal.get_by_role("button", name="Accept invitation").click()

        # and lands on portal home
        expect(portal.get_by_role("heading", name="Welcome, Pat")).to_be_visible()

        # and staff see Pat as Active
        staff.reload()
        people = staff.get_by_role("region", name=re.compile(r"^Contact persons? \("))
        expect(people.get_by_role("row", name=re.compile("Pat Portal"))).to_contain_text("Active")

        # when staff untick Pat in Configure portal access and save
        staff.get_by_role("button", name="More").click()
        staff.get_by_role("link", name="Configure portal access").click()
        dialog = staff.get_by_role("dialog", name="Configure portal access")
        dialog.get_by_label(re.compile("Pat Portal")).uncheck()
        dialog.get_by_role("button", name="Save").click()
        expect(
            staff.get_by_role("region", name=re.compile(r"^Contact persons? \(")).get_by_role(
                "row", name=re.compile("Pat Portal")
            )
        ).to_contain_text("Disabled")

        # then Pat's open portal stops working at the next request
        portal.reload()
        expect(portal.get_by_role("heading", name="Access disabled")).to_be_visible()
        # and the used link does not let them back in
        portal.goto(accept_url)
        expect(portal.get_by_role("heading", name="Welcome, Pat")).not_to_be_visible()
    finally:
        portal_context.close()
