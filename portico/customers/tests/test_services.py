from unittest import mock

import pytest
from django.db.models import ProtectedError

from portico.customers import services
from portico.customers.models import ContactPerson, Customer
from portico.customers.services import ContactData
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def contacts_of(customer: Customer) -> list[tuple[str, str, bool]]:
    return [
        (contact.first_name, contact.email, contact.is_primary)
        for contact in customer.contacts.order_by("first_name")
    ]


# --- customer_create ----------------------------------------------------------


def test_create_saves_the_customer_with_its_contacts(organization):
    # when
    customer = services.customer_create(
        organization=organization,
        display_name="Northwind Traders",
        email="billing@northwind.example",
        contacts=[
            ContactData(first_name=" Greta ", email=" Greta@Northwind.example "),
            ContactData(first_name="Max", is_primary=True),
        ],
    )

    # then
    customer.refresh_from_db()
    assert customer.organization == organization
    assert contacts_of(customer) == [
        ("Greta", "greta@northwind.example", False),
        ("Max", "", True),
    ]
    assert all(contact.organization == organization for contact in customer.contacts.all())
    assert "greta@northwind.example" in customer.search_text
    assert "northwind traders" in customer.search_text


def test_create_uses_the_organisations_currency_unless_told(organization):
    # given
    organization.base_currency = "JPY"

    # when
    default = services.customer_create(organization=organization, display_name="A")
    chosen = services.customer_create(organization=organization, display_name="B", currency="EUR")

    # then
    assert default.currency == "JPY"
    assert chosen.currency == "EUR"


def test_the_first_contact_becomes_primary_when_none_is_marked(organization):
    # when
    customer = services.customer_create(
        organization=organization,
        display_name="Northwind",
        contacts=[ContactData(first_name="Zoe"), ContactData(first_name="Adam")],
    )

    # then
    assert customer.contacts.get(is_primary=True).first_name == "Zoe"


def test_two_primary_contacts_are_refused(organization):
    # when / then
    with pytest.raises(services.CustomerError, match="Only one contact person"):
        services.customer_create(
            organization=organization,
            display_name="Northwind",
            contacts=[
                ContactData(first_name="A", is_primary=True),
                ContactData(first_name="B", is_primary=True),
            ],
        )
    assert not Customer.objects.exists()


def test_two_contacts_with_one_email_in_any_case_are_refused(organization):
    # when / then
    with pytest.raises(services.CustomerError, match="a@example.com is used by two"):
        services.customer_create(
            organization=organization,
            display_name="Northwind",
            contacts=[
                ContactData(first_name="A", email="a@example.com"),
                ContactData(first_name="B", email="A@Example.com "),
            ],
        )
    assert not Customer.objects.exists()
    assert not ContactPerson.objects.exists()


def test_contacts_without_email_are_not_duplicates(organization):
    # when
    customer = services.customer_create(
        organization=organization,
        display_name="Northwind",
        contacts=[ContactData(first_name="A"), ContactData(first_name="B")],
    )

    # then
    assert customer.contacts.count() == 2


# --- customer_update ----------------------------------------------------------


@pytest.fixture
def customer(organization):
    return services.customer_create(
        organization=organization,
        display_name="Northwind",
        contacts=[
            ContactData(first_name="Anna", email="anna@example.com", is_primary=True),
            ContactData(first_name="Ben", email="ben@example.com"),
        ],
    )


def data_of(contact: ContactPerson, **changes) -> ContactData:
    fields = {name: getattr(contact, name) for name in services.CONTACT_FIELDS}
    return ContactData(id=contact.pk, **(fields | changes))


def test_update_adds_changes_and_removes_contacts(customer):
    # given
    anna = customer.contacts.get(first_name="Anna")

    # when: Anna changes and stops being primary, Ben goes, Carla comes as primary
    services.customer_update(
        customer=customer,
        display_name="Northwind Traders",
        portal_language="de",
        contacts=[
            data_of(anna, email="anna@new.example", is_primary=False),
            ContactData(first_name="Carla", email="carla@example.com", is_primary=True),
        ],
    )

    # then
    customer.refresh_from_db()
    assert customer.display_name == "Northwind Traders"
    assert customer.portal_language == "de"
    assert contacts_of(customer) == [
        ("Anna", "anna@new.example", False),
        ("Carla", "carla@example.com", True),
    ]
    assert customer.contacts.get(first_name="Anna").pk == anna.pk
    assert "ben@example.com" not in customer.search_text
    assert "carla@example.com" in customer.search_text


def test_update_without_contacts_leaves_them_alone(customer):
    # when
    services.customer_update(customer=customer, display_name="Renamed", contacts=None)

    # then
    customer.refresh_from_db()
    assert customer.contacts.count() == 2
    assert customer.search_text.startswith("renamed")
    assert "anna@example.com" in customer.search_text


def test_update_with_an_empty_list_removes_all_contacts(customer):
    # when
    services.customer_update(customer=customer, contacts=[])

    # then
    assert not customer.contacts.exists()


def test_two_contacts_can_swap_their_emails(customer):
    # given
    anna = customer.contacts.get(first_name="Anna")
    ben = customer.contacts.get(first_name="Ben")

    # when
    services.customer_update(
        customer=customer,
        contacts=[data_of(anna, email=ben.email), data_of(ben, email=anna.email)],
    )

    # then
    assert contacts_of(customer) == [
        ("Anna", "ben@example.com", True),
        ("Ben", "anna@example.com", False),
    ]


def test_a_contact_can_take_the_email_of_one_removed_in_the_same_change(customer):
    # given
    anna = customer.contacts.get(first_name="Anna")

    # when: Ben is removed and his e-mail goes to a new contact
    services.customer_update(
        customer=customer,
        contacts=[data_of(anna), ContactData(first_name="Bea", email="ben@example.com")],
    )

    # then
    assert contacts_of(customer) == [
        ("Anna", "anna@example.com", True),
        ("Bea", "ben@example.com", False),
    ]


@pytest.mark.parametrize("owner", ["same organisation", "other organisation"])
def test_a_contact_id_of_another_customer_is_refused(customer, owner):
    # given
    other_customer = (
        CustomerFactory(organization=customer.organization)
        if owner == "same organisation"
        else CustomerFactory()
    )
    foreign = ContactPersonFactory(customer=other_customer, first_name="Foreign")

    # when / then
    with pytest.raises(services.CustomerError, match="does not belong to this customer"):
        services.customer_update(
            customer=customer,
            display_name="Changed",
            contacts=[data_of(foreign, first_name="Hijacked")],
        )
    foreign.refresh_from_db()
    assert foreign.customer == other_customer
    assert foreign.first_name == "Foreign"
    assert Customer.objects.get(pk=customer.pk).display_name == "Northwind"
    assert customer.contacts.count() == 2


# --- customer_set_active / customer_delete ------------------------------------


def test_set_active_changes_only_those_that_differ(organization):
    # given
    CustomerFactory.create_batch(2, organization=organization, is_active=True)
    CustomerFactory(organization=organization, is_active=False)

    # when
    changed = services.customer_set_active(
        customers=Customer.objects.filter(organization=organization), active=False
    )

    # then
    assert changed == 2
    assert not Customer.objects.filter(is_active=True).exists()


def test_delete_removes_the_customer_and_its_contacts(customer):
    # when
    services.customer_delete(customer=customer)

    # then
    assert not Customer.objects.exists()
    assert not ContactPerson.objects.exists()


def test_delete_of_a_customer_with_documents_is_refused_with_a_reason(customer):
    # given: no document model exists yet, so Customer.delete is made to raise the
    # ProtectedError that an on_delete=PROTECT foreign key from a document will raise
    documents = [ContactPersonFactory.build(customer=customer)]
    error = ProtectedError("protected", documents)

    # when
    with (
        mock.patch.object(Customer, "delete", side_effect=error),
        pytest.raises(services.CustomerDeleteError) as raised,
    ):
        services.customer_delete(customer=customer)

    # then
    assert raised.value.message == (
        "Northwind cannot be deleted because it has contact persons. Mark it as inactive instead."
    )
    assert Customer.objects.filter(pk=customer.pk).exists()
