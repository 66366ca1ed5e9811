"""Sales order services: create, edit, confirm, fulfilment, convert to invoice, void."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.sales.history import history_of
from portico.sales.models import FulfilmentStatus, InvoiceStatus, SalesOrderStatus
from portico.sales.services.common import DocumentStateError, SalesError
from portico.sales.services.orders import (
    SalesOrderData,
    sales_order_confirm,
    sales_order_convert_to_invoice,
    sales_order_create,
    sales_order_set_fulfilment,
    sales_order_update,
    sales_order_void,
)
from portico.sales.tests.factories import line

pytestmark = pytest.mark.django_db

JAN_10 = date(2025, 1, 10)


def order_data(customer, *, lines=None, **fields) -> SalesOrderData:
    return SalesOrderData(
        customer_id=customer.pk,
        date=fields.pop("date", JAN_10),
        lines=lines or [line("Widgets", quantity="4", rate="25")],
        **fields,
    )


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", payment_terms=15)


@pytest.fixture
def order(organization, customer):
    return sales_order_create(organization=organization, data=order_data(customer))


@pytest.fixture
def confirmed(order):
    return sales_order_confirm(order=order)


def kinds(document) -> list[str]:
    return [event.kind for event in history_of(document=document)]


# --- create and edit ---------------------------------------------------------------------------


def test_create_a_draft_order(organization, customer, membership):
    # given
    contact = ContactPersonFactory(customer=customer)

    # when
    order = sales_order_create(
        organization=organization,
        data=order_data(
            customer, expected_shipment_date=date(2025, 1, 20), contact_ids=[contact.pk]
        ),
        actor=membership.user,
    )

    # then
    assert order.number == "SO-00001"
    assert order.status == SalesOrderStatus.DRAFT
    assert order.fulfilment_status == FulfilmentStatus.NOT_SHIPPED
    assert order.total == Decimal("100.00")
    assert order.currency == "EUR"
    assert order.expected_shipment_date == date(2025, 1, 20)
    assert list(order.contacts.all()) == [contact]
    assert kinds(order) == ["created"]


def test_an_expected_shipment_before_the_order_date_is_refused(organization, customer):
    with pytest.raises(SalesError, match="expected shipment date cannot be before"):
        sales_order_create(
            organization=organization,
            data=order_data(customer, expected_shipment_date=date(2025, 1, 9)),
        )


def test_negative_quantities_are_refused(organization, customer):
    with pytest.raises(SalesError, match="quantity must be more than zero"):
        sales_order_create(
            organization=organization, data=order_data(customer, lines=[line(quantity="-2")])
        )


@pytest.mark.parametrize("confirm", [False, True])
def test_draft_and_confirmed_orders_can_be_edited(order, customer, confirm):
    # given
    if confirm:
        sales_order_confirm(order=order)

    # when
    order = sales_order_update(
        order=order, data=order_data(customer, lines=[line(rate="10")], reference="R-1")
    )

    # then
    order.refresh_from_db()
    assert order.total == Decimal("10.00")
    assert order.reference == "R-1"
    assert kinds(order)[0] == "edited"


def test_an_invoiced_order_cannot_be_edited(confirmed, customer):
    # given
    sales_order_convert_to_invoice(order=confirmed)

    # when / then
    with pytest.raises(DocumentStateError, match="invoiced sales order cannot be edited"):
        sales_order_update(order=confirmed, data=order_data(customer))


def test_a_void_order_cannot_be_edited(order, customer):
    # given
    sales_order_void(order=order)

    # when / then
    with pytest.raises(DocumentStateError, match="void sales order cannot be edited"):
        sales_order_update(order=order, data=order_data(customer))


# --- confirm ----------------------------------------------------------------------------------


def test_confirm_a_draft(order, membership):
    # when
    order = sales_order_confirm(order=order, actor=membership.user)

    # then
    assert order.status == SalesOrderStatus.CONFIRMED
    assert kinds(order) == ["confirmed", "created"]


def test_only_a_draft_can_be_confirmed(confirmed):
    with pytest.raises(DocumentStateError, match="Only a draft"):
        sales_order_confirm(order=confirmed)


# --- fulfilment -------------------------------------------------------------------------------


def test_ship_a_confirmed_order_with_carrier_and_tracking_number(confirmed):
    # when
    order = sales_order_set_fulfilment(
        order=confirmed,
        fulfilment_status=FulfilmentStatus.SHIPPED,
        shipment_date=date(2025, 1, 12),
        carrier=" DHL ",
        tracking_number="JD0146",
    )

    # then
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.SHIPPED
    assert order.shipment_date == date(2025, 1, 12)
    assert (order.carrier, order.tracking_number) == ("DHL", "JD0146")
    assert history_of(document=order).first().text == "Marked as shipped"


def test_shipped_requires_a_shipment_date(confirmed):
    with pytest.raises(SalesError, match="Enter the shipment date") as error:
        sales_order_set_fulfilment(order=confirmed, fulfilment_status=FulfilmentStatus.SHIPPED)

    assert error.value.field == "shipment_date"


def test_partially_shipped_needs_no_date(confirmed):
    order = sales_order_set_fulfilment(
        order=confirmed, fulfilment_status=FulfilmentStatus.PARTIALLY_SHIPPED, carrier="UPS"
    )

    assert order.fulfilment_status == FulfilmentStatus.PARTIALLY_SHIPPED
    assert history_of(document=order).first().text == "Marked as partially shipped"


def test_back_to_not_shipped_clears_the_shipment(confirmed):
    # given
    sales_order_set_fulfilment(
        order=confirmed,
        fulfilment_status=FulfilmentStatus.SHIPPED,
        shipment_date=date(2025, 1, 12),
        carrier="DHL",
        tracking_number="1",
    )

    # when
    order = sales_order_set_fulfilment(
        order=confirmed, fulfilment_status=FulfilmentStatus.NOT_SHIPPED, carrier="ignored"
    )

    # then
    assert (order.shipment_date, order.carrier, order.tracking_number) == (None, "", "")


def test_a_shipment_before_the_order_date_is_refused(confirmed):
    with pytest.raises(SalesError, match="shipment date cannot be before the order date"):
        sales_order_set_fulfilment(
            order=confirmed,
            fulfilment_status=FulfilmentStatus.SHIPPED,
            shipment_date=date(2025, 1, 1),
        )


def test_an_unknown_fulfilment_status_is_refused(confirmed):
    with pytest.raises(SalesError, match="Choose a fulfilment status"):
        sales_order_set_fulfilment(order=confirmed, fulfilment_status="lost")


def test_a_draft_or_void_order_cannot_ship(order, customer, organization):
    # when / then
    with pytest.raises(DocumentStateError, match="Confirm the sales order"):
        sales_order_set_fulfilment(
            order=order, fulfilment_status=FulfilmentStatus.PARTIALLY_SHIPPED
        )
    sales_order_void(order=order)
    with pytest.raises(DocumentStateError, match="void sales order cannot be shipped"):
        sales_order_set_fulfilment(
            order=order, fulfilment_status=FulfilmentStatus.PARTIALLY_SHIPPED
        )


def test_an_invoiced_order_can_still_ship(confirmed):
    # given
    sales_order_convert_to_invoice(order=confirmed)

    # when
    order = sales_order_set_fulfilment(
        order=confirmed, fulfilment_status=FulfilmentStatus.SHIPPED, shipment_date=JAN_10
    )

    # then
    assert order.fulfilment_status == FulfilmentStatus.SHIPPED
    assert order.status == SalesOrderStatus.INVOICED


# --- convert to invoice -----------------------------------------------------------------------


def test_convert_an_order_to_a_draft_invoice(organization, customer, membership):
    # given
    organization.allow_partial_payments = False
    organization.save()
    contact = ContactPersonFactory(customer=customer)
    order = sales_order_create(
        organization=organization,
        data=order_data(
            customer,
            lines=[line("A", quantity="2", rate="30", discount="50"), line("B", rate="7.25")],
            reference="PO-9",
            notes="Thanks",
            contact_ids=[contact.pk],
        ),
    )
    sales_order_confirm(order=order)

    # when
    invoice = sales_order_convert_to_invoice(order=order, actor=membership.user)

    # then
    today = timezone.localdate()
    order.refresh_from_db()
    assert order.status == SalesOrderStatus.INVOICED
    assert invoice.number == "INV-00001"
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.sales_order == order
    assert invoice.customer == customer
    assert invoice.date == today
    assert invoice.due_date == today + timedelta(days=15)
    assert invoice.payment_terms == 15
    assert invoice.allow_partial_payments is False
    assert (invoice.reference, invoice.notes) == ("PO-9", "Thanks")
    assert [(li.position, li.description, li.amount) for li in invoice.lines.all()] == [
        (1, "A", Decimal("30.00")),
        (2, "B", Decimal("7.25")),
    ]
    assert invoice.total == order.total == Decimal("37.25")
    assert invoice.balance_due == invoice.total
    assert list(invoice.contacts.all()) == [contact]
    assert history_of(document=order).first().text == f"Converted to {invoice.number}"
    assert history_of(document=invoice).first().text == f"Created from {order.number}"


def test_converting_twice_is_refused_and_names_the_invoice(confirmed):
    # given
    invoice = sales_order_convert_to_invoice(order=confirmed)

    # when / then
    with pytest.raises(DocumentStateError, match=f"already been invoiced \\({invoice.number}\\)"):
        sales_order_convert_to_invoice(order=confirmed)
    assert confirmed.invoices.count() == 1


def test_a_void_order_cannot_be_converted(order):
    # given
    sales_order_void(order=order)

    # when / then
    with pytest.raises(DocumentStateError, match="void sales order cannot be converted"):
        sales_order_convert_to_invoice(order=order)


# --- void ------------------------------------------------------------------------------------


def test_void_a_confirmed_order(confirmed):
    order = sales_order_void(order=confirmed)

    assert order.status == SalesOrderStatus.VOID
    assert kinds(order)[0] == "voided"


def test_an_invoiced_order_cannot_be_voided(confirmed):
    # given
    sales_order_convert_to_invoice(order=confirmed)

    # when / then
    with pytest.raises(DocumentStateError, match="invoiced sales order cannot be voided"):
        sales_order_void(order=confirmed)


def test_voiding_twice_is_refused(order):
    sales_order_void(order=order)

    with pytest.raises(DocumentStateError, match="already void"):
        sales_order_void(order=order)
