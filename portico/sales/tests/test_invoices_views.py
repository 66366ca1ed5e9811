"""Invoice pages: list, new/edit, detail, mark as sent, void, PDF."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.payments.models import Payment, PaymentAllocation
from portico.sales.models import CreditApplication, Invoice, InvoiceStatus
from portico.sales.services.invoices import InvoiceData, invoice_create, invoice_mark_sent
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    line,
)
from portico.sales.tests.test_invoices import record_payment

pytestmark = pytest.mark.django_db

LIST = reverse("invoices:list")
CREATE = reverse("invoices:create")
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "invoice-results"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response) -> list[str]:
    return [invoice.number for invoice in response.context["page"].object_list]


def url(name: str, invoice: Invoice) -> str:
    return reverse(f"invoices:{name}", args=[invoice.pk])


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", payment_terms=15)


def make_invoice(customer, *lines, sent=False, **fields) -> Invoice:
    invoice = invoice_create(
        organization=customer.organization,
        data=InvoiceData(
            customer_id=customer.pk,
            date=fields.pop("date", timezone.localdate()),
            lines=list(lines) or [line(rate="100")],
            **fields,
        ),
    )
    return invoice_mark_sent(invoice=invoice) if sent else invoice


def form_data(customer, *, lines: list[dict] = (), initial_forms: int = 0, **fields) -> dict:
    """What the browser posts: the invoice's fields and the lines formset."""
    lines = lines or [{"description": "Consulting", "quantity": "2", "rate": "150"}]
    data = {
        "customer": str(customer.pk),
        "date": "2025-03-01",
        "reference": "",
        "payment_terms": "",
        "due_date": "",
        "allow_partial_payments": "on",
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
    return {name: value for name, value in data.items() if value is not None}


# --- list -----------------------------------------------------------------------------------


def test_list_shows_the_organisations_invoices_only(staff_client, customer):
    # given
    mine = InvoiceFactory(customer=customer, number="INV-00001")
    InvoiceFactory(number="INV-00001")  # another organisation's

    # when
    response = staff_client.get(LIST)

    # then
    assert response.status_code == 200
    assert listed(response) == [mine.number]
    assert response.context["page"].object_list[0].pk == mine.pk
    assert "Balance due" in response.text


def test_list_says_when_there_are_no_invoices_yet(staff_client):
    response = staff_client.get(LIST)

    assert "No invoices yet." in response.text


def test_list_filters_by_status_with_overdue_computed_from_the_due_date(staff_client, customer):
    # given
    today = timezone.localdate()
    InvoiceFactory(customer=customer, number="DRAFT", status=InvoiceStatus.DRAFT)
    InvoiceFactory(customer=customer, number="SENT", status="sent", due_date=today)
    InvoiceFactory(
        customer=customer, number="LATE", status="sent", due_date=today - timedelta(days=1)
    )
    InvoiceFactory(
        customer=customer,
        number="PART-LATE",
        status="partially_paid",
        due_date=today - timedelta(days=3),
    )
    InvoiceFactory(
        customer=customer, number="PAID-LATE", status="paid", due_date=today - timedelta(days=9)
    )
    InvoiceFactory(
        customer=customer, number="VOID-LATE", status="void", due_date=today - timedelta(days=9)
    )

    def numbers(status):
        return sorted(listed(staff_client.get(LIST, {"status": status})))

    # then
    assert numbers("overdue") == ["LATE", "PART-LATE"]
    assert numbers("unpaid") == ["LATE", "PART-LATE", "SENT"]
    assert numbers("sent") == ["LATE", "SENT"]
    assert numbers("draft") == ["DRAFT"]
    assert numbers("paid") == ["PAID-LATE"]
    assert numbers("void") == ["VOID-LATE"]
    assert len(numbers("")) == 6
    assert len(numbers("nonsense")) == 6
    assert "Overdue" in staff_client.get(LIST, {"status": "overdue"}).text


def test_list_searches_number_reference_and_customer(staff_client, organization, customer):
    # given
    InvoiceFactory(customer=customer, number="INV-90042")
    InvoiceFactory(customer=customer, number="INV-00043", reference="PO-ABC")
    InvoiceFactory(
        customer=CustomerFactory(organization=organization, display_name="Zeta Corp"),
        number="INV-00044",
    )

    # then
    assert listed(staff_client.get(LIST, {"q": "90042"})) == ["INV-90042"]
    assert listed(staff_client.get(LIST, {"q": "po-abc"})) == ["INV-00043"]
    assert listed(staff_client.get(LIST, {"q": "zeta"})) == ["INV-00044"]
    assert "No invoices match “nothing”." in staff_client.get(LIST, {"q": "nothing"}).text


def test_list_filters_by_customer_and_dates(staff_client, organization, customer):
    # given
    other = CustomerFactory(organization=organization)
    InvoiceFactory(customer=customer, number="JAN", date=date(2025, 1, 15))
    InvoiceFactory(customer=customer, number="FEB", date=date(2025, 2, 15))
    InvoiceFactory(customer=other, number="OTHER", date=date(2025, 1, 20))

    # when
    by_customer = staff_client.get(LIST, {"customer": customer.pk})
    by_dates = staff_client.get(LIST, {"date_from": "2025-01-01", "date_to": "2025-01-31"})

    # then
    assert sorted(listed(by_customer)) == ["FEB", "JAN"]
    assert by_customer.context["filter_customer"] == customer
    assert sorted(listed(by_dates)) == ["JAN", "OTHER"]


def test_list_sorts_by_balance_and_due_date(staff_client, customer):
    # given
    InvoiceFactory(customer=customer, number="SMALL", total=10, due_date=date(2025, 3, 1))
    InvoiceFactory(customer=customer, number="BIG", total=500, due_date=date(2025, 1, 1))

    # then
    assert listed(staff_client.get(LIST, {"sort": "-balance"})) == ["BIG", "SMALL"]
    assert listed(staff_client.get(LIST, {"sort": "balance"})) == ["SMALL", "BIG"]
    assert listed(staff_client.get(LIST, {"sort": "due_date"})) == ["BIG", "SMALL"]


def test_list_answers_htmx_with_the_results_only(staff_client, customer):
    # given
    InvoiceFactory(customer=customer, number="INV-00001")

    # when
    response = staff_client.get(
        LIST, {"q": "INV", "status": "", "sort": "-date"}, headers=HTMX_RESULTS
    )

    # then
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "INV-00001" in response.text
    assert response["HX-Push-Url"] == f"{LIST}?q=INV"


def test_list_pages_by_fifty(staff_client, organization):
    # given
    make_invoices(organization, 51)

    # when
    first, second = staff_client.get(LIST), staff_client.get(LIST, {"page": 2})

    # then
    assert len(listed(first)) == 50
    assert len(listed(second)) == 1


def make_invoices(organization, count: int) -> None:
    customers = CustomerFactory.create_batch(3, organization=organization)
    for index in range(count):
        InvoiceFactory(
            customer=customers[index % 3],
            number=f"INV-{index + 1:05d}",
            status=["draft", "sent", "partially_paid", "paid"][index % 4],
        )


# session, user, membership + organisation, COUNT(*), the page of invoices with
# their customers, the organisation switcher's memberships
LIST_QUERIES = 6


@pytest.mark.parametrize("count", [5, 500])
def test_the_list_page_needs_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_invoices(organization, count)

    # when / then
    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(LIST, {"q": "INV", "status": "unpaid", "sort": "-balance"})
    assert len(listed(response)) == min(count // 2, 50)


@pytest.mark.parametrize("count", [5, 60])
def test_the_htmx_results_need_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_invoices(organization, count)

    # when / then: no page layout, so no organisation switcher
    with django_assert_num_queries(LIST_QUERIES - 1):
        staff_client.get(LIST, {"status": "overdue"}, headers=HTMX_RESULTS)


# --- new ----------------------------------------------------------------------------------------


def test_new_invoice_page_preselects_a_customer_and_the_partial_payments_default(
    staff_client, organization, customer
):
    # given
    organization.allow_partial_payments = False
    organization.save()

    # when
    response = staff_client.get(CREATE, {"customer": customer.pk})

    # then
    form = response.context["form"]
    assert response.status_code == 200
    assert form.chosen_customer == customer
    assert form.initial["allow_partial_payments"] is False
    assert form.initial["date"] == timezone.localdate()
    assert "Allow partial payments" in response.text
    assert "Leave empty to follow the payment terms." in response.text


def test_create_saves_a_draft_due_after_the_customers_terms(staff_client, customer, membership):
    # given
    contact = ContactPersonFactory(customer=customer)

    # when
    response = staff_client.post(
        CREATE, form_data(customer, contacts=str(contact.pk), reference="PO-1")
    )

    # then
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response.url == url("detail", invoice)
    assert messages_of(response) == ["Invoice INV-00001 created."]
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.due_date == date(2025, 3, 16)
    assert invoice.payment_terms == 15
    assert invoice.allow_partial_payments is True
    assert invoice.total == Decimal("300.00")
    assert invoice.reference == "PO-1"
    assert list(invoice.contacts.all()) == [contact]
    assert invoice.created_by == membership.user


def test_create_with_chosen_terms_and_a_due_date(staff_client, customer):
    # when
    staff_client.post(CREATE, form_data(customer, payment_terms="60", allow_partial_payments=None))
    staff_client.post(CREATE, form_data(customer, payment_terms="7", due_date="2025-03-05"))

    # then
    first, second = Invoice.objects.order_by("id")
    assert (first.payment_terms, first.due_date) == (60, date(2025, 4, 30))
    assert first.allow_partial_payments is False
    assert (second.payment_terms, second.due_date) == (7, date(2025, 3, 5))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"description": "X", "quantity": "-1", "rate": "5"},
            "The quantity must be more than zero.",
        ),
        ({"description": "X", "quantity": "1", "rate": "-5"}, "The rate cannot be negative."),
        ({"description": "", "quantity": "1", "rate": "5"}, "Choose an item or describe the line."),
    ],
)
def test_create_refuses_a_bad_line_with_a_clear_message(staff_client, customer, row, message):
    # when
    response = staff_client.post(CREATE, form_data(customer, lines=[row]))

    # then
    assert response.status_code == 422
    assert message in response.text
    assert not Invoice.objects.exists()


def test_create_refuses_a_due_date_before_the_invoice_date(staff_client, customer):
    response = staff_client.post(CREATE, form_data(customer, due_date="2025-02-01"))

    assert response.status_code == 422
    assert "The due date cannot be before the invoice date." in response.text
    assert not Invoice.objects.exists()


def test_create_refuses_another_organisations_customer(staff_client):
    # given
    stranger = CustomerFactory(currency="EUR")

    # when
    response = staff_client.post(CREATE, form_data(stranger))

    # then
    assert response.status_code == 422
    assert not Invoice.objects.exists()


# --- edit -------------------------------------------------------------------------------------


def test_edit_page_shows_the_invoice_with_its_lines(staff_client, customer):
    # given
    invoice = make_invoice(customer, line("First"), line("Second"))

    # when
    response = staff_client.get(url("edit", invoice))

    # then
    assert response.status_code == 200
    assert response.context["formset"].total_form_count() == 2
    assert "First" in response.text
    assert f'name="due_date" value="{invoice.due_date.isoformat()}"' in response.text


def test_edit_saves_changes(staff_client, customer):
    # given
    invoice = make_invoice(customer, line("First", rate="10"), sent=True)

    # when
    response = staff_client.post(
        url("edit", invoice),
        form_data(
            customer,
            lines=[
                {"description": "First", "quantity": "1", "rate": "10"},
                {"description": "Second", "quantity": "2", "rate": "5"},
            ],
            initial_forms=1,
            date=invoice.date.isoformat(),
            payment_terms="15",
            due_date=invoice.due_date.isoformat(),
        ),
    )

    # then
    invoice.refresh_from_db()
    assert response.status_code == 302
    assert messages_of(response) == ["Invoice INV-00001 saved."]
    assert invoice.total == Decimal("20.00")
    assert invoice.balance_due == Decimal("20.00")
    assert invoice.status == InvoiceStatus.SENT


def test_edit_follows_changed_terms_when_the_due_date_was_left_alone(staff_client, customer):
    # given
    invoice = make_invoice(customer, date=date(2025, 3, 1))

    # when: the terms change from 15 to 30 days, the due date field is untouched
    staff_client.post(
        url("edit", invoice),
        form_data(
            customer,
            lines=[{"description": "Consulting", "quantity": "1", "rate": "100"}],
            initial_forms=1,
            payment_terms="30",
            due_date=invoice.due_date.isoformat(),
        ),
    )

    # then
    invoice.refresh_from_db()
    assert invoice.due_date == date(2025, 3, 31)


@pytest.mark.parametrize(
    ("status", "message"),
    [("void", "A void invoice cannot be edited."), ("paid", "A paid invoice cannot be edited.")],
)
def test_a_void_or_paid_invoice_cannot_be_edited(staff_client, customer, status, message):
    # given
    invoice = InvoiceFactory(customer=customer, status=status)

    # when
    page = staff_client.get(url("edit", invoice), follow=True)
    post = staff_client.post(url("edit", invoice), form_data(customer), follow=True)

    # then
    for response in (page, post):
        assert response.redirect_chain == [(url("detail", invoice), 302)]
        assert message in response.text
    invoice.refresh_from_db()
    assert invoice.total == Decimal("100.00")


def test_edit_refuses_a_total_below_what_was_paid(staff_client, customer):
    # given
    invoice = make_invoice(customer, line(rate="100"), sent=True)
    record_payment(invoice, "80")

    # when
    response = staff_client.post(
        url("edit", invoice),
        form_data(
            customer,
            lines=[{"description": "Consulting", "quantity": "1", "rate": "50"}],
            initial_forms=1,
        ),
    )

    # then
    assert response.status_code == 422
    assert "The total cannot be less than the €80.00 already paid" in response.text
    invoice.refresh_from_db()
    assert invoice.total == Decimal("100.00")


# --- detail -----------------------------------------------------------------------------------


def test_detail_shows_lines_totals_payments_and_history(staff_client, customer):
    # given
    invoice = make_invoice(customer, line("Design work", rate="250"), sent=True)
    record_payment(invoice, "100", number="PAY-00009")

    # when
    response = staff_client.get(url("detail", invoice))

    # then
    text = response.text
    assert response.status_code == 200
    assert "Design work" in text
    assert "Partially paid" in text
    assert "PAY-00009" in text
    assert "€150.00" in text  # balance due
    assert "Marked as sent" in text
    assert "Record payment" in text
    assert f"/app/payments/new/?customer={customer.pk}&amp;invoice={invoice.pk}" in text
    assert url("pdf", invoice) in text


@pytest.mark.parametrize(
    ("status", "shown", "hidden"),
    [
        ("draft", ["Mark as sent", "Edit", "Void"], ["Record payment"]),
        ("sent", ["Record payment", "Edit", "Void"], ["Mark as sent"]),
        ("paid", ["Download PDF"], ["Record payment", "Mark as sent", "/edit/"]),
        ("void", ["Download PDF"], ["Record payment", "Mark as sent", "/edit/", "/void/"]),
    ],
)
def test_detail_offers_the_actions_of_the_status(staff_client, customer, status, shown, hidden):
    # given
    invoice = InvoiceFactory(customer=customer, status=status)

    # when
    text = staff_client.get(url("detail", invoice)).text

    # then
    for label in shown:
        assert label in text
    for label in hidden:
        assert label not in text


def test_another_organisations_invoice_is_not_found(staff_client):
    # given
    stranger = InvoiceFactory()

    # then
    for name in ("detail", "edit", "pdf"):
        assert staff_client.get(url(name, stranger)).status_code == 404
    for name in ("mark_sent", "void"):
        assert staff_client.post(url(name, stranger)).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == InvoiceStatus.DRAFT


# session, user, membership + organisation, the invoice with customer, creator,
# order and quote; its lines, contacts, payments, credits; its history; the
# organisation switcher's memberships; the comment thread
DETAIL_QUERIES = 12  # with the document's portal activity (one query)


@pytest.mark.parametrize("count", [5, 60])
def test_the_detail_page_needs_the_same_queries_for_few_and_many_lines_and_payments(
    staff_client, customer, django_assert_num_queries, count
):
    # given
    ContentType.objects.get_for_model(Invoice)  # cached for the life of the process
    invoice = InvoiceFactory(customer=customer, status="sent", total=Decimal(count * 1000))
    for position in range(1, count + 1):
        InvoiceLineFactory(document=invoice, position=position)
        payment = Payment.objects.create(
            organization=customer.organization,
            customer=customer,
            number=f"PAY-{position:05d}",
            amount=Decimal(1),
            currency="EUR",
        )
        PaymentAllocation.objects.create(
            organization=customer.organization, payment=payment, invoice=invoice, amount=1
        )
        CreditApplication.objects.create(
            organization=customer.organization,
            credit_note=CreditNoteFactory(customer=customer, number=f"CN-{position:05d}"),
            invoice=invoice,
            amount=1,
        )

    # when / then
    with django_assert_num_queries(DETAIL_QUERIES):
        response = staff_client.get(url("detail", invoice))
    assert len(response.context["payments"]) == len(response.context["credits"]) == count
    assert response.text.count(">PAY-") == response.text.count(">CN-") == count


# --- actions ---------------------------------------------------------------------------------


def test_mark_as_sent(staff_client, customer):
    # given
    invoice = make_invoice(customer)

    # when
    response = staff_client.post(url("mark_sent", invoice))

    # then
    invoice.refresh_from_db()
    assert response.url == url("detail", invoice)
    assert messages_of(response) == ["Invoice INV-00001 marked as sent."]
    assert invoice.status == InvoiceStatus.SENT


def test_mark_as_sent_twice_says_why_not(staff_client, customer):
    invoice = make_invoice(customer, sent=True)

    response = staff_client.post(url("mark_sent", invoice))

    assert messages_of(response) == ["This invoice has already been sent."]


def test_actions_only_answer_post(staff_client, customer):
    invoice = make_invoice(customer)

    assert staff_client.get(url("mark_sent", invoice)).status_code == 405
    assert staff_client.get(url("void", invoice)).status_code == 405


def test_void(staff_client, customer):
    # given
    invoice = make_invoice(customer, sent=True)

    # when
    response = staff_client.post(url("void", invoice))

    # then
    invoice.refresh_from_db()
    assert messages_of(response) == ["Invoice INV-00001 is void."]
    assert invoice.status == InvoiceStatus.VOID


def test_void_with_a_payment_says_which(staff_client, customer):
    # given
    invoice = make_invoice(customer, sent=True)
    record_payment(invoice, "10", number="PAY-00005")

    # when
    response = staff_client.post(url("void", invoice))

    # then
    invoice.refresh_from_db()
    assert messages_of(response) == [
        "Payments are recorded against this invoice (PAY-00005). Delete them before voiding it."
    ]
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID


def test_pdf_download(staff_client, customer):
    # given
    invoice = make_invoice(customer, line("Design work"))

    # when
    response = staff_client.get(url("pdf", invoice))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="INV-00001.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_the_menu_links_sales_orders_and_invoices(staff_client):
    text = staff_client.get(LIST).text

    assert reverse("sales_orders:list") in text
    assert f'class="nav-link active" href="{LIST}"' in text
