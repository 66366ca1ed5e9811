"""Online payment from the portal, end to end in Chromium with the test gateway
(issue 6's proof).

Ada pays PART of an invoice from its row in the invoice list (a declined test
card first, then 4242…), sees it partially paid and her receipt; then pays
the rest from the invoice's page and sees it paid. Staff see both payments
(Test gateway, with their references) on the invoice and in Payments
received, and the notification. The invoice is made with the services
beforehand; everything under test is done by clicking and typing.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from portico.core.testing.browser import ada_portal_access
from portico.customers.tests.factories import CustomerFactory
from portico.mail.models import OutboundEmail
from portico.online_payments.models import OnlinePaymentSettings
from portico.payments.models import Payment
from portico.portal_access.models import PortalAccess
from portico.sales.models import Invoice
from portico.sales.services import invoices as invoice_services
from portico.sales.services.invoices import InvoiceData
from portico.sales.tests.factories import line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(organization):
    OnlinePaymentSettings.objects.create(organization=organization, test_gateway_enabled=True)
    return CustomerFactory(
        organization=organization, display_name="Analytical Engines", currency="USD"
    )


@pytest.fixture
def access(customer) -> PortalAccess:
    return ada_portal_access(customer, full_name="Ada Lovelace")


@pytest.fixture
def portal(open_portal) -> Page:
    """Ada's own browser, signed in to the portal through its sign-in form."""
    return open_portal()


@pytest.fixture
def invoice(customer, membership) -> Invoice:
    """$750.00, sent, partial payments allowed."""
    invoice = invoice_services.invoice_create(
        organization=customer.organization,
        data=InvoiceData(
            customer_id=customer.pk,
            date=timezone.localdate(),
            lines=[line("Difference engine maintenance", "3", "250")],
        ),
        actor=membership.user,
    )
    return invoice_services.invoice_mark_sent(invoice=invoice, actor=membership.user)


def pay_with_card(portal: Page, number: str) -> None:
    portal.get_by_label("Card number").fill(number)
    portal.get_by_label("Expiry date").fill("12 / 39")
    portal.get_by_label("Security code").fill("123")
    portal.locator("[data-test-card-form]").get_by_role("button", name=re.compile("^Pay ")).click()


def test_contact_pays_part_then_the_rest_and_staff_see_both_payments(
    staff_page: Page, portal: Page, access, invoice
):
    # given Ada on her invoice list, the $750.00 invoice with a Pay now button
    portal.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").click()
    row = portal.get_by_role("row", name=re.compile(invoice.number))
    expect(row).to_contain_text("$750.00")

    # when she clicks Pay now on its row and enters $300.00 of it
    row.get_by_role("link", name=f"Pay invoice {invoice.number} now").click()
    expect(portal.get_by_role("heading", name="Pay invoices")).to_be_visible()
    expect(portal.get_by_label(re.compile(invoice.number))).to_be_checked()
    expect(portal.locator("#pay-total")).to_have_text("$750.00")
    portal.get_by_label("Amount to pay").fill("300")
    # then the total follows what she types
    expect(portal.locator("#pay-total")).to_have_text("$300.00")
    portal.get_by_role("button", name="Continue to payment").click()

    # when a declined test card is tried, the card page says so and stays open
    expect(portal.get_by_role("heading", name="Pay $300.00")).to_be_visible()
    pay_with_card(portal, "4000 0000 0000 0002")
    expect(portal.get_by_text("Your card was declined.")).to_be_visible()
    # and with 4242 4242 4242 4242 the payment goes through
    pay_with_card(portal, "4242 4242 4242 4242")
    expect(
        portal.get_by_role("heading", name="Thank you, your payment was received")
    ).to_be_visible()
    expect(portal.locator("#checkout-status")).to_contain_text("$450.00")  # still due

    # then her receipt shows the payment against the invoice
    portal.get_by_role("link", name="View receipt").click()
    expect(portal.locator("main")).to_contain_text("$300.00")
    expect(portal.locator("main")).to_contain_text(invoice.number)
    # and the invoice is partially paid
    portal.goto(f"/portal/{access.organization.portal_name}/invoices/{invoice.pk}/")
    expect(portal.locator(".portal-document-head .badge").first).to_contain_text("Partially paid")

    # when she pays the rest from the invoice's page (the balance is the default)
    portal.get_by_role("link", name="Pay now").click()
    expect(portal.locator("#pay-total")).to_have_text("$450.00")
    portal.get_by_role("button", name="Continue to payment").click()
    pay_with_card(portal, "4242 4242 4242 4242")
    expect(
        portal.get_by_role("heading", name="Thank you, your payment was received")
    ).to_be_visible()

    # then the invoice is paid, with no Pay now left
    portal.goto(f"/portal/{access.organization.portal_name}/invoices/{invoice.pk}/")
    expect(portal.locator(".portal-document-head .badge").first).to_contain_text("Paid")
    expect(portal.get_by_role("link", name="Pay now")).to_have_count(0)
    # and a receipt for each payment is in the outbox for her
    assert OutboundEmail.objects.filter(to_email="ada@engines.example").count() == 2

    # and staff see both payments on the invoice, by the test gateway, with references
    payments = list(Payment.objects.filter(customer=access.customer).order_by("id"))
    assert [payment.provider for payment in payments] == ["test", "test"]
    staff = staff_page
    staff.goto(f"/app/invoices/{invoice.pk}/")
    received = staff.get_by_role("region", name="Payments received")
    for payment in payments:
        expect(received).to_contain_text(payment.number)
        expect(received).to_contain_text(payment.provider_reference)
    # and in Payments received, marked Online · Test gateway
    staff.goto("/app/payments/")
    for payment in payments:
        staff_row = staff.get_by_role("row", name=re.compile(payment.number))
        expect(staff_row).to_contain_text("Online · Test gateway")
        expect(staff_row).to_contain_text(payment.provider_reference)
    # and the payment's page tells where it came from
    staff.get_by_role("link", name=payments[0].number).click()
    expect(staff.get_by_role("region", name="Paid online")).to_contain_text("Test gateway")
    expect(staff.get_by_role("region", name="Paid online")).to_contain_text("Ada Lovelace")
    # and the notification is there for staff
    staff.goto("/app/notifications/")
    expect(staff.locator("main")).to_contain_text(invoice.number)
