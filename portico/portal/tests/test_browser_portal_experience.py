"""The customer's portal, end to end in Chromium (issue 5's proof).

Staff and the contact each have their own browser context, as two people on
two machines: the contact opens a quote and staff see the **Viewed** eye;
the contact accepts it with name and terms and staff see it accepted with
the certificate; the contact declines another with a reason; the contact
comments on an invoice and staff reply (an internal note stays internal);
the contact edits the billing address. One phone-width check: the invoice
list and an invoice page fit 390 px without scrolling sideways.

The documents are made with the services beforehand; everything under test
is done by clicking and typing.
"""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portico.core.testing.browser import ada_portal_access
from portico.customers.tests.factories import CustomerFactory
from portico.portal_access.models import PortalAccess
from portico.sales.models import Invoice, Quote
from portico.sales.services import invoices as invoice_services
from portico.sales.services import quotes as quote_services
from portico.sales.services.common import DocumentData
from portico.sales.services.invoices import InvoiceData
from portico.sales.tests.factories import line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SIGNER = "Ada Lovelace"


@pytest.fixture
def access(customer) -> PortalAccess:
    """Ada, a contact of the customer, with an active portal access."""
    return ada_portal_access(customer, full_name=SIGNER)


# --- data, made with the services before the journeys -----------------------------------


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Analytical Engines")


def sent_quote(customer, actor, *, description: str) -> Quote:
    today = timezone.localdate()
    quote = quote_services.quote_create(
        organization=customer.organization,
        data=DocumentData(
            customer_id=customer.pk,
            date=today,
            lines=[line(description, "2", "1500")],
            terms="Payment within 14 days of acceptance.",
        ),
        expiry_date=today + timedelta(days=30),
        actor=actor,
    )
    return quote_services.quote_mark_sent(quote=quote, actor=actor)


def sent_invoice(customer, actor) -> Invoice:
    invoice = invoice_services.invoice_create(
        organization=customer.organization,
        data=InvoiceData(
            customer_id=customer.pk,
            date=timezone.localdate(),
            lines=[line("Difference engine maintenance", "3", "250")],
        ),
        actor=actor,
    )
    return invoice_services.invoice_mark_sent(invoice=invoice, actor=actor)


# --- the contact's own browser ----------------------------------------------------------


def portal_nav(portal: Page, name: str) -> None:
    """Click a module in the portal's navigation (opening the menu on a phone)."""
    menu = portal.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    portal.get_by_role("navigation", name="Portal").get_by_role("link", name=name).click()


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def page_width(page: Page) -> int:
    """How wide the page is laid out: wider than the screen means scrolling sideways."""
    return page.evaluate("document.documentElement.scrollWidth")


# --- the journeys -------------------------------------------------------------------------


def test_contact_opens_a_quote_staff_see_viewed_then_the_contact_accepts_it(
    staff_page: Page, open_portal, access, customer, membership
):
    # given a sent quote staff are looking at in their list, not yet viewed
    staff = staff_page
    quote = sent_quote(customer, membership.user, description="Analytical engine, phase 1")
    staff.goto("/app/quotes/")
    staff_row = staff.get_by_role("row", name=re.compile(quote.number))
    expect(staff_row).to_be_visible()
    expect(staff_row.locator("[data-viewed]")).to_have_count(0)

    # when Ada opens the quote in the portal
    portal = open_portal()
    portal_nav(portal, "Quotes")
    portal.get_by_role("link", name=quote.number).click()
    expect(portal.get_by_role("heading", name="Your decision")).to_be_visible()

    # then the staff list shows the Viewed eye, its title naming Ada
    staff.reload()
    eye = staff.get_by_role("row", name=re.compile(quote.number)).locator("[data-viewed]")
    expect(eye).to_be_visible()
    expect(eye).to_have_attribute("title", re.compile(rf"^Viewed by {SIGNER} on "))
    # and the quote's page says Viewed
    staff.get_by_role("link", name=quote.number).click()
    expect(staff.get_by_role("heading", name=f"Quote {quote.number}")).to_be_visible()
    expect(staff.locator(".page-header [data-viewed]")).to_contain_text("Viewed")

    # when Ada accepts: types her name, ticks the terms, clicks Accept
    portal.get_by_role("button", name="Accept quote").first.click()
    accept_form = portal.locator("#decision-accept")
    expect(accept_form.get_by_text("Payment within 14 days of acceptance.")).to_be_visible()
    accept_form.get_by_label("Your full name").fill(SIGNER)
    accept_form.get_by_label("I accept the terms shown above").check()
    accept_form.get_by_role("button", name="Accept quote").click()

    # then the portal shows the quote accepted, with the certificate to download
    expect(
        portal.get_by_role("heading", name=re.compile(rf"^Accepted by {SIGNER} on "))
    ).to_be_visible()
    certificate_link = portal.get_by_role("link", name="Download certificate")
    expect(certificate_link).to_be_visible()
    portal_certificate = portal.request.get(certificate_link.get_attribute("href"))
    assert portal_certificate.ok
    assert portal_certificate.body().startswith(b"%PDF")

    # and staff see the quote Accepted with the customer's decision
    staff.reload()
    expect(staff.locator(".page-header .badge").first).to_have_text("Accepted")
    decision = staff.get_by_role("region", name="Customer decision")
    expect(decision).to_contain_text("Accepted in the portal")
    expect(decision).to_contain_text(SIGNER)
    # and the certificate of acceptance is a PDF naming the signer
    href = decision.get_by_role("link", name="Certificate of acceptance").get_attribute("href")
    response = staff.request.get(href)
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    text = pdf_text(response.body())
    assert SIGNER in text
    assert quote.number in text


def test_contact_declines_a_quote_with_a_reason_and_staff_see_it(
    staff_page: Page, open_portal, customer, membership
):
    # given a sent quote
    staff = staff_page
    quote = sent_quote(customer, membership.user, description="Analytical engine, phase 2")
    reason = "The budget for this year is spent; please ask us again in January."

    # when Ada declines it in the portal with a reason
    portal = open_portal()
    portal_nav(portal, "Quotes")
    portal.get_by_role("link", name=quote.number).click()
    portal.get_by_role("button", name="Decline", exact=True).click()
    decline_form = portal.locator("#decision-decline")
    # Wait for the panel to finish opening (Bootstrap's "collapsing" transition).
    expect(decline_form).to_have_class(re.compile(r"\bshow\b"))
    expect(decline_form).not_to_have_class(re.compile(r"\bcollapsing\b"))
    decline_form.get_by_label("Why do you decline it?").fill(reason)
    with portal.expect_navigation():
        decline_form.get_by_role("button", name="Decline quote").click()

    # then the portal shows it declined with her reason
    expect(
        portal.get_by_role("heading", name=re.compile(rf"^Declined by {SIGNER} on "))
    ).to_be_visible()
    expect(portal.get_by_text(reason)).to_be_visible()
    expect(portal.get_by_role("button", name="Accept quote")).to_have_count(0)

    # and staff see the quote Declined, with the reason
    staff.goto("/app/quotes/")
    expect(staff.get_by_role("row", name=re.compile(quote.number))).to_contain_text("Declined")
    staff.get_by_role("link", name=quote.number).click()
    expect(staff.locator(".page-header .badge").first).to_have_text("Declined")
    decision = staff.get_by_role("region", name="Customer decision")
    expect(decision).to_contain_text("Declined in the portal")
    expect(decision).to_contain_text(reason)
    expect(decision.get_by_role("link", name="Certificate of acceptance")).to_have_count(0)


def test_contact_comments_on_an_invoice_and_staff_reply_but_internal_notes_stay_internal(
    staff_page: Page, open_portal, customer, membership
):
    # given a sent invoice
    staff = staff_page
    invoice = sent_invoice(customer, membership.user)
    question = "Does this include the punched cards delivered on Monday?"
    reply = "Yes: the cards are on line 1, at no extra charge."
    note = "Check with the workshop that the cards were really delivered."

    # when Ada comments on it in the portal
    portal = open_portal()
    portal_nav(portal, "Invoices")
    portal.get_by_role("link", name=invoice.number).click()
    thread = portal.get_by_role("region", name=re.compile("^Comments"))
    thread.get_by_label("Comment", exact=True).fill(question)
    thread.get_by_role("button", name="Post comment").click()
    expect(portal.get_by_role("status")).to_contain_text("Your comment was posted.")
    expect(portal.locator(".comment", has_text=question)).to_be_visible()

    # then staff see it on the invoice, from the customer
    staff.goto("/app/invoices/")
    staff.get_by_role("link", name=invoice.number).click()
    staff_thread = staff.get_by_role("region", name=re.compile("^Comments"))
    customer_comment = staff_thread.locator(".comment", has_text=question)
    expect(customer_comment).to_be_visible()
    expect(customer_comment).to_contain_text(SIGNER)
    expect(customer_comment).to_contain_text("Customer")

    # when staff reply, and then write an internal note
    staff_thread.get_by_label("Comment", exact=True).fill(reply)
    staff_thread.get_by_role("button", name="Post").click()
    staff_thread = staff.get_by_role("region", name=re.compile("^Comments"))
    expect(staff_thread.locator(".comment", has_text=reply)).to_be_visible()
    staff_thread.get_by_label("Comment", exact=True).fill(note)
    staff_thread.get_by_label(re.compile("Internal note")).check()
    staff_thread.get_by_role("button", name="Post").click()
    internal = staff.locator(".comment", has_text=note)
    expect(internal).to_be_visible()
    expect(internal).to_contain_text("Internal")

    # then Ada, reloading, sees the reply and not the internal note
    portal.reload()
    thread = portal.get_by_role("region", name=re.compile("^Comments"))
    expect(thread.locator(".comment", has_text=reply)).to_be_visible()
    expect(thread.locator(".comment", has_text=question)).to_be_visible()
    expect(thread.locator(".comment")).to_have_count(2)
    expect(portal.get_by_text(note)).to_have_count(0)


def test_contact_edits_the_billing_address_and_staff_see_it(
    staff_page: Page, open_portal, customer
):
    # when Ada opens My details from the account menu and edits the billing address
    portal = open_portal()
    account_menu = portal.locator(".portal-user-menu")
    account_menu.get_by_role("button").click()
    account_menu.get_by_role("link", name="My details").click()
    expect(portal.get_by_role("heading", name="My details", level=1)).to_be_visible()
    portal.get_by_role("link", name="Edit details").click()
    billing = portal.locator("section", has=portal.get_by_role("heading", name="Billing address"))
    billing.get_by_label("Street", exact=True).fill("12 Dorset Street")
    billing.get_by_label("City").fill("London")
    billing.get_by_label("Postal code").fill("W1U 4EH")
    billing.get_by_label("Country").fill("United Kingdom")
    portal.get_by_role("button", name="Save").click()

    # then My details shows the new address
    expect(portal.get_by_role("heading", name="My details", level=1)).to_be_visible()
    address = portal.get_by_role("region", name="Billing address")
    expect(address).to_contain_text("12 Dorset Street")
    expect(address).to_contain_text("London")
    expect(address).to_contain_text("W1U 4EH")
    expect(address).to_contain_text("United Kingdom")

    # and so does the customer's page on the staff side
    staff = staff_page
    staff.goto(f"/app/customers/{customer.pk}/")
    addresses = staff.get_by_role("region", name="Addresses")
    expect(addresses).to_contain_text("12 Dorset Street")
    expect(addresses).to_contain_text("W1U 4EH")
    expect(addresses).to_contain_text("United Kingdom")


def test_invoice_list_and_page_fit_a_phone(open_portal, customer, membership):
    # given a sent invoice
    invoice = sent_invoice(customer, membership.user)

    # when Ada opens her invoices on a phone
    portal = open_portal(viewport=PHONE)
    portal_nav(portal, "Invoices")

    # then the list shows the invoice's number without scrolling sideways
    number = portal.get_by_role("link", name=invoice.number)
    expect(number).to_be_visible()
    assert page_width(portal) <= PHONE["width"]

    # and so does the invoice's page, with Download PDF within the screen
    number.click()
    expect(portal.locator(".portal-document-number")).to_have_text(invoice.number)
    download = portal.get_by_role("link", name="Download PDF")
    expect(download).to_be_in_viewport()
    box = download.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page_width(portal) <= PHONE["width"]
