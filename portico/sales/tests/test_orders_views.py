"""Sales order pages: list, new/edit, detail, confirm, fulfilment, convert, void, PDF."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from portico.customers.tests.factories import CustomerFactory
from portico.sales.models import (
    FulfilmentStatus,
    Invoice,
    InvoiceStatus,
    SalesOrder,
    SalesOrderStatus,
)
from portico.sales.services.orders import (
    SalesOrderData,
    sales_order_confirm,
    sales_order_create,
)
from portico.sales.tests.factories import SalesOrderFactory, SalesOrderLineFactory, line

pytestmark = pytest.mark.django_db

LIST = reverse("sales_orders:list")
CREATE = reverse("sales_orders:create")
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "order-results"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response) -> list[str]:
    return [order.number for order in response.context["page"].object_list]


def url(name: str, order: SalesOrder) -> str:
    return reverse(f"sales_orders:{name}", args=[order.pk])


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", payment_terms=30)


def make_order(customer, *lines, confirm=False, **fields) -> SalesOrder:
    order = sales_order_create(
        organization=customer.organization,
        data=SalesOrderData(
            customer_id=customer.pk,
            date=fields.pop("date", date(2025, 3, 1)),
            lines=list(lines) or [line(rate="100")],
            **fields,
        ),
    )
    return sales_order_confirm(order=order) if confirm else order


def form_data(customer, *, lines: list[dict] = (), initial_forms: int = 0, **fields) -> dict:
    lines = lines or [{"description": "Widgets", "quantity": "4", "rate": "25"}]
    data = {
        "customer": str(customer.pk),
        "date": "2025-03-01",
        "reference": "",
        "expected_shipment_date": "",
        "notes": "",
        "terms": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial_forms),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    } | fields
    for index, row in enumerate(lines):
        for name, value in ({"discount_percent": "0"} | row).items():
            data[f"lines-{index}-{name}"] = value
    return data


# --- list -----------------------------------------------------------------------------------


def test_list_shows_the_organisations_orders_only(staff_client, customer):
    # given
    SalesOrderFactory(customer=customer, number="SO-00001")
    SalesOrderFactory(number="SO-00002")  # another organisation's

    # when
    response = staff_client.get(LIST)

    # then
    assert response.status_code == 200
    assert listed(response) == ["SO-00001"]
    assert "Not shipped" in response.text


def test_list_says_when_there_are_no_orders_yet(staff_client):
    assert "No sales orders yet." in staff_client.get(LIST).text


def test_list_filters_by_status_and_fulfilment(staff_client, customer):
    # given
    SalesOrderFactory(customer=customer, number="DRAFT")
    SalesOrderFactory(customer=customer, number="OPEN", status="confirmed")
    SalesOrderFactory(
        customer=customer, number="SHIPPED", status="confirmed", fulfilment_status="shipped"
    )
    SalesOrderFactory(
        customer=customer,
        number="PART",
        status="invoiced",
        fulfilment_status="partially_shipped",
    )

    def numbers(**query):
        return sorted(listed(staff_client.get(LIST, query)))

    # then
    assert numbers(status="confirmed") == ["OPEN", "SHIPPED"]
    assert numbers(fulfilment="shipped") == ["SHIPPED"]
    assert numbers(fulfilment="partially_shipped") == ["PART"]
    assert numbers(status="confirmed", fulfilment="not_shipped") == ["OPEN"]
    assert numbers(status="bogus", fulfilment="bogus") == ["DRAFT", "OPEN", "PART", "SHIPPED"]


def test_list_searches_and_filters_by_customer_and_dates(staff_client, organization, customer):
    # given
    other = CustomerFactory(organization=organization, display_name="Omega Shipping")
    SalesOrderFactory(customer=customer, number="SO-1", date=date(2025, 1, 5), reference="ABC")
    SalesOrderFactory(customer=other, number="SO-2", date=date(2025, 2, 5))

    # then
    assert listed(staff_client.get(LIST, {"q": "abc"})) == ["SO-1"]
    assert listed(staff_client.get(LIST, {"q": "omega"})) == ["SO-2"]
    assert listed(staff_client.get(LIST, {"customer": other.pk})) == ["SO-2"]
    assert listed(staff_client.get(LIST, {"date_to": "2025-01-31"})) == ["SO-1"]
    assert listed(staff_client.get(LIST, {"sort": "number"})) == ["SO-1", "SO-2"]
    assert listed(staff_client.get(LIST, {"sort": "-number"})) == ["SO-2", "SO-1"]


def test_list_answers_htmx_with_the_results_only(staff_client, customer):
    # given
    SalesOrderFactory(customer=customer, number="SO-00001")

    # when
    response = staff_client.get(
        LIST, {"q": "", "fulfilment": "not_shipped", "sort": "-date"}, headers=HTMX_RESULTS
    )

    # then
    assert "<html" not in response.text
    assert "SO-00001" in response.text
    assert response["HX-Push-Url"] == f"{LIST}?fulfilment=not_shipped"


def make_orders(organization, count: int) -> None:
    customers = CustomerFactory.create_batch(3, organization=organization)
    for index in range(count):
        SalesOrderFactory(
            customer=customers[index % 3],
            number=f"SO-{index + 1:05d}",
            status=["draft", "confirmed"][index % 2],
        )


# session, user, membership + organisation, COUNT(*), the page of orders with
# their customers, the organisation switcher's memberships
LIST_QUERIES = 6


@pytest.mark.parametrize("count", [5, 500])
def test_the_list_page_needs_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_orders(organization, count)

    # when / then
    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(LIST, {"q": "SO", "sort": "customer"})
    assert len(listed(response)) == min(count, 50)


@pytest.mark.parametrize("count", [5, 60])
def test_the_htmx_results_need_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    make_orders(organization, count)

    with django_assert_num_queries(LIST_QUERIES - 1):
        staff_client.get(LIST, {"status": "confirmed"}, headers=HTMX_RESULTS)


# --- new and edit ----------------------------------------------------------------------------


def test_new_order_page(staff_client, customer):
    response = staff_client.get(CREATE, {"customer": customer.pk})

    assert response.status_code == 200
    assert response.context["form"].chosen_customer == customer
    assert "Expected shipment date" in response.text


def test_create_saves_a_draft_order(staff_client, customer):
    # when
    response = staff_client.post(
        CREATE, form_data(customer, expected_shipment_date="2025-03-10", reference="PO-5")
    )

    # then
    order = SalesOrder.objects.get()
    assert response.url == url("detail", order)
    assert messages_of(response) == ["Sales order SO-00001 created."]
    assert order.status == SalesOrderStatus.DRAFT
    assert order.total == Decimal("100.00")
    assert order.expected_shipment_date == date(2025, 3, 10)


def test_create_refuses_negative_values_and_saves_nothing(staff_client, customer):
    # when
    response = staff_client.post(
        CREATE, form_data(customer, lines=[{"description": "X", "quantity": "1", "rate": "-3"}])
    )

    # then
    assert response.status_code == 422
    assert "The rate cannot be negative." in response.text
    assert not SalesOrder.objects.exists()


def test_create_refuses_an_expected_shipment_before_the_order_date(staff_client, customer):
    response = staff_client.post(CREATE, form_data(customer, expected_shipment_date="2025-02-01"))

    assert response.status_code == 422
    assert "The expected shipment date cannot be before the order date." in response.text


def test_edit_a_confirmed_order(staff_client, customer):
    # given
    order = make_order(customer, line("Widgets", rate="100"), confirm=True)

    # when
    response = staff_client.post(
        url("edit", order),
        form_data(
            customer,
            lines=[{"description": "Widgets", "quantity": "2", "rate": "100"}],
            initial_forms=1,
        ),
    )

    # then
    order.refresh_from_db()
    assert messages_of(response) == ["Sales order SO-00001 saved."]
    assert order.total == Decimal("200.00")
    assert order.status == SalesOrderStatus.CONFIRMED


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("invoiced", "An invoiced sales order cannot be edited."),
        ("void", "A void sales order cannot be edited."),
    ],
)
def test_an_invoiced_or_void_order_cannot_be_edited(staff_client, customer, status, message):
    # given
    order = SalesOrderFactory(customer=customer, status=status)

    # when
    response = staff_client.get(url("edit", order), follow=True)

    # then
    assert response.redirect_chain == [(url("detail", order), 302)]
    assert message in response.text


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_lines_totals_fulfilment_and_history(staff_client, customer):
    # given
    order = make_order(customer, line("Blue widgets", quantity="3", rate="10"), confirm=True)

    # when
    response = staff_client.get(url("detail", order))

    # then
    text = response.text
    assert response.status_code == 200
    assert "Blue widgets" in text
    assert "€30.00" in text
    assert "Confirmed" in text
    assert "Save fulfilment" in text
    assert "Convert to invoice" in text
    assert url("pdf", order) in text


@pytest.mark.parametrize(
    ("status", "shown", "hidden"),
    [
        ("draft", ["Confirm", "Convert to invoice", "/edit/", "/void/"], ["Save fulfilment"]),
        ("confirmed", ["Convert to invoice", "Save fulfilment", "/void/"], ["/confirm/"]),
        ("invoiced", ["Save fulfilment"], ["Convert to invoice", "/edit/", "/void/"]),
        ("void", ["Download PDF"], ["Convert to invoice", "Save fulfilment", "/edit/"]),
    ],
)
def test_detail_offers_the_actions_of_the_status(staff_client, customer, status, shown, hidden):
    order = SalesOrderFactory(customer=customer, status=status)

    text = staff_client.get(url("detail", order)).text

    for label in shown:
        assert label in text
    for label in hidden:
        assert label not in text


def test_another_organisations_order_is_not_found(staff_client):
    # given
    stranger = SalesOrderFactory()

    # then
    for name in ("detail", "edit", "pdf"):
        assert staff_client.get(url(name, stranger)).status_code == 404
    for name in ("confirm", "fulfilment", "convert_to_invoice", "void"):
        assert staff_client.post(url(name, stranger)).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == SalesOrderStatus.DRAFT
    assert not Invoice.objects.exists()


# session, user, membership + organisation, the order with customer, creator and
# quote; its lines, contacts, invoices; its history; the organisation switcher;
# the comment thread
DETAIL_QUERIES = 11  # with the document's portal activity (one query)


@pytest.mark.parametrize("count", [5, 60])
def test_the_detail_page_needs_the_same_queries_for_few_and_many_lines(
    staff_client, customer, django_assert_num_queries, count
):
    # given
    ContentType.objects.get_for_model(SalesOrder)  # cached for the life of the process
    order = SalesOrderFactory(customer=customer, status="confirmed")
    for position in range(1, count + 1):
        SalesOrderLineFactory(document=order, position=position)

    # when / then
    with django_assert_num_queries(DETAIL_QUERIES):
        staff_client.get(url("detail", order))


# --- actions ---------------------------------------------------------------------------------


def test_confirm(staff_client, customer):
    order = make_order(customer)

    response = staff_client.post(url("confirm", order))

    order.refresh_from_db()
    assert messages_of(response) == ["Sales order SO-00001 confirmed."]
    assert order.status == SalesOrderStatus.CONFIRMED


def test_record_a_shipment(staff_client, customer):
    # given
    order = make_order(customer, confirm=True)

    # when
    response = staff_client.post(
        url("fulfilment", order),
        {
            "fulfilment_status": "shipped",
            "shipment_date": "2025-03-04",
            "carrier": "DHL",
            "tracking_number": "00340434",
        },
    )

    # then
    order.refresh_from_db()
    assert response.url == url("detail", order)
    assert messages_of(response) == ["Fulfilment of SO-00001 saved."]
    assert order.fulfilment_status == FulfilmentStatus.SHIPPED
    assert order.shipment_date == date(2025, 3, 4)
    assert (order.carrier, order.tracking_number) == ("DHL", "00340434")
    assert "00340434" in staff_client.get(url("detail", order)).text


def test_shipped_without_a_date_is_refused_on_the_page(staff_client, customer):
    # given
    order = make_order(customer, confirm=True)

    # when
    response = staff_client.post(
        url("fulfilment", order), {"fulfilment_status": "shipped", "shipment_date": ""}
    )

    # then
    order.refresh_from_db()
    assert response.status_code == 422
    assert "Enter the shipment date of a shipped order." in response.text
    assert order.fulfilment_status == FulfilmentStatus.NOT_SHIPPED


def test_a_shipment_before_the_order_date_is_refused_on_the_page(staff_client, customer):
    order = make_order(customer, confirm=True)

    response = staff_client.post(
        url("fulfilment", order), {"fulfilment_status": "shipped", "shipment_date": "2025-01-01"}
    )

    assert response.status_code == 422
    assert "The shipment date cannot be before the order date." in response.text


def test_a_draft_cannot_ship(staff_client, customer):
    order = make_order(customer)

    response = staff_client.post(
        url("fulfilment", order), {"fulfilment_status": "partially_shipped"}
    )

    assert messages_of(response) == ["Confirm the sales order before recording its shipment."]


def test_convert_to_invoice_opens_the_new_invoice(staff_client, customer):
    # given
    order = make_order(customer, line("Widgets", rate="80"), confirm=True)

    # when
    response = staff_client.post(url("convert_to_invoice", order))

    # then
    invoice = Invoice.objects.get()
    order.refresh_from_db()
    assert response.url == reverse("invoices:detail", args=[invoice.pk])
    assert messages_of(response) == ["Invoice INV-00001 created from SO-00001."]
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.total == Decimal("80.00")
    assert invoice.due_date == timezone.localdate() + (invoice.due_date - invoice.date)
    assert order.status == SalesOrderStatus.INVOICED
    detail = staff_client.get(url("detail", order)).text
    assert "INV-00001" in detail


def test_converting_twice_says_so(staff_client, customer):
    # given
    order = make_order(customer, confirm=True)
    staff_client.post(url("convert_to_invoice", order))

    # when
    response = staff_client.post(url("convert_to_invoice", order))

    # then
    assert response.url == url("detail", order)
    assert messages_of(response)[-1] == "This sales order has already been invoiced (INV-00001)."
    assert Invoice.objects.count() == 1


def test_void(staff_client, customer):
    order = make_order(customer)

    response = staff_client.post(url("void", order))

    order.refresh_from_db()
    assert messages_of(response) == ["Sales order SO-00001 is void."]
    assert order.status == SalesOrderStatus.VOID


def test_pdf_download(staff_client, customer):
    order = make_order(customer)

    response = staff_client.get(url("pdf", order))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="SO-00001.pdf"' in response["Content-Disposition"]
