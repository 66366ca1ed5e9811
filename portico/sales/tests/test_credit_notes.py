from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from portico.catalog.tests.factories import TaxFactory
from portico.customers.tests.factories import CustomerFactory
from portico.payments.tests.factories import open_invoice
from portico.sales.history import history_of
from portico.sales.models import (
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
)
from portico.sales.services import credit_notes as services
from portico.sales.services.common import DocumentStateError, SalesError
from portico.sales.services.credit_notes import CreditNoteData
from portico.sales.tests.factories import CreditNoteFactory, line

pytestmark = pytest.mark.django_db

D = Decimal
LIST = reverse("credit_notes:list")
CREATE = reverse("credit_notes:create")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", display_name="Acme")


def create(customer, *lines, **fields) -> CreditNote:
    return services.credit_note_create(
        organization=customer.organization,
        data=CreditNoteData(
            customer_id=customer.pk,
            date=fields.pop("date", date(2025, 3, 14)),
            lines=list(lines) or [line(rate="100")],
            **fields,
        ),
    )


def opened(customer, rate="100") -> CreditNote:
    return services.credit_note_open(credit_note=create(customer, line(rate=rate)))


def apply(credit_note, *pairs):
    return services.credit_note_apply(
        credit_note=credit_note, applications=[(invoice.pk, D(amount)) for invoice, amount in pairs]
    )


def invoice_state(invoice) -> tuple[str, Decimal, Decimal]:
    invoice = Invoice.objects.get(pk=invoice.pk)
    return invoice.status, invoice.credits_applied, invoice.balance_due


# --- create / update ------------------------------------------------------------------


def test_a_credit_note_is_created_as_a_numbered_draft_with_totals(customer, organization):
    # given
    tax = TaxFactory(organization=organization, rate=D("10"))
    invoice = open_invoice(customer, "300")

    # when
    credit_note = create(
        customer,
        line(quantity="2", rate="50", tax_id=tax.pk),
        line(rate="20", discount="50"),
        invoice_id=invoice.pk,
        reason="Damaged goods",
    )

    # then
    assert credit_note.number == "CN-00001"
    assert credit_note.status == CreditNoteStatus.DRAFT
    assert credit_note.currency == "EUR"
    assert credit_note.invoice == invoice
    assert credit_note.reason == "Damaged goods"
    assert (credit_note.subtotal, credit_note.tax_total, credit_note.total) == (
        D("120"),
        D("10"),
        D("120"),
    )
    assert CreditNoteLine.objects.filter(document=credit_note).count() == 2
    assert [event.kind for event in history_of(document=credit_note)] == ["created"]


def test_a_negative_quantity_or_rate_is_refused_and_nothing_is_saved(customer):
    with pytest.raises(SalesError) as error:
        create(customer, line(quantity="-1"))
    assert error.value.message == "Line 1: the quantity must be more than zero."

    with pytest.raises(SalesError) as error:
        create(customer, line(rate="-5"))
    assert error.value.message == "Line 1: the rate cannot be negative."
    assert not CreditNote.objects.exists()


def test_lines_in_another_currency_are_refused(customer):
    with pytest.raises(SalesError) as error:
        create(customer, currency="USD")

    assert "Acme is billed in EUR" in error.value.message
    assert not CreditNote.objects.exists()


def test_the_invoice_must_be_the_same_customers_and_issued(customer, organization):
    other = open_invoice(CustomerFactory(organization=organization), "100", number="INV-9")
    draft = open_invoice(customer, "100", number="INV-8", status=InvoiceStatus.DRAFT)

    with pytest.raises(SalesError) as error:
        create(customer, invoice_id=other.pk)
    assert error.value.message == "Choose an invoice of Acme."

    with pytest.raises(SalesError) as error:
        create(customer, invoice_id=draft.pk)
    assert error.value.message.startswith("INV-8 is draft")


def test_a_draft_is_edited_but_an_open_credit_note_is_not(customer):
    # given
    credit_note = create(customer)

    # when
    services.credit_note_update(
        credit_note=credit_note,
        data=CreditNoteData(
            customer_id=customer.pk, date=date(2025, 3, 15), lines=[line(rate="80")], reason="R"
        ),
    )

    # then
    credit_note.refresh_from_db()
    assert (credit_note.total, credit_note.reason) == (D("80"), "R")
    services.credit_note_open(credit_note=credit_note)
    with pytest.raises(DocumentStateError) as error:
        services.credit_note_update(
            credit_note=credit_note,
            data=CreditNoteData(customer_id=customer.pk, date=date(2025, 3, 15), lines=[line()]),
        )
    assert error.value.message == "Only a draft credit note can be edited; this one is open."


# --- open / apply / void ---------------------------------------------------------------


def test_opening_makes_the_total_available(customer):
    # when
    credit_note = opened(customer, rate="75")

    # then
    assert credit_note.status == CreditNoteStatus.OPEN
    assert credit_note.credits_remaining == D("75")
    with pytest.raises(DocumentStateError):
        services.credit_note_open(credit_note=credit_note)


def test_credit_is_applied_across_invoices_and_closes_when_used_up(customer):
    # given
    credit_note = opened(customer, rate="100")
    first = open_invoice(customer, "60", number="INV-1")
    second = open_invoice(customer, "200", number="INV-2")

    # when
    apply(credit_note, (first, "60"), (second, "15"))
    credit_note.refresh_from_db()
    # then
    assert credit_note.credits_remaining == D("25")
    assert credit_note.status == CreditNoteStatus.OPEN
    assert invoice_state(first) == (InvoiceStatus.PAID, D("60"), D("0"))
    assert invoice_state(second) == (InvoiceStatus.PARTIALLY_PAID, D("15"), D("185"))
    assert history_of(document=first).first().text == "Credit CN-00001 of €60.00 applied"

    # when the rest is applied
    apply(credit_note, (second, "25"))
    credit_note.refresh_from_db()

    # then
    assert credit_note.credits_remaining == 0
    assert credit_note.status == CreditNoteStatus.CLOSED


def test_more_than_the_remaining_credit_is_refused(customer):
    # given
    credit_note = opened(customer, rate="50")
    invoice = open_invoice(customer, "200")

    # when
    with pytest.raises(SalesError) as error:
        apply(credit_note, (invoice, "60"))

    # then
    assert error.value.message == "Only €50.00 of credit remains; €60.00 cannot be applied."
    assert not CreditApplication.objects.exists()
    assert invoice_state(invoice) == (InvoiceStatus.SENT, D("0"), D("200"))


def test_more_than_the_invoice_balance_is_refused(customer):
    credit_note = opened(customer, rate="500")
    invoice = open_invoice(customer, "100", number="INV-5")

    with pytest.raises(SalesError) as error:
        apply(credit_note, (invoice, "150"))

    assert error.value.message == "€150.00 is more than the €100.00 still due on INV-5."


def test_credit_goes_only_to_the_same_customers_open_invoices_in_its_currency(
    customer, organization
):
    credit_note = opened(customer)
    others = open_invoice(CustomerFactory(organization=organization), "100", number="INV-O")
    dollars = open_invoice(customer, "100", number="INV-U", currency="USD")
    paid = open_invoice(customer, "100", number="INV-P", status=InvoiceStatus.PAID)

    for invoice, message in [
        (others, "INV-O is not an invoice of Acme."),
        (dollars, "INV-U is in USD, not EUR."),
        (paid, "INV-P is paid: only sent or partially paid invoices can be paid or credited."),
    ]:
        with pytest.raises(SalesError) as error:
            apply(credit_note, (invoice, "10"))
        assert error.value.message == message


def test_a_credit_note_can_go_to_an_invoice_without_partial_payments(customer):
    """Partial payments are about money received; a credit is not a payment."""
    credit_note = opened(customer, rate="30")
    invoice = open_invoice(customer, "100", allow_partial_payments=False)

    apply(credit_note, (invoice, "30"))

    assert invoice_state(invoice) == (InvoiceStatus.PARTIALLY_PAID, D("30"), D("70"))


def test_a_draft_credit_note_cannot_be_applied(customer):
    credit_note = create(customer)
    invoice = open_invoice(customer, "100")

    with pytest.raises(DocumentStateError):
        apply(credit_note, (invoice, "10"))


def test_void_is_refused_once_credit_is_applied(customer):
    # given
    credit_note = opened(customer)
    invoice = open_invoice(customer, "100", number="INV-7")
    apply(credit_note, (invoice, "10"))

    # when
    with pytest.raises(DocumentStateError) as error:
        services.credit_note_void(credit_note=credit_note)

    # then
    assert "applied to INV-7" in error.value.message
    assert CreditNote.objects.get(pk=credit_note.pk).status == CreditNoteStatus.OPEN


def test_an_unapplied_credit_note_is_voided(customer):
    credit_note = opened(customer)

    services.credit_note_void(credit_note=credit_note)

    credit_note.refresh_from_db()
    assert (credit_note.status, credit_note.credits_remaining) == (CreditNoteStatus.VOID, 0)


def test_removing_an_application_gives_the_credit_back(customer, organization):
    # given
    credit_note = opened(customer, rate="40")
    invoice = open_invoice(customer, "100")
    apply(credit_note, (invoice, "40"))
    application = CreditApplication.objects.get()

    # when
    services.credit_application_remove(organization=organization, application_id=application.pk)

    # then
    credit_note.refresh_from_db()
    assert (credit_note.status, credit_note.credits_remaining) == (CreditNoteStatus.OPEN, D(40))
    assert invoice_state(invoice) == (InvoiceStatus.SENT, D("0"), D("100"))
    services.credit_note_void(credit_note=credit_note)  # now allowed


# --- views -----------------------------------------------------------------------------


def form_data(customer, **fields) -> dict:
    return {
        "customer": str(customer.pk),
        "date": "2025-03-14",
        "reference": "",
        "invoice": "",
        "reason": "Returned",
        "notes": "",
        "terms": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-description": "Refund",
        "lines-0-quantity": "1",
        "lines-0-rate": "45",
        "lines-0-discount_percent": "0",
    } | fields


def test_create_from_the_form(staff_client, customer):
    # given
    invoice = open_invoice(customer, "100", number="INV-1")
    page = staff_client.get(CREATE, {"invoice": invoice.pk})
    assert page.status_code == 200
    assert page.context["form"].initial["customer"] == customer.pk

    # when
    response = staff_client.post(CREATE, form_data(customer, invoice=str(invoice.pk)))

    # then
    credit_note = CreditNote.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("credit_notes:detail", args=[credit_note.pk])
    assert messages_of(response) == ["Credit note CN-00001 created."]
    assert (credit_note.total, credit_note.invoice, credit_note.reason) == (
        D("45"),
        invoice,
        "Returned",
    )


def test_a_negative_rate_in_the_form_is_refused(staff_client, customer):
    response = staff_client.post(CREATE, form_data(customer, **{"lines-0-rate": "-45"}))

    assert response.status_code == 422
    assert "The rate cannot be negative." in response.text
    assert not CreditNote.objects.exists()


def test_the_detail_shows_lines_credit_and_actions(staff_client, customer):
    # given
    credit_note = opened(customer, rate="100")
    invoice = open_invoice(customer, "300", number="INV-3")
    apply(credit_note, (invoice, "40"))

    # when
    response = staff_client.get(reverse("credit_notes:detail", args=[credit_note.pk]))

    # then
    text = response.text
    assert response.status_code == 200
    for expected in ("Credit note CN-00001", "Open", "€60.00", "INV-3", "€40.00", "Consulting"):
        assert expected in text
    assert reverse("credit_notes:apply", args=[credit_note.pk]) in text
    assert reverse("credit_notes:pdf", args=[credit_note.pk]) in text
    assert reverse("credit_notes:edit", args=[credit_note.pk]) not in text


def test_open_apply_and_void_through_the_pages(staff_client, customer):
    # given
    credit_note = create(customer, line(rate="50"))
    invoice = open_invoice(customer, "100")

    # when
    staff_client.post(reverse("credit_notes:open", args=[credit_note.pk]))
    apply_url = reverse("credit_notes:apply", args=[credit_note.pk])
    page = staff_client.get(apply_url)
    refused = staff_client.post(apply_url, {f"apply_{invoice.pk}": "80"})
    applied = staff_client.post(apply_url, {f"apply_{invoice.pk}": "50"})
    void = staff_client.post(reverse("credit_notes:void", args=[credit_note.pk]))

    # then
    assert page.status_code == 200 and "Apply in full" in page.text
    assert refused.status_code == 422
    assert "Only €50.00 of credit remains" in refused.text
    assert applied.status_code == 302
    assert CreditNote.objects.get(pk=credit_note.pk).status == CreditNoteStatus.CLOSED
    assert invoice_state(invoice) == (InvoiceStatus.PARTIALLY_PAID, D("50"), D("50"))
    assert "Remove it from the invoices before voiding" in messages_of(void)[-1]


def test_editing_an_open_credit_note_redirects_with_a_message(staff_client, customer):
    credit_note = opened(customer)

    response = staff_client.get(reverse("credit_notes:edit", args=[credit_note.pk]))

    assert response.status_code == 302
    assert messages_of(response) == ["Only a draft credit note can be edited."]


def test_the_list_filters_by_status_and_searches(staff_client, customer):
    CreditNoteFactory(customer=customer, number="CN-1", status=CreditNoteStatus.OPEN)
    CreditNoteFactory(customer=customer, number="CN-2", reference="RMA 5")
    CreditNoteFactory(number="CN-3")  # another organisation's

    def listed(**query):
        response = staff_client.get(LIST, query)
        return [note.number for note in response.context["page"].object_list]

    assert sorted(listed()) == ["CN-1", "CN-2"]
    assert listed(status="open") == ["CN-1"]
    assert listed(q="rma") == ["CN-2"]


@pytest.mark.parametrize("count", [5, 500])
def test_the_list_costs_the_same_queries_for_5_or_60(
    staff_client, customer, django_assert_num_queries, count
):
    for _ in range(count):
        CreditNoteFactory(customer=customer)

    # session, user, membership, count, page, the organisation switcher
    with django_assert_num_queries(6):
        response = staff_client.get(LIST)
    assert len(response.context["page"].object_list) == min(count, 50)


def test_the_list_answers_htmx_with_the_results_only(staff_client, customer):
    CreditNoteFactory(customer=customer, number="CN-1")

    response = staff_client.get(
        LIST, {"q": "CN"}, headers={"HX-Request": "true", "HX-Target": "credit-note-results"}
    )

    assert "<html" not in response.text
    assert "CN-1" in response.text
    assert response.headers["HX-Push-Url"] == f"{LIST}?q=CN"


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("credit_notes:detail", "get"),
        ("credit_notes:edit", "get"),
        ("credit_notes:apply", "get"),
        ("credit_notes:pdf", "get"),
        ("credit_notes:open", "post"),
        ("credit_notes:void", "post"),
    ],
)
def test_another_organisations_credit_note_is_not_found(staff_client, name, method):
    foreign = CreditNoteFactory()

    response = getattr(staff_client, method)(reverse(name, args=[foreign.pk]))

    assert response.status_code == 404
    assert CreditNote.objects.get(pk=foreign.pk).status == CreditNoteStatus.DRAFT


def test_the_invoice_choices_are_the_customers_issued_invoices(staff_client, customer):
    open_invoice(customer, "100", number="INV-A")
    open_invoice(customer, "100", number="INV-B", status=InvoiceStatus.DRAFT)
    open_invoice(CustomerFactory(), "100", number="INV-C")

    response = staff_client.get(reverse("credit_notes:invoice_choices"), {"customer": customer.pk})

    assert "INV-A" in response.text
    assert "INV-B" not in response.text and "INV-C" not in response.text
