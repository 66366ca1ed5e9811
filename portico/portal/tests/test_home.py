"""The portal's home page: balance, last payment, quotes and orders waiting,
recent activity and the organisation's contact details."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.payments.tests.factories import PaymentAllocationFactory, PaymentFactory
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.models import (
    CreditNoteStatus,
    FulfilmentStatus,
    InvoiceStatus,
    QuoteStatus,
    SalesOrderStatus,
)
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    QuoteFactory,
    SalesOrderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(portal_access, portal_reverse):
    PortalSettingsFactory(organization=portal_access.organization)
    return portal_reverse(portal_access.organization, "portal:home")


def _unpaid(customer, total="100.00", **fields):
    fields.setdefault("status", InvoiceStatus.SENT)
    return InvoiceFactory(
        customer=customer, total=Decimal(total), balance_due=Decimal(total), **fields
    )


def test_home_shows_the_balance_due_with_overdue_invoices_and_a_link_to_unpaid(
    portal_client, portal_access, home
):
    # given two unpaid invoices (one overdue), a paid one and a draft
    customer = portal_access.customer
    today = timezone.localdate()
    _unpaid(customer, "120.00")
    _unpaid(customer, "30.50", date=today - timedelta(days=60), due_date=today - timedelta(days=5))
    InvoiceFactory(customer=customer, status=InvoiceStatus.PAID, balance_due=0)
    _unpaid(customer, "999.00", status=InvoiceStatus.DRAFT)

    page = portal_client.get(home).content.decode()

    assert "$150.50" in page
    assert "2 unpaid invoices" in page
    assert "1 overdue" in page
    assert "$999.00" not in page
    assert "/invoices/?status=unpaid" in page


def test_home_shows_unused_credits_from_credit_notes_and_payments(
    portal_client, portal_access, home
):
    customer = portal_access.customer
    CreditNoteFactory(
        customer=customer, status=CreditNoteStatus.OPEN, credits_remaining=Decimal("40.00")
    )
    PaymentFactory(customer=customer, amount=Decimal("50.00"), unused_amount=Decimal("10.00"))

    page = portal_client.get(home).content.decode()

    assert "Unused credits" in page
    assert "$50.00" in page  # 40 + 10
    assert "from credit notes" in page and "from payments not applied yet" in page


def test_home_shows_the_last_payment_with_its_invoices_and_reference(
    portal_client, portal_access, home, portal_reverse
):
    customer = portal_access.customer
    today = timezone.localdate()
    PaymentFactory(customer=customer, date=today - timedelta(days=40), amount=Decimal("5.00"))
    latest = PaymentFactory(
        customer=customer, date=today, amount=Decimal("75.25"), reference="Wire 8841"
    )
    allocation = PaymentAllocationFactory(payment=latest, amount=Decimal("75.25"))

    page = portal_client.get(home).content.decode()

    last_payment = page.split("Last payment", 1)[1]
    assert "$75.25" in last_payment
    assert "Wire 8841" in last_payment
    assert allocation.invoice.number in last_payment
    assert (
        portal_reverse(
            portal_access.organization, "portal:invoice_detail", pk=allocation.invoice.pk
        )
        in last_payment
    )


def test_home_lists_quotes_awaiting_a_decision_and_orders_in_progress(
    portal_client, portal_access, home, portal_reverse
):
    customer = portal_access.customer
    today = timezone.localdate()
    waiting = QuoteFactory(customer=customer, status=QuoteStatus.SENT, number="QT-WAIT")
    QuoteFactory(
        customer=customer,
        status=QuoteStatus.SENT,
        number="QT-EXPIRED",
        date=today - timedelta(days=60),
        expiry_date=today - timedelta(days=1),
    )
    QuoteFactory(customer=customer, status=QuoteStatus.ACCEPTED, number="QT-DONE")
    QuoteFactory(customer=customer, status=QuoteStatus.DRAFT, number="QT-DRAFT")
    SalesOrderFactory(customer=customer, status=SalesOrderStatus.CONFIRMED, number="SO-OPEN")
    SalesOrderFactory(
        customer=customer,
        status=SalesOrderStatus.CONFIRMED,
        fulfilment_status=FulfilmentStatus.SHIPPED,
        number="SO-SHIPPED",
    )

    page = portal_client.get(home).content.decode()

    quotes = page.split("Quotes awaiting your decision", 1)[1].split("Orders in progress", 1)[0]
    assert "QT-WAIT" in quotes
    assert (
        portal_reverse(portal_access.organization, "portal:quote_detail", pk=waiting.pk) in quotes
    )
    assert "QT-EXPIRED" not in quotes and "QT-DONE" not in quotes
    orders = page.split("Orders in progress", 1)[1].split("Recent activity", 1)[0]
    assert "SO-OPEN" in orders and "SO-SHIPPED" not in orders
    assert "QT-DRAFT" not in page


def test_recent_activity_is_the_latest_documents_newest_first(portal_client, portal_access, home):
    customer = portal_access.customer
    today = timezone.localdate()
    _unpaid(customer, number="INV-OLD", date=today - timedelta(days=30))
    PaymentFactory(customer=customer, number="PAY-NEW", date=today)
    _unpaid(customer, number="INV-MID", date=today - timedelta(days=3))

    page = portal_client.get(home).content.decode()
    activity = page.split("Recent activity", 1)[1]

    assert activity.index("PAY-NEW") < activity.index("INV-MID") < activity.index("INV-OLD")
    assert "Payment received" in activity and "Invoice issued" in activity


def test_home_shows_only_the_modules_the_contact_sees(portal_client, portal_access, home):
    # given a contact limited to quotes
    portal_access.modules = [PortalModule.QUOTES]
    portal_access.save()
    customer = portal_access.customer
    _unpaid(customer, "120.00", number="INV-HIDDEN")
    PaymentFactory(customer=customer, number="PAY-HIDDEN")
    QuoteFactory(customer=customer, status=QuoteStatus.SENT, number="QT-SHOWN")

    page = portal_client.get(home).content.decode()

    assert "QT-SHOWN" in page
    assert "INV-HIDDEN" not in page and "PAY-HIDDEN" not in page
    assert "Outstanding invoices" not in page
    assert "Last payment" not in page
    assert "Orders in progress" not in page


def test_home_never_shows_another_customers_documents(portal_client, portal_access, home):
    other = PortalAccessFactory(
        active=True, contact__customer__organization=portal_access.organization
    )
    _unpaid(other.customer, "777.00", number="INV-OTHER")
    QuoteFactory(customer=other.customer, status=QuoteStatus.SENT, number="QT-OTHER")

    page = portal_client.get(home).content.decode()

    assert "INV-OTHER" not in page and "QT-OTHER" not in page and "$777.00" not in page
    assert "Nothing due" in page


def test_home_shows_the_organisations_contact_details(portal_client, portal_access, home):
    organization = portal_access.organization
    organization.email = "hello@shop.example"
    organization.phone = "+44 20 7946 0000"
    organization.address = "1 High Street\nLondon"
    organization.save()

    page = portal_client.get(home).content.decode()

    contact = page.split(f"Contact {organization.name}", 1)[1]
    assert "hello@shop.example" in contact
    assert "+44 20 7946 0000" in contact
    assert "1 High Street" in contact


def _documents(customer, count: int) -> None:
    today = timezone.localdate()
    for index in range(count):
        day = today - timedelta(days=index)
        _unpaid(customer, date=day, due_date=day + timedelta(days=10))
        payment = PaymentFactory(customer=customer, date=day)
        PaymentAllocationFactory(payment=payment, invoice__customer=customer)
        QuoteFactory(customer=customer, status=QuoteStatus.SENT, date=day)
        SalesOrderFactory(customer=customer, status=SalesOrderStatus.CONFIRMED, date=day)
        CreditNoteFactory(customer=customer, status=CreditNoteStatus.OPEN, date=day)


@pytest.mark.parametrize("count", [5, 200])
def test_home_costs_the_same_queries_for_5_or_200_documents_of_each_kind(
    page_cache_off, portal_client, portal_access, home, count, django_assert_num_queries
):
    _documents(portal_access.customer, count)
    portal_client.get(home)  # the session has entered the portal

    # 4 for the session, user, organisation and access; 11 for the page; 1 for
    # whether online payment is on (the Pay now button)
    with django_assert_num_queries(16):
        response = portal_client.get(home)
    assert response.status_code == 200
