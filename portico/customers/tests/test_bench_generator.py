import pytest
from django.core.management import CommandError, call_command

from portico.customers.models import ContactPerson, Customer
from portico.customers.services import build_search_text

pytestmark = pytest.mark.django_db


def test_the_generator_creates_searchable_customers_with_contacts(organization, settings):
    settings.DEBUG = True

    call_command(
        "bench_generate_customers",
        organization=organization.portal_name,
        count=120,
        contacts_per_customer=2,
        seed="test",
        verbosity=0,
    )

    customers = Customer.objects.filter(organization=organization).prefetch_related("contacts")
    assert customers.count() == 120
    assert ContactPerson.objects.filter(organization=organization).count() == 240
    for customer in customers[:20]:
        contacts = list(customer.contacts.all())
        assert sum(contact.is_primary for contact in contacts) == 1
        assert customer.search_text == build_search_text(customer, contacts)


def test_the_generator_refuses_to_run_without_debug(organization, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("bench_generate_customers", organization=organization.portal_name, count=5)

    assert not Customer.objects.exists()
