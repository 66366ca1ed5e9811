import factory

from portico.accounts.tests.factories import OrganizationFactory
from portico.customers.models import ContactPerson, Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    display_name = factory.Sequence(lambda n: f"Customer {n:05d}")
    company_name = factory.LazyAttribute(lambda o: f"{o.display_name} Ltd")
    email = factory.Sequence(lambda n: f"billing{n}@customer.example")
    phone = factory.Sequence(lambda n: f"+1 555 {n:04d}")
    currency = "USD"
    search_text = factory.LazyAttribute(
        lambda o: " ".join([o.display_name, o.company_name, o.email, o.phone]).casefold()
    )


class ContactPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
