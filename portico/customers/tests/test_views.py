from unittest import mock

import factory
import pytest
from django.contrib.messages import get_messages
from django.db.models import ProtectedError
from django.urls import reverse

from portico.customers.models import ContactPerson, Customer
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:list")
CREATE = reverse("customers:create")
BULK = reverse("customers:bulk")
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "customer-results"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def template_names(response) -> set[str]:
    return {template.name for template in response.templates}


def listed(response) -> list[str]:
    return [customer.display_name for customer in response.context["page"].object_list]


def customer_form_data(*, contacts: list[dict] = (), initial_forms: int = 0, **fields) -> dict:
    """What the browser posts: the customer's fields and the contacts formset."""
    data = {
        "customer_type": "business",
        "display_name": "Northwind Traders",
        "company_name": "Northwind Holding",
        "email": "billing@northwind.example",
        "phone": "+49 30 123",
        "website": "northwind.example",
        "currency": "EUR",
        "payment_terms": "30",
        "portal_language": "en",
        "notes": "",
        "billing_city": "Berlin",
        "contacts-TOTAL_FORMS": str(len(contacts)),
        "contacts-INITIAL_FORMS": str(initial_forms),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    } | fields
    for index, contact in enumerate(contacts):
        for name, value in contact.items():
            if value is True:
                value = "on"
            if value is not False:
                data[f"contacts-{index}-{name}"] = value
    return data


def contact_row(contact: ContactPerson, **changes) -> dict:
    """A formset row for an existing contact, as the edit page renders it."""
    return {
        "id": str(contact.pk),
        "salutation": contact.salutation,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "mobile": contact.mobile,
        "designation": contact.designation,
        "is_primary": contact.is_primary,
    } | changes


# --- create -------------------------------------------------------------------


def test_create_page_shows_the_form(staff_client):
    response = staff_client.get(CREATE)

    assert response.status_code == 200
    assert "New customer" in response.text
    assert 'name="contacts-TOTAL_FORMS"' in response.text


def test_create_a_customer_with_two_contacts(staff_client, organization):
    # when
    response = staff_client.post(
        CREATE,
        customer_form_data(
            contacts=[
                {"first_name": "Greta", "last_name": "Garbo", "email": "Greta@NW.example"},
                {"first_name": "Max", "email": "max@nw.example", "is_primary": True},
            ]
        ),
    )

    # then
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("customers:detail", args=[customer.pk])
    assert messages_of(response) == ["Customer Northwind Traders created."]
    assert customer.organization == organization
    assert customer.currency == "EUR"
    assert customer.website == "https://northwind.example"
    assert customer.billing_city == "Berlin"
    contacts = list(customer.contacts.values_list("first_name", "email", "is_primary"))
    assert contacts == [("Max", "max@nw.example", True), ("Greta", "greta@nw.example", False)]


def test_without_a_primary_contact_the_first_becomes_primary(staff_client):
    # when
    staff_client.post(
        CREATE,
        customer_form_data(contacts=[{"first_name": "Zoe"}, {"first_name": "Adam"}]),
    )

    # then
    assert ContactPerson.objects.get(is_primary=True).first_name == "Zoe"


def test_an_untouched_blank_contact_row_is_ignored(staff_client):
    # when
    response = staff_client.post(
        CREATE, customer_form_data(contacts=[{"first_name": "Zoe"}, {"first_name": ""}])
    )

    # then
    assert response.status_code == 302
    assert list(ContactPerson.objects.values_list("first_name", flat=True)) == ["Zoe"]


@pytest.mark.parametrize(
    ("contacts", "field_errors", "non_form_errors"),
    [
        pytest.param(
            [
                {"first_name": "A", "email": "same@example.com"},
                {"first_name": "B", "email": "SAME@example.com"},
            ],
            [{}, {"email": ["Another contact person of this customer has this e-mail."]}],
            [],
            id="duplicate e-mails",
        ),
        pytest.param(
            [{"first_name": "A", "is_primary": True}, {"first_name": "B", "is_primary": True}],
            [{}, {}],
            ["Only one contact person can be the primary contact."],
            id="two primaries",
        ),
        pytest.param(
            [{"first_name": "A", "email": "not-an-email"}],
            [{"email": ["Enter a valid email address."]}],
            [],
            id="malformed e-mail",
        ),
        pytest.param(
            [{"last_name": "Nofirstname"}],
            [{"first_name": ["This field is required."]}],
            [],
            id="missing first name",
        ),
    ],
)
def test_contact_errors_show_on_the_form_and_nothing_is_saved(
    staff_client, contacts, field_errors, non_form_errors
):
    # when
    response = staff_client.post(CREATE, customer_form_data(contacts=contacts))

    # then
    assert response.status_code == 422
    formset = response.context["formset"]
    assert [dict(form.errors) for form in formset.forms] == field_errors
    assert list(formset.non_form_errors()) == non_form_errors
    assert "Please correct the errors below." in response.text
    assert not Customer.objects.exists()
    assert not ContactPerson.objects.exists()


def test_customer_field_errors_show_on_the_form(staff_client):
    # when
    response = staff_client.post(
        CREATE, customer_form_data(display_name="", email="nope", currency="XXX")
    )

    # then
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"display_name", "email", "currency"}
    assert not Customer.objects.exists()


# --- edit ---------------------------------------------------------------------


@pytest.fixture
def customer(organization):
    customer = CustomerFactory(organization=organization, display_name="Northwind Traders")
    ContactPersonFactory(customer=customer, first_name="Anna", email="anna@x.example")
    ContactPersonFactory(customer=customer, first_name="Ben", email="ben@x.example")
    return customer


def test_edit_page_shows_the_contacts(staff_client, customer):
    # when
    response = staff_client.get(reverse("customers:edit", args=[customer.pk]))

    # then
    assert response.status_code == 200
    formset = response.context["formset"]
    assert [form.initial["first_name"] for form in formset.forms] == ["Anna", "Ben"]
    assert 'value="anna@x.example"' in response.text


def test_edit_adds_changes_and_removes_contacts_and_changes_portal_language(staff_client, customer):
    # given
    anna = customer.contacts.get(first_name="Anna")
    ben = customer.contacts.get(first_name="Ben")

    # when
    response = staff_client.post(
        reverse("customers:edit", args=[customer.pk]),
        customer_form_data(
            display_name="Northwind Renamed",
            portal_language="ja",
            initial_forms=2,
            contacts=[
                contact_row(anna, last_name="Andersson", email="anna@new.example"),
                contact_row(ben, DELETE=True),
                {"first_name": "Carla", "email": "carla@x.example", "is_primary": True},
            ],
        ),
    )

    # then
    assert response.status_code == 302
    assert messages_of(response) == ["Customer Northwind Renamed saved."]
    customer.refresh_from_db()
    assert customer.display_name == "Northwind Renamed"
    assert customer.portal_language == "ja"
    assert list(
        customer.contacts.values_list("first_name", "last_name", "email", "is_primary")
    ) == [
        ("Carla", "", "carla@x.example", True),
        ("Anna", "Andersson", "anna@new.example", False),
    ]
    assert customer.contacts.filter(pk=anna.pk, last_name="Andersson").exists()
    assert not ContactPerson.objects.filter(pk=ben.pk).exists()
    detail = staff_client.get(response.url)
    assert "anna@new.example" in detail.text
    assert "ben@x.example" not in detail.text


@pytest.mark.parametrize("owner", ["same organisation", "other organisation"])
def test_edit_refuses_a_contact_id_of_another_customer(staff_client, customer, owner):
    # given
    other = (
        CustomerFactory(organization=customer.organization)
        if owner == "same organisation"
        else CustomerFactory()
    )
    foreign = ContactPersonFactory(customer=other, first_name="Foreign")

    # when
    response = staff_client.post(
        reverse("customers:edit", args=[customer.pk]),
        customer_form_data(
            display_name="Changed",
            initial_forms=1,
            contacts=[contact_row(foreign, first_name="Hijacked")],
        ),
    )

    # then
    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == [
        "A contact person in this form does not belong to this customer."
    ]
    foreign.refresh_from_db()
    assert (foreign.customer, foreign.first_name) == (other, "Foreign")
    customer.refresh_from_db()
    assert customer.display_name == "Northwind Traders"
    assert customer.contacts.count() == 2


# --- detail, set active, delete -----------------------------------------------


def test_detail_page_shows_the_customer_and_contacts(staff_client, customer):
    # when
    response = staff_client.get(reverse("customers:detail", args=[customer.pk]))

    # then
    assert response.status_code == 200
    assert "Northwind Traders" in response.text
    assert "anna@x.example" in response.text
    assert response.context["customer"].contact_count == 2


def test_set_inactive_and_active_again(staff_client, customer):
    # given
    url = reverse("customers:set_active", args=[customer.pk])

    # when
    inactive = staff_client.post(url, {"active": "0"})

    # then
    customer.refresh_from_db()
    assert not customer.is_active
    assert messages_of(inactive) == ["Northwind Traders is inactive."]

    # when
    active = staff_client.post(url, {"active": "1"})

    # then
    customer.refresh_from_db()
    assert customer.is_active
    assert active.url == reverse("customers:detail", args=[customer.pk])


def test_delete_a_customer_without_documents(staff_client, customer):
    # when
    response = staff_client.post(reverse("customers:delete", args=[customer.pk]))

    # then
    assert response.status_code == 302
    assert response.url == LIST
    assert messages_of(response) == ["Customer Northwind Traders deleted."]
    assert not Customer.objects.exists()
    assert not ContactPerson.objects.exists()


def test_delete_a_customer_with_documents_is_refused_with_a_clear_message(staff_client, customer):
    # given: documents arrive in a later issue, with an on_delete=PROTECT foreign key
    # to Customer; until then Customer.delete is patched to raise the ProtectedError
    # such a key raises (a contact person stands in for the protected document).
    protected = ProtectedError("protected", [customer.contacts.first()])

    # when
    with mock.patch.object(Customer, "delete", side_effect=protected):
        response = staff_client.post(reverse("customers:delete", args=[customer.pk]), follow=True)

    # then
    assert response.redirect_chain == [(reverse("customers:detail", args=[customer.pk]), 302)]
    assert messages_of(response) == [
        "Northwind Traders cannot be deleted because it has contact persons. "
        "Mark it as inactive instead."
    ]
    assert "Mark it as inactive instead." in response.text
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_delete_needs_post(staff_client, customer):
    response = staff_client.get(reverse("customers:delete", args=[customer.pk]))

    assert response.status_code == 405
    assert Customer.objects.exists()


# --- multi-tenancy ------------------------------------------------------------


@pytest.fixture
def theirs():
    """A customer of another organisation, with a contact."""
    customer = CustomerFactory(display_name="Their Customer", is_active=True)
    ContactPersonFactory(customer=customer, email="their-contact@example.com")
    return customer


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("get", "customers:detail", None),
        ("get", "customers:edit", None),
        ("post", "customers:edit", customer_form_data(display_name="Hijacked")),
        ("post", "customers:set_active", {"active": "0"}),
        ("post", "customers:delete", None),
    ],
)
def test_another_organisations_customer_is_not_found(staff_client, theirs, method, name, data):
    # when
    response = getattr(staff_client, method)(reverse(name, args=[theirs.pk]), data)

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.display_name == "Their Customer"
    assert theirs.is_active
    assert theirs.contacts.count() == 1


def test_the_list_never_shows_another_organisations_customers(staff_client, customer, theirs):
    # when
    everything = staff_client.get(LIST, {"status": "all"})
    searched = staff_client.get(LIST, {"q": "their"})

    # then
    assert listed(everything) == ["Northwind Traders"]
    assert "Their Customer" not in everything.text
    assert listed(searched) == []


def test_bulk_action_with_another_organisations_ids_changes_nothing_there(
    staff_client, customer, theirs
):
    # when
    response = staff_client.post(
        BULK, {"action": "mark_inactive", "ids": [str(theirs.pk), str(customer.pk)]}
    )

    # then
    assert messages_of(response) == ["1 customer updated."]
    theirs.refresh_from_db()
    customer.refresh_from_db()
    assert theirs.is_active
    assert not customer.is_active


def test_bulk_action_on_all_matching_changes_nothing_in_another_organisation(
    staff_client, customer, theirs
):
    # when
    staff_client.post(BULK, {"action": "mark_inactive", "all_matching": "1", "status": "all"})

    # then
    theirs.refresh_from_db()
    assert theirs.is_active


# --- the list: search, filters, sorting, pages, htmx -----------------------------


@pytest.mark.parametrize(
    "query",
    ["northwind", "NORTHWIND TRA", "holding", "billing@northwind", "30 123", "greta@nw.example"],
)
def test_search_by_name_company_email_phone_and_contact_email(staff_client, query):
    # given: made through the form, as staff do
    staff_client.post(
        CREATE, customer_form_data(contacts=[{"first_name": "Greta", "email": "greta@nw.example"}])
    )
    CustomerFactory(organization=Customer.objects.get().organization, display_name="Other")

    # when
    response = staff_client.get(LIST, {"q": query})

    # then
    assert listed(response) == ["Northwind Traders"]


def test_a_search_without_results_says_so(staff_client, customer):
    response = staff_client.get(LIST, {"q": "zebra"})

    assert listed(response) == []
    assert "No customers match “zebra”." in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Active Euro Business", "German Person"]),
        ({"status": "inactive"}, ["Dormant"]),
        ({"status": "all"}, ["Active Euro Business", "Dormant", "German Person"]),
        ({"currency": "eur"}, ["Active Euro Business"]),
        ({"portal_language": "de"}, ["German Person"]),
        ({"customer_type": "individual"}, ["German Person"]),
        ({"customer_type": "business", "status": "all"}, ["Active Euro Business", "Dormant"]),
    ],
)
def test_filters(staff_client, organization, query, expected):
    # given
    CustomerFactory(organization=organization, display_name="Active Euro Business", currency="EUR")
    CustomerFactory(
        organization=organization,
        display_name="German Person",
        portal_language="de",
        customer_type="individual",
    )
    CustomerFactory(organization=organization, display_name="Dormant", is_active=False)

    # when
    response = staff_client.get(LIST, query)

    # then
    assert listed(response) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("company", ["Charlie", "Alpha", "Bravo"]),
        ("email", ["Bravo", "Charlie", "Alpha"]),
        ("-created", ["Charlie", "Alpha", "Bravo"]),
        ("nonsense", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_sorting(staff_client, organization, sort, expected):
    # given: created in the order Bravo, Alpha, Charlie
    for name, company, email in [
        ("Bravo", "c", "a@x.example"),
        ("Alpha", "b", "c@x.example"),
        ("Charlie", "a", "b@x.example"),
    ]:
        CustomerFactory(
            organization=organization, display_name=name, company_name=company, email=email
        )

    # when
    response = staff_client.get(LIST, {"sort": sort})

    # then
    assert listed(response) == expected


def test_the_list_shows_50_customers_a_page(staff_client, organization):
    # given
    CustomerFactory.create_batch(51, organization=organization)

    # when
    first = staff_client.get(LIST)
    second = staff_client.get(LIST, {"page": "2"})
    beyond = staff_client.get(LIST, {"page": "99"})

    # then
    assert len(listed(first)) == 50
    assert len(listed(second)) == 1
    assert set(listed(first)).isdisjoint(listed(second))
    assert "1–50 of 51" in first.text
    assert "Page 2 of 2" in second.text
    assert listed(beyond) == listed(second)


def test_the_htmx_search_answers_with_the_results_only(staff_client, customer):
    # when
    response = staff_client.get(LIST, {"q": "northwind"}, headers=HTMX_RESULTS)

    # then
    assert response.status_code == 200
    assert "customers/partials/_customer_results.html" in template_names(response)
    assert "customers/customer_list.html" not in template_names(response)
    assert "<html" not in response.text
    assert "Northwind Traders" in response.text


def test_an_htmx_request_for_another_target_gets_the_whole_page(staff_client, customer):
    # when
    response = staff_client.get(LIST, headers={"HX-Request": "true", "HX-Target": "main"})

    # then
    assert "customers/customer_list.html" in template_names(response)


# --- bulk actions -------------------------------------------------------------


def test_bulk_mark_ticked_customers_inactive(staff_client, organization):
    # given
    ticked = CustomerFactory.create_batch(2, organization=organization)
    untouched = CustomerFactory(organization=organization)

    # when
    response = staff_client.post(
        BULK, {"action": "mark_inactive", "ids": [str(c.pk) for c in ticked], "q": "customer"}
    )

    # then
    assert response.status_code == 302
    assert response.url == f"{LIST}?q=customer"
    assert messages_of(response) == ["2 customers updated."]
    assert set(Customer.objects.filter(is_active=False)) == set(ticked)
    untouched.refresh_from_db()
    assert untouched.is_active


def test_bulk_mark_all_matching_applies_to_every_page_and_only_to_matches(
    staff_client, organization
):
    # given: 60 customers match the search (more than a page), 5 do not
    matching = CustomerFactory.create_batch(
        60, organization=organization, display_name=factory.Sequence(lambda n: f"Acme {n}")
    )
    CustomerFactory.create_batch(5, organization=organization)

    # when
    response = staff_client.post(
        BULK,
        {
            "action": "mark_inactive",
            "all_matching": "1",
            "q": "acme",
            "ids": [str(matching[0].pk)],  # what was ticked on the page does not matter
        },
    )

    # then
    assert messages_of(response) == ["60 customers updated."]
    assert set(Customer.objects.filter(is_active=False)) == set(matching)
    assert Customer.objects.filter(is_active=True).count() == 5


def test_bulk_mark_active_again(staff_client, organization):
    # given
    dormant = CustomerFactory.create_batch(3, organization=organization, is_active=False)

    # when
    staff_client.post(BULK, {"action": "mark_active", "all_matching": "1", "status": "inactive"})

    # then
    assert all(Customer.objects.get(pk=c.pk).is_active for c in dormant)


def test_bulk_without_an_action_asks_for_one(staff_client, customer):
    # when
    response = staff_client.post(BULK, {"ids": [str(customer.pk)]})

    # then
    assert messages_of(response) == ["Choose an action."]
    customer.refresh_from_db()
    assert customer.is_active


# --- query counts -------------------------------------------------------------


def make_customers(organization, count: int) -> None:
    for customer in CustomerFactory.create_batch(count, organization=organization):
        ContactPersonFactory(customer=customer)


# session, user, membership + organisation, count, page of customers,
# the organisation switcher's memberships
LIST_QUERIES = 6


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_page_needs_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_customers(organization, count)

    # when / then
    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(LIST, {"q": "customer", "sort": "-created"})
    assert len(listed(response)) == min(count, 50)


@pytest.mark.parametrize("count", [3, 60])
def test_the_htmx_results_need_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_customers(organization, count)

    # when / then: no page layout, so no organisation switcher
    with django_assert_num_queries(LIST_QUERIES - 1):
        staff_client.get(LIST, headers=HTMX_RESULTS)


# session, user, membership + organisation, customer with contact count,
# its contacts, the organisation switcher's memberships
DETAIL_QUERIES = 6


@pytest.mark.parametrize("contact_count", [1, 30])
def test_the_detail_page_needs_the_same_queries_for_few_and_many_contacts(
    staff_client, organization, django_assert_num_queries, contact_count
):
    # given
    customer = CustomerFactory(organization=organization)
    ContactPersonFactory.create_batch(contact_count, customer=customer)

    # when / then
    with django_assert_num_queries(DETAIL_QUERIES):
        response = staff_client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.context["customer"].contact_count == contact_count
