from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from portico.customers.tests.factories import CustomerFactory
from portico.payments import services
from portico.payments.models import Payment, PaymentAllocation, PaymentMode
from portico.payments.tests.factories import PaymentAllocationFactory, PaymentFactory, open_invoice
from portico.sales.models import Invoice, InvoiceStatus

pytestmark = pytest.mark.django_db

D = Decimal
LIST = reverse("payments:list")
CREATE = reverse("payments:create")
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "payment-results"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response) -> list[str]:
    return [payment.number for payment in response.context["page"].object_list]


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", display_name="Acme")


def payment_data(customer, amount="100.00", **fields) -> dict:
    return {
        "customer": str(customer.pk),
        "amount": amount,
        "date": "2025-03-14",
        "mode": PaymentMode.BANK_TRANSFER,
        "reference": "TX-1",
        "notes": "",
    } | fields


# --- list ---------------------------------------------------------------------------


def test_the_list_shows_the_organisations_payments_newest_first(staff_client, customer):
    # given
    PaymentFactory(customer=customer, number="PAY-00001", date=date(2025, 1, 1))
    PaymentFactory(customer=customer, number="PAY-00002", date=date(2025, 2, 1))
    PaymentFactory(number="PAY-00099")  # another organisation's

    # when
    response = staff_client.get(LIST)

    # then
    assert response.status_code == 200
    assert listed(response) == ["PAY-00002", "PAY-00001"]
    assert "Payments received" in response.text


def test_the_list_searches_filters_and_sorts(staff_client, customer, organization):
    # given
    other = CustomerFactory(organization=organization, display_name="Globex")
    PaymentFactory(customer=customer, number="PAY-00001", reference="Cheque 77", amount=D(5))
    PaymentFactory(
        customer=customer, number="PAY-00002", mode=PaymentMode.CASH, date=date(2025, 1, 5)
    )
    PaymentFactory(customer=other, number="PAY-00003", amount=D(500), date=date(2025, 2, 1))

    # then
    assert listed(staff_client.get(LIST, {"q": "cheque"})) == ["PAY-00001"]
    assert listed(staff_client.get(LIST, {"q": "globex"})) == ["PAY-00003"]
    assert listed(staff_client.get(LIST, {"mode": "cash"})) == ["PAY-00002"]
    assert listed(staff_client.get(LIST, {"customer": other.pk})) == ["PAY-00003"]
    assert listed(staff_client.get(LIST, {"date_from": "2025-01-01", "date_to": "2025-01-31"})) == [
        "PAY-00002"
    ]
    assert listed(staff_client.get(LIST, {"sort": "-amount"}))[0] == "PAY-00003"
    assert listed(staff_client.get(LIST, {"sort": "number"})) == [
        "PAY-00001",
        "PAY-00002",
        "PAY-00003",
    ]


def test_the_list_answers_htmx_with_the_results_only(staff_client, customer):
    # given
    PaymentFactory(customer=customer, number="PAY-00001")

    # when
    response = staff_client.get(LIST, {"q": "PAY", "sort": "-date"}, headers=HTMX_RESULTS)

    # then
    assert "payments/partials/_payment_results.html" in {t.name for t in response.templates}
    assert "<html" not in response.text
    assert response.headers["HX-Push-Url"] == f"{LIST}?q=PAY"


def test_an_empty_list_invites_to_record_a_payment(staff_client):
    response = staff_client.get(LIST)

    assert "No payments recorded yet." in response.text


@pytest.mark.parametrize("count", [5, 500])
def test_the_list_costs_the_same_queries_for_5_or_500_payments(
    staff_client, customer, django_assert_num_queries, count
):
    # given: each payment applied to an invoice
    for _ in range(count):
        PaymentAllocationFactory(payment=PaymentFactory(customer=customer))

    # then: session, user, membership, count, page, the page's allocations,
    # the organisation switcher
    with django_assert_num_queries(7):
        response = staff_client.get(LIST)
    assert len(listed(response)) == min(count, 50)


# --- record payment -------------------------------------------------------------------


def test_the_form_prefills_from_an_invoice(staff_client, customer):
    # given
    invoice = open_invoice(customer, "120.50", number="INV-00001")
    open_invoice(customer, "80.00", number="INV-00002")

    # when
    response = staff_client.get(CREATE, {"customer": customer.pk, "invoice": invoice.pk})

    # then
    assert response.status_code == 200
    form, amounts = response.context["form"], response.context["amounts_form"]
    assert form.initial["customer"] == customer.pk
    assert form.initial["amount"] == D("120.50")
    assert [row[0].number for row in amounts.rows()] == ["INV-00001", "INV-00002"]
    assert f'name="apply_{invoice.pk}"' in response.text
    assert 'value="120.50"' in response.text
    assert "Pay in full" in response.text
    assert "Keep the excess as customer credit" in response.text


def test_the_form_without_a_customer_asks_for_one(staff_client):
    response = staff_client.get(CREATE)

    assert response.status_code == 200
    assert "Choose a customer to see its open invoices." in response.text


def test_without_javascript_the_form_reloads_for_the_chosen_customer(staff_client, customer):
    # given: "Show open invoices" submits the form by GET
    open_invoice(customer, "80.00", number="INV-00002")

    # when
    response = staff_client.get(
        CREATE,
        {
            "customer": customer.pk,
            "amount": "80",
            "date": "2025-03-02",
            "mode": "cash",
            "reference": "R",
        },
    )

    # then
    form = response.context["form"]
    assert (form.initial["amount"], form.initial["date"], form.initial["mode"]) == (
        "80",
        date(2025, 3, 2),
        "cash",
    )
    assert form.initial["reference"] == "R"
    assert "INV-00002" in response.text


def test_the_open_invoices_table_loads_for_the_chosen_customer(staff_client, customer):
    # given
    open_invoice(customer, "80.00", number="INV-00002")
    open_invoice(customer, "80.00", number="INV-00003", status=InvoiceStatus.PAID)

    # when
    response = staff_client.get(
        reverse("payments:open_invoices"), {"customer": customer.pk}, headers={"HX-Request": "1"}
    )

    # then
    assert "INV-00002" in response.text
    assert "INV-00003" not in response.text
    assert "<html" not in response.text


def test_the_open_invoices_of_another_organisations_customer_are_not_shown(staff_client):
    # given
    foreign = CustomerFactory(currency="EUR")
    open_invoice(foreign, "80.00", number="INV-00077")

    # when
    response = staff_client.get(reverse("payments:open_invoices"), {"customer": foreign.pk})

    # then
    assert "INV-00077" not in response.text
    assert "Choose a customer" in response.text


@pytest.mark.parametrize("count", [5, 60])
def test_the_form_costs_the_same_queries_for_5_or_60_open_invoices(
    staff_client, customer, django_assert_num_queries, count
):
    # given
    for _ in range(count):
        open_invoice(customer, "10.00")

    # then: session, user, membership, customer (view), customer (form), open
    # invoices, the organisation switcher
    with django_assert_num_queries(7):
        response = staff_client.get(CREATE, {"customer": customer.pk})
    assert len(response.context["amounts_form"].rows()) == count


def test_recording_a_payment_applies_it_and_shows_the_receipt(staff_client, customer):
    # given
    first = open_invoice(customer, "100.00")
    second = open_invoice(customer, "50.00")

    # when
    response = staff_client.post(
        CREATE,
        payment_data(
            customer, amount="130.00", **{f"apply_{first.pk}": "100", f"apply_{second.pk}": "30"}
        ),
    )

    # then
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("payments:detail", args=[payment.pk])
    assert messages_of(response) == ["Payment PAY-00001 of €130.00 recorded."]
    assert payment.reference == "TX-1"
    assert Invoice.objects.get(pk=first.pk).status == InvoiceStatus.PAID
    assert Invoice.objects.get(pk=second.pk).balance_due == D("20")


def test_a_payment_above_the_open_balance_is_refused_with_a_message(staff_client, customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    response = staff_client.post(
        CREATE, payment_data(customer, amount="150.00", **{f"apply_{invoice.pk}": "100"})
    )

    # then
    assert response.status_code == 422
    assert "is more than the €100.00 Acme owes" in response.text
    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).balance_due == D("100")


def test_the_excess_is_kept_as_credit_when_ticked(staff_client, customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    staff_client.post(
        CREATE,
        payment_data(
            customer,
            amount="150.00",
            keep_excess_as_credit="on",
            **{f"apply_{invoice.pk}": "100"},
        ),
    )

    # then
    assert Payment.objects.get().unused_amount == D("50")


@pytest.mark.parametrize(
    ("amount", "error"),
    [("-5", "The amount received must be more than zero."), ("abc", "Enter a number.")],
)
def test_a_bad_amount_is_refused(staff_client, customer, amount, error):
    response = staff_client.post(CREATE, payment_data(customer, amount=amount))

    assert response.status_code == 422
    assert error in response.text
    assert not Payment.objects.exists()


def test_a_negative_amount_to_apply_is_refused(staff_client, customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    response = staff_client.post(
        CREATE, payment_data(customer, amount="10", **{f"apply_{invoice.pk}": "-10"})
    )

    # then
    assert response.status_code == 422
    assert "The amount cannot be negative." in response.text


def test_an_amount_for_an_invoice_no_longer_open_is_explained(staff_client, customer):
    # given: paid by someone else while the form was open
    invoice = open_invoice(customer, "100.00", number="INV-00004", status=InvoiceStatus.PAID)

    # when
    response = staff_client.post(
        CREATE, payment_data(customer, amount="100", **{f"apply_{invoice.pk}": "100"})
    )

    # then
    assert response.status_code == 422
    assert "INV-00004 is paid" in response.text


def test_another_organisations_customer_cannot_be_chosen(staff_client):
    foreign = CustomerFactory(currency="EUR")

    response = staff_client.post(CREATE, payment_data(foreign, keep_excess_as_credit="on"))

    assert response.status_code == 422
    assert not Payment.objects.exists()


# --- receipt, delete, apply credit ------------------------------------------------------


def test_the_receipt_shows_the_payment_and_its_invoices(staff_client, customer):
    # given
    invoice = open_invoice(customer, "100.00", number="INV-00031")
    payment = services.payment_record(
        organization=customer.organization,
        customer_id=customer.pk,
        amount=D("120"),
        date=date(2025, 3, 14),
        reference="Wire 9",
        allocations=[(invoice.pk, D("100"))],
        keep_excess_as_credit=True,
    )

    # when
    response = staff_client.get(reverse("payments:detail", args=[payment.pk]))

    # then
    assert response.status_code == 200
    text = response.text
    for expected in ("Payment PAY-00001", "Acme", "€120.00", "INV-00031", "€20.00", "Wire 9"):
        assert expected in text
    assert reverse("payments:pdf", args=[payment.pk]) in text
    assert reverse("payments:apply_credit", args=[payment.pk]) in text
    assert "Payment of €120.00 received" in text


@pytest.mark.parametrize(
    "name", ["payments:detail", "payments:pdf", "payments:apply_credit", "payments:delete"]
)
def test_another_organisations_payment_is_not_found(staff_client, name):
    # given
    foreign = PaymentFactory()

    # when
    if name == "payments:delete":
        response = staff_client.post(reverse(name, args=[foreign.pk]))
    else:
        response = staff_client.get(reverse(name, args=[foreign.pk]))

    # then
    assert response.status_code == 404
    assert Payment.objects.filter(pk=foreign.pk).exists()


def test_deleting_a_payment_restores_the_invoice(staff_client, customer):
    # given
    invoice = open_invoice(customer, "100.00")
    payment = services.payment_record(
        organization=customer.organization,
        customer_id=customer.pk,
        amount=D("100"),
        date=date(2025, 3, 14),
        allocations=[(invoice.pk, D("100"))],
    )

    # when
    response = staff_client.post(reverse("payments:delete", args=[payment.pk]))

    # then
    assert response.url == LIST
    assert messages_of(response) == ["Payment PAY-00001 deleted."]
    assert not PaymentAllocation.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.SENT


def test_unused_credit_is_applied_from_the_receipt(staff_client, customer):
    # given
    payment = services.payment_record(
        organization=customer.organization,
        customer_id=customer.pk,
        amount=D("60"),
        date=date(2025, 3, 14),
        keep_excess_as_credit=True,
    )
    invoice = open_invoice(customer, "100.00", number="INV-00040")
    url = reverse("payments:apply_credit", args=[payment.pk])

    # when
    page = staff_client.get(url)
    too_much = staff_client.post(url, {f"apply_{invoice.pk}": "70"})
    response = staff_client.post(url, {f"apply_{invoice.pk}": "60"})

    # then
    assert "INV-00040" in page.text
    assert too_much.status_code == 422
    assert "Only €60.00 of this payment is unused" in too_much.text
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).unused_amount == 0
    assert Invoice.objects.get(pk=invoice.pk).balance_due == D("40")


def test_the_statement_link_and_overdue_badge_show_on_the_form(staff_client, customer):
    # given
    open_invoice(
        customer,
        "100.00",
        date=date.today() - timedelta(days=60),
        due_date=date.today() - timedelta(days=30),
    )

    # when
    response = staff_client.get(CREATE, {"customer": customer.pk})

    # then
    assert "Overdue" in response.text
