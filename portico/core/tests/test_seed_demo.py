import pytest
from django.core.management import CommandError, call_command

from portico.accounts.models import Organization, User
from portico.customers.models import ContactPerson, Customer
from portico.payments.models import Payment
from portico.projects.models import TimeEntry
from portico.sales.models import CreditNote, Invoice, Quote, SalesOrder

pytestmark = pytest.mark.django_db


def test_the_demo_is_a_living_business(settings):
    settings.DEBUG = True

    call_command("seed_demo", if_empty=True, verbosity=0)

    organization = Organization.objects.get(portal_name="demo")
    owner = User.objects.get(email="owner@demo.portico.test")
    assert owner.check_password("portico-demo")
    assert Customer.objects.filter(organization=organization).count() >= 30
    # some contact persons have no e-mail, several currencies and languages
    assert ContactPerson.objects.filter(organization=organization, email="").exists()
    customers = Customer.objects.filter(organization=organization)
    assert customers.values("currency").distinct().count() >= 8
    assert customers.values("portal_language").distinct().count() == 12
    # Acme, the demo portal contact's customer, has a bit of everything
    acme = Customer.objects.get(organization=organization, display_name="Acme Corporation")
    assert acme.contacts.filter(email="portal@acme.example").exists()
    quote_states = {quote.display_status for quote in Quote.objects.filter(customer=acme)}
    assert {"sent", "expired", "accepted", "draft"} <= quote_states
    invoice_states = {invoice.display_status for invoice in Invoice.objects.filter(customer=acme)}
    assert {"sent", "overdue", "partially_paid", "paid"} <= invoice_states
    assert SalesOrder.objects.filter(customer=acme, fulfilment_status="partially_shipped").exists()
    assert CreditNote.objects.filter(customer=acme, status="open").exists()
    assert Payment.objects.filter(customer=acme).count() >= 2
    entries = TimeEntry.objects.filter(project__customer=acme)
    assert entries.filter(invoiced=True).exists()
    assert entries.filter(approved_by_customer=False).exists()
    # the demo portal contact can sign in; others are invited
    from portico.portal_access.models import AccessStatus, PortalAccess

    pat = User.objects.get(email="portal@acme.example")
    assert pat.check_password("portico-demo")
    assert PortalAccess.objects.get(user=pat).status == AccessStatus.ACTIVE
    assert PortalAccess.objects.filter(status=AccessStatus.INVITED).count() == 3
    # a second run leaves the data alone
    call_command("seed_demo", if_empty=True, verbosity=0)
    assert Organization.objects.count() == 1


def test_seeding_refuses_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")

    assert not Organization.objects.exists()
