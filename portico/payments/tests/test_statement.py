from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from portico.customers.tests.factories import CustomerFactory
from portico.payments import services
from portico.payments.refund_services import payment_refund_record
from portico.payments.selectors import statement_for_customer
from portico.payments.tests.factories import PaymentFactory, open_invoice
from portico.sales.models import CreditNoteStatus, InvoiceStatus
from portico.sales.tests.factories import CreditNoteFactory
from portico.sales.tests.test_pdf import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = (date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", display_name="Acme")


def pay(customer, amount, day, invoice=None, **options):
    return services.payment_record(
        organization=customer.organization,
        customer_id=customer.pk,
        amount=D(amount),
        date=day,
        allocations=[(invoice.pk, D(amount))] if invoice else [],
        keep_excess_as_credit=invoice is None,
        **options,
    )


@pytest.fixture
def history(customer):
    """February: invoice 100, paid 40. March: invoice 250, credit note 30,
    payment 60. April: invoice 999 (after the range). Plus rows that never
    count: a draft, a void invoice, a void credit note, another customer's
    invoice, an invoice in another currency."""
    february = open_invoice(customer, "100", number="INV-1", date=date(2025, 2, 10))
    pay(customer, "40", date(2025, 2, 20), february)
    open_invoice(customer, "250", number="INV-2", date=date(2025, 3, 5), reference="PO 7")
    CreditNoteFactory(
        customer=customer,
        number="CN-1",
        date=date(2025, 3, 10),
        status=CreditNoteStatus.OPEN,
        total=D("30"),
    )
    pay(customer, "60", date(2025, 3, 10), reference="Wire")
    open_invoice(customer, "999", number="INV-3", date=date(2025, 4, 2))
    open_invoice(customer, "500", number="INV-D", date=date(2025, 3, 6), status=InvoiceStatus.DRAFT)
    open_invoice(customer, "500", number="INV-V", date=date(2025, 3, 6), status=InvoiceStatus.VOID)
    CreditNoteFactory(
        customer=customer, date=date(2025, 3, 6), status=CreditNoteStatus.VOID, total=D(70)
    )
    CreditNoteFactory(
        customer=customer, date=date(2025, 3, 6), status=CreditNoteStatus.DRAFT, total=D(70)
    )
    open_invoice(CustomerFactory(organization=customer.organization), "700", date=date(2025, 3, 6))
    open_invoice(customer, "800", number="INV-USD", date=date(2025, 3, 6), currency="USD")


def test_opening_entries_and_closing_balance(organization, customer, history):
    # when
    statement = statement_for_customer(
        organization=organization, customer=customer, date_from=MARCH[0], date_to=MARCH[1]
    )

    # then
    assert statement.opening_balance == D("60")  # 100 − 40
    assert [
        (entry.date, entry.kind, entry.number, entry.amount, entry.payment, entry.balance)
        for entry in statement.entries
    ] == [
        (date(2025, 3, 5), "invoice", "INV-2", D("250"), None, D("310")),
        (date(2025, 3, 10), "credit_note", "CN-1", None, D("30"), D("280")),
        (date(2025, 3, 10), "payment", "PAY-00002", None, D("60"), D("220")),
    ]
    assert statement.closing_balance == D("220")
    assert (statement.invoiced, statement.received, statement.credited) == (
        D("250"),
        D("60"),
        D("30"),
    )
    assert statement.entries[0].description == "PO 7"
    assert statement.currency == "EUR"


def test_opening_plus_entries_is_closing_for_any_range(organization, customer, history):
    # given: consecutive months
    months = [
        (date(2025, 1, 1), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 28)),
        MARCH,
        (date(2025, 4, 1), date(2025, 4, 30)),
    ]

    # when
    statements = [
        statement_for_customer(
            organization=organization, customer=customer, date_from=start, date_to=end
        )
        for start, end in months
    ]

    # then: each month opens where the last one closed
    for statement in statements:
        moved = sum((entry.amount or 0) - (entry.payment or 0) for entry in statement.entries)
        assert statement.opening_balance + moved == statement.closing_balance
    for previous, following in zip(statements, statements[1:], strict=False):
        assert following.opening_balance == previous.closing_balance
    assert [s.closing_balance for s in statements] == [D(0), D(60), D(220), D(1219)]


def test_a_customer_in_credit_has_a_negative_balance(organization, customer):
    # given
    pay(customer, "75", date(2025, 3, 2))

    # when
    statement = statement_for_customer(
        organization=organization, customer=customer, date_from=MARCH[0], date_to=MARCH[1]
    )

    # then
    assert statement.closing_balance == D("-75")


def refund(payment, amount, day, reference=""):
    return payment_refund_record(
        organization=payment.organization,
        payment_id=payment.pk,
        amount=D(amount),
        date=day,
        reference=reference,
    )


@pytest.fixture
def refunds(customer, history):
    """On top of the history: February, a payment of 30 kept as credit and 10
    of it refunded; March, 25 of March's payment (PAY-00002, all credit)
    refunded; April, 5 more of it (after the range). Plus a refund that never
    counts: another customer's."""
    february_credit = pay(customer, "30", date(2025, 2, 25))
    refund(february_credit, "10", date(2025, 2, 27))
    march_payment = customer.payments.get(number="PAY-00002")
    refund(march_payment, "25", date(2025, 3, 20), reference="Bank ref 9")
    refund(march_payment, "5", date(2025, 4, 3))
    stranger = CustomerFactory(organization=customer.organization, currency="EUR")
    refund(pay(stranger, "90", date(2025, 3, 12)), "90", date(2025, 3, 12))


def test_refunds_add_back_to_the_balance_and_the_opening(organization, customer, refunds):
    # when
    statement = statement_for_customer(
        organization=organization, customer=customer, date_from=MARCH[0], date_to=MARCH[1]
    )

    # then: February's refund of 10 is in the opening balance, March's is a line
    assert statement.opening_balance == D("40")  # 100 − 40 − 30 + 10
    assert [
        (entry.date, entry.kind, entry.number, entry.amount, entry.payment, entry.balance)
        for entry in statement.entries
    ] == [
        (date(2025, 3, 5), "invoice", "INV-2", D("250"), None, D("290")),
        (date(2025, 3, 10), "credit_note", "CN-1", None, D("30"), D("260")),
        (date(2025, 3, 10), "payment", "PAY-00002", None, D("60"), D("200")),
        (date(2025, 3, 20), "refund", "PAY-00002", D("25"), None, D("225")),
    ]
    refund_entry = statement.entries[-1]
    assert refund_entry.kind_label == "Refund"
    assert refund_entry.description == "Refund of PAY-00002 · Bank ref 9"
    assert refund_entry.document_id == customer.payments.get(number="PAY-00002").pk
    assert statement.closing_balance == D("225")
    assert (statement.invoiced, statement.received, statement.credited, statement.refunded) == (
        D("250"),
        D("60"),
        D("30"),
        D("25"),
    )


def test_refunds_keep_each_month_opening_where_the_last_closed(organization, customer, refunds):
    # given: consecutive months
    months = [
        (date(2025, 2, 1), date(2025, 2, 28)),
        MARCH,
        (date(2025, 4, 1), date(2025, 4, 30)),
    ]

    # when
    statements = [
        statement_for_customer(
            organization=organization, customer=customer, date_from=start, date_to=end
        )
        for start, end in months
    ]

    # then
    for statement in statements:
        moved = sum((entry.amount or 0) - (entry.payment or 0) for entry in statement.entries)
        assert statement.opening_balance + moved == statement.closing_balance
    for previous, following in zip(statements, statements[1:], strict=False):
        assert following.opening_balance == previous.closing_balance
    assert [s.closing_balance for s in statements] == [D(40), D(225), D(1229)]
    assert [e.amount for e in statements[2].entries if e.kind == "refund"] == [D("5")]


def test_refunding_all_the_credit_brings_the_balance_back_to_zero(organization, customer):
    # given: a customer 75 in credit, then given it all back
    payment = pay(customer, "75", date(2025, 3, 2))
    refund(payment, "75", date(2025, 3, 9))

    # when
    statement = statement_for_customer(
        organization=organization, customer=customer, date_from=MARCH[0], date_to=MARCH[1]
    )

    # then
    assert [(entry.kind, entry.balance) for entry in statement.entries] == [
        ("payment", D("-75")),
        ("refund", D("0")),
    ]
    assert statement.closing_balance == D("0")


def test_the_statement_costs_seven_queries(
    organization, customer, history, refunds, django_assert_num_queries
):
    # six for invoices, payments and credit notes (opening and lines), one for refunds
    with django_assert_num_queries(7):
        statement_for_customer(
            organization=organization, customer=customer, date_from=MARCH[0], date_to=MARCH[1]
        )


def test_another_organisations_customer_is_refused(organization):
    foreign = CustomerFactory()

    with pytest.raises(type(foreign).DoesNotExist):
        statement_for_customer(
            organization=organization, customer=foreign, date_from=MARCH[0], date_to=MARCH[1]
        )


def test_the_context_has_what_templates_read(organization, customer, history):
    statement = statement_for_customer(
        organization=organization, customer=customer, date_from=MARCH[0], date_to=MARCH[1]
    )

    context = statement.as_context()

    assert context["closing_balance"] == D("220")
    assert context["customer"] == customer
    assert context["entries"][0].kind_label == "Invoice"


# --- the staff page ----------------------------------------------------------------------


def test_the_statement_page_shows_the_range(staff_client, customer, history):
    # when
    response = staff_client.get(
        reverse("customers:statement", args=[customer.pk]),
        {"date_from": "2025-03-01", "date_to": "2025-03-31"},
    )

    # then
    assert response.status_code == 200
    text = response.text
    assert "Statement of account" in text
    for expected in ("INV-2", "CN-1", "PAY-00002", "€60.00", "€220.00", "Opening balance"):
        assert expected in text
    assert "INV-3" not in text and "INV-D" not in text


def test_the_statement_page_shows_refunds(staff_client, customer, refunds):
    # when
    response = staff_client.get(
        reverse("customers:statement", args=[customer.pk]),
        {"date_from": "2025-03-01", "date_to": "2025-03-31"},
    )

    # then
    text = response.text
    assert "Refund of PAY-00002 · Bank ref 9" in text
    assert "Refunds" in text and "€25.00" in text and "€225.00" in text
    payment = customer.payments.get(number="PAY-00002")
    assert text.count(reverse("payments:detail", args=[payment.pk])) == 2  # payment and refund


def test_the_statement_defaults_to_this_month(staff_client, customer):
    # given
    PaymentFactory(customer=customer, number="PAY-NOW")

    # when
    response = staff_client.get(reverse("customers:statement", args=[customer.pk]))

    # then
    statement = response.context["statement"]
    assert statement.date_from.day == 1
    assert statement.date_from <= date.today() <= statement.date_to
    assert "PAY-NOW" in response.text


def test_a_reversed_range_is_refused_with_a_message(staff_client, customer):
    response = staff_client.get(
        reverse("customers:statement", args=[customer.pk]),
        {"date_from": "2025-03-31", "date_to": "2025-03-01"},
    )

    assert response.status_code == 422
    assert "The start date must be on or before the end date." in response.text


def test_another_organisations_customer_statement_is_not_found(staff_client):
    foreign = CustomerFactory()

    assert staff_client.get(reverse("customers:statement", args=[foreign.pk])).status_code == 404
    assert (
        staff_client.get(reverse("customers:statement_pdf", args=[foreign.pk])).status_code == 404
    )


def test_the_customer_page_links_to_the_statement(staff_client, customer):
    response = staff_client.get(reverse("customers:detail", args=[customer.pk]))

    assert reverse("customers:statement", args=[customer.pk]) in response.text


def test_the_statement_downloads_as_a_pdf(staff_client, customer, history):
    # given
    page = staff_client.get(
        reverse("customers:statement", args=[customer.pk]),
        {"date_from": "2025-03-01", "date_to": "2025-03-31"},
    )
    pdf_url = reverse("customers:statement_pdf", args=[customer.pk])
    assert f"{pdf_url}?date_from=2025-03-01&amp;date_to=2025-03-31" in page.text

    # when
    response = staff_client.get(pdf_url, {"date_from": "2025-03-01", "date_to": "2025-03-31"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="statement-20250301-20250331.pdf"' in response["Content-Disposition"]


def test_the_statement_pdf_lists_refunds(staff_client, customer, refunds):
    # when
    response = staff_client.get(
        reverse("customers:statement_pdf", args=[customer.pk]),
        {"date_from": "2025-03-01", "date_to": "2025-03-31"},
    )

    # then
    text = pdf_text(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    for expected in (
        "Refund",
        "Refund of PAY-00002 · Bank ref 9",
        "Invoiced amount €250.00",
        "Refunds €25.00",
        "€225.00",
    ):
        assert expected in text, expected
