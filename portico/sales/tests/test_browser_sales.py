"""The sales journey in Chromium, through the real server: quote → invoice → payment → PDF."""

import io
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portico.catalog.tests.factories import ItemFactory, TaxFactory
from portico.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_quotes_a_customer_invoices_it_and_records_a_partial_payment(
    staff_page: Page, organization
):
    # given a customer paying in euros at 30 days, another whose name also
    # matches the search, and two catalog items, one taxed at 20 %
    page = staff_page
    CustomerFactory(
        organization=organization, display_name="Acme Rockets", currency="EUR", payment_terms=30
    )
    CustomerFactory(organization=organization, display_name="Acme Anvils", currency="USD")
    vat = TaxFactory(organization=organization, name="VAT", rate=Decimal("20.000"))
    ItemFactory(
        organization=organization,
        name="Consulting day",
        unit="day",
        rate=Decimal("120.00"),
        tax=vat,
    )
    ItemFactory(organization=organization, name="Training kit", unit="pcs", rate=Decimal("35.00"))
    # worked by hand: 2 × 120.00 = 240.00 (+ 20 % = 48.00) and 3 × 50.00 = 150.00 untaxed
    subtotal, tax, total = "390.00", "48.00", "438.00"
    paid, balance_due = "200.00", "€238.00"
    menu = page.get_by_role("navigation", name="Main menu")

    # when they open Sales → Quotes from the menu and start a new quote
    menu.get_by_role("link", name="Quotes").click()
    expect(page.get_by_role("heading", name="Quotes", level=1)).to_be_visible()
    page.get_by_role("link", name="New").click()
    expect(page.get_by_role("heading", name="New quote", level=1)).to_be_visible()

    # and find the customer through the picker's search box
    page.get_by_role("searchbox", name="Search customers").fill("acme")
    customer = page.get_by_role("combobox", name="Customer", exact=True)
    expect(customer).to_contain_text("2 matches — choose one")
    customer.select_option(label="Acme Rockets (EUR)")

    # and fill the first line by choosing an item, which brings its rate, unit and tax
    page.get_by_label("Item, line 1").select_option(label="Consulting day")
    expect(page.get_by_label("Description, line 1")).to_have_value("Consulting day")
    expect(page.get_by_label("Rate, line 1")).to_have_value("120")
    expect(page.get_by_label("Unit, line 1")).to_have_value("day")
    expect(page.get_by_label("Tax, line 1")).to_have_value(str(vat.pk))
    page.get_by_label("Quantity, line 1").fill("2")

    # and add a second, free-text line
    page.get_by_role("button", name="Add line").click()
    page.get_by_label("Description, line 2").fill("On-site setup")
    page.get_by_label("Quantity, line 2").fill("3")
    page.get_by_label("Rate, line 2").fill("50")

    # then the totals under the lines follow what they typed
    expect(page.get_by_role("row", name=re.compile(r"^Subtotal"))).to_contain_text(subtotal)
    expect(page.get_by_role("row", name=re.compile(r"^Tax"))).to_contain_text(tax)
    expect(page.get_by_role("row", name=re.compile(r"^Total"))).to_contain_text(total)

    # when they save the quote
    page.get_by_role("button", name="Save").click()

    # then the quote shows the same totals, in euros
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"Quote \S+ created\."))
    heading = page.get_by_role("heading", name=re.compile(r"^Quote "), level=1)
    quote_number = heading.inner_text().removeprefix("Quote ")
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    lines = page.get_by_role("region", name="Items")
    expect(lines.get_by_role("row", name=re.compile(r"^Total"))).to_contain_text(f"€{total}")

    # when they mark it as sent, then convert it to an invoice
    page.get_by_role("button", name="Mark as sent").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Quote {quote_number} marked as sent.")
    expect(page.get_by_text("Sent", exact=True)).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^\W*Convert$")).click()
    page.get_by_role("button", name="Convert to invoice").click()

    # then they are on the new draft invoice, due in the customer's 30 days
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(rf"Quote {quote_number} converted to invoice \S+\.")
    )
    heading = page.get_by_role("heading", name=re.compile(r"^Invoice "), level=1)
    invoice_number = heading.inner_text().removeprefix("Invoice ")
    details = page.get_by_role("region", name="Invoice details")
    expect(details).to_contain_text("Acme Rockets")
    expect(details).to_contain_text("30 days")
    expect(details).to_contain_text(quote_number)
    expect(page.get_by_role("region", name="Balance")).to_contain_text(
        re.compile(rf"Balance due\s*€{total}")
    )

    # when they mark the invoice as sent and record a partial payment against it
    page.get_by_role("button", name="Mark as sent").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Invoice {invoice_number} marked as sent.")
    expect(page.get_by_text("Sent", exact=True)).to_be_visible()
    page.get_by_role("link", name="Record payment").click()
    expect(page.get_by_role("heading", name="Record payment", level=1)).to_be_visible()
    expect(page.get_by_role("combobox", name="Customer", exact=True)).to_contain_text(
        "Acme Rockets"
    )
    page.get_by_label("Amount received").fill(paid)
    page.get_by_label(f"Amount to apply, {invoice_number}").fill(paid)
    page.get_by_role("button", name="Save payment").click()

    # then the payment is recorded and applied to the invoice
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(rf"Payment \S+ of €{paid} recorded\.")
    )
    applied = page.get_by_role("region", name="Applied to invoices")
    applied.get_by_role("link", name=invoice_number).click()

    # and the invoice is partially paid, with the rest still due
    expect(page.get_by_role("heading", name=f"Invoice {invoice_number}", level=1)).to_be_visible()
    expect(page.get_by_text("Partially paid", exact=True)).to_be_visible()
    balance = page.get_by_role("region", name="Balance")
    expect(balance).to_contain_text(re.compile(rf"Amount paid\s*−€{paid}"))
    expect(balance).to_contain_text(re.compile(rf"Balance due\s*{balance_due}"))

    # when they download the invoice's PDF
    href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    response = page.request.get(href)

    # then it is the invoice, for this customer
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(
        pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(response.body())).pages
    )
    assert invoice_number in text
    assert "Acme Rockets" in text
