"""Customer journeys in Chromium, through the real server: what a person clicks and reads."""

import re

import pytest
from playwright.sync_api import Page, expect

from portico.customers.models import Customer
from portico.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_adds_a_customer_with_contacts_changes_it_and_finds_it(
    staff_page: Page, organization
):
    # given a signed-in owner whose organisation already has two other customers
    page = staff_page
    CustomerFactory(organization=organization, display_name="Globex GmbH")
    CustomerFactory(organization=organization, display_name="Initech Ltd")
    menu = page.get_by_role("navigation", name="Main menu")

    # when they open Sales → Customers from the menu and start a new customer
    menu.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    page.get_by_role("link", name="New").click()
    expect(page.get_by_role("heading", name="New customer", level=1)).to_be_visible()

    # and fill in the primary details
    primary = page.get_by_role("region", name="Primary details")
    primary.get_by_label("Display name").fill("Acme Rockets")
    primary.get_by_label("Company name").fill("Acme Rockets Inc.")
    primary.get_by_label("E-mail").fill("billing@acme-rockets.example")
    primary.get_by_label("Phone").fill("+1 555 0100")

    # and two contact persons, the second in a row added with the button, marked primary
    contacts = page.get_by_role("region", name="Contact persons")
    first = contacts.get_by_role("group", name="Contact person 1")
    first.get_by_label("First name").fill("Wile")
    first.get_by_label("Last name").fill("Coyote")
    first.get_by_label("E-mail").fill("wile@acme-rockets.example")
    contacts.get_by_role("button", name="Add contact person").click()
    second = contacts.get_by_role("group", name="Contact person 2")
    second.get_by_label("First name").fill("Road")
    second.get_by_label("Last name").fill("Runner")
    second.get_by_label("Designation").fill("Purchasing")
    second.get_by_label("Primary contact").check()
    page.get_by_role("button", name="Save").click()

    # then the customer's overview shows what they entered
    expect(page.get_by_role("alert")).to_contain_text("Customer Acme Rockets created.")
    expect(page.get_by_role("heading", name="Acme Rockets", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Primary details")).to_contain_text(
        "billing@acme-rockets.example"
    )
    people = page.get_by_role("region", name="Contact persons (2)")
    expect(people.get_by_role("row", name=re.compile("Road Runner"))).to_contain_text("Primary")
    expect(people.get_by_role("row", name=re.compile("Wile Coyote"))).not_to_contain_text("Primary")

    # when they edit it and change the portal language in Other details
    page.get_by_role("main").get_by_role("link", name=re.compile(r"^\W*Edit$")).click()
    other = page.get_by_role("region", name="Other details")
    other.get_by_label("Portal language").select_option(label="German")
    page.get_by_role("button", name="Save").click()

    # then the overview reads the new language
    expect(page.get_by_role("alert")).to_contain_text("Customer Acme Rockets saved.")
    expect(page.get_by_role("region", name="Other details")).to_contain_text(
        re.compile(r"Portal language\s+German"), use_inner_text=True
    )

    # when they go back to the list and type into the search box
    menu.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("link", name="Globex GmbH")).to_be_visible()
    page.get_by_role("searchbox", name="Search").press_sequentially("rocket")

    # then the list narrows to the customer found, without reloading the page
    expect(page.get_by_role("link", name="Globex GmbH")).to_have_count(0)
    expect(page.get_by_role("link", name="Initech Ltd")).to_have_count(0)
    expect(page.get_by_role("link", name="Acme Rockets")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/app/customers/\?q=rocket$"))
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()


def test_staff_marks_every_matching_customer_inactive_from_the_selection_bar(
    staff_page: Page, organization
):
    # given 55 active customers: more than the 50 a page shows
    page = staff_page
    CustomerFactory.create_batch(55, organization=organization)
    elsewhere = CustomerFactory()  # another organisation's customer
    page.goto("/app/customers/")
    expect(page.get_by_text("1–50 of 55")).to_be_visible()
    expect(page.get_by_text("50 selected")).to_be_hidden()

    # when they tick the box that selects the whole page
    page.get_by_role("checkbox", name="Select all on this page").check()

    # then the selection bar appears and offers every matching customer
    expect(page.get_by_text("50 selected")).to_be_visible()
    page.get_by_role("link", name="Select all 55 matching customers").click()
    expect(page.get_by_text("All 55 matching customers selected")).to_be_visible()

    # when they choose More → Mark as inactive
    page.get_by_role("button", name="More").click()
    page.get_by_role("button", name="Mark as inactive").click()

    # then all 55 are inactive, not only the 50 on the page, and nobody else's
    expect(page.get_by_role("alert")).to_contain_text("55 customers updated.")
    expect(page.get_by_text("No customers match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option(label="Inactive")
    expect(page.get_by_text("1–50 of 55")).to_be_visible()
    assert not Customer.objects.filter(organization=organization, is_active=True).exists()
    elsewhere.refresh_from_db()
    assert elsewhere.is_active
