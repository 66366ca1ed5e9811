"""The portal's document pages: lists, detail pages and PDFs of quotes, sales
orders, invoices, payments and credit notes, scoped to the contact's customer
and to the modules the contact may see."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico.customers.tests.factories import CustomerFactory
from portico.payments.models import Payment, PaymentAllocation, PaymentMode
from portico.payments.tests.factories import PaymentFactory
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.models import (
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    FulfilmentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Quote,
    QuoteLine,
    QuoteStatus,
    SalesOrder,
    SalesOrderLine,
    SalesOrderStatus,
)
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    QuoteFactory,
    QuoteLineFactory,
    SalesOrderFactory,
)
from portico.sales.tests.test_pdf import pdf_text

pytestmark = pytest.mark.django_db

KINDS = ["quote", "sales_order", "invoice", "payment", "credit_note"]
MODELS = {
    "quote": Quote,
    "sales_order": SalesOrder,
    "invoice": Invoice,
    "payment": Payment,
    "credit_note": CreditNote,
}
LINE_MODELS = {
    "quote": QuoteLine,
    "sales_order": SalesOrderLine,
    "invoice": InvoiceLine,
    "credit_note": CreditNoteLine,
}
# A status the portal shows, the draft it never shows, void (shown on request).
SHOWN = {
    "quote": QuoteStatus.SENT,
    "sales_order": SalesOrderStatus.CONFIRMED,
    "invoice": InvoiceStatus.SENT,
    "credit_note": CreditNoteStatus.OPEN,
}
DRAFT = {
    "quote": QuoteStatus.DRAFT,
    "sales_order": SalesOrderStatus.DRAFT,
    "invoice": InvoiceStatus.DRAFT,
    "credit_note": CreditNoteStatus.DRAFT,
}
VOID = {
    "sales_order": SalesOrderStatus.VOID,
    "invoice": InvoiceStatus.VOID,
    "credit_note": CreditNoteStatus.VOID,
}
FACTORIES = {
    "quote": QuoteFactory,
    "sales_order": SalesOrderFactory,
    "invoice": InvoiceFactory,
    "credit_note": CreditNoteFactory,
    "payment": PaymentFactory,
}


def make(kind: str, customer, **fields):
    """A document of ``kind`` the portal shows (unless ``status`` says otherwise)."""
    if kind != "payment":
        fields.setdefault("status", SHOWN[kind])
    return FACTORIES[kind](customer=customer, **fields)


def build(kind: str, customer, **fields):
    if kind != "payment":
        fields.setdefault("status", SHOWN[kind])
    return FACTORIES[kind].build(customer=customer, **fields)


@pytest.fixture
def customer(portal_access):
    return portal_access.customer


@pytest.fixture
def urls(portal_reverse, portal_organization):
    def url(kind: str, page: str, document=None) -> str:
        kwargs = {"pk": document.pk} if document is not None else {}
        return portal_reverse(portal_organization, f"portal:{kind}_{page}", **kwargs)

    return url


# --- lists ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_shows_the_customers_documents_newest_first(portal_client, customer, urls, kind):
    # given: two of the customer's, one of another customer, one of another organisation
    older = make(kind, customer, date=date(2026, 1, 5))
    newer = make(kind, customer, date=date(2026, 3, 9))
    other_customer = make(kind, CustomerFactory(organization=customer.organization))
    other_organization = make(kind, CustomerFactory())

    # when
    response = portal_client.get(urls(kind, "list"))

    # then
    assert response.status_code == 200
    text = response.text
    assert newer.number in text and older.number in text
    assert text.index(newer.number) < text.index(older.number)
    assert other_customer.number not in text
    assert other_organization.number not in text
    assert urls(kind, "detail", newer) in text


@pytest.mark.parametrize("kind", ["quote", "sales_order", "invoice", "credit_note"])
def test_a_list_never_shows_drafts_and_void_only_when_the_organisation_chose(
    portal_client, customer, urls, kind
):
    # given
    shown = make(kind, customer)
    draft = make(kind, customer, status=DRAFT[kind])
    void = make(kind, customer, status=VOID[kind]) if kind in VOID else None

    # when / then: drafts and void are hidden by default
    text = portal_client.get(urls(kind, "list")).text
    assert shown.number in text
    assert draft.number not in text
    if void is not None:
        assert void.number not in text

        # when: the organisation shows void documents
        PortalSettingsFactory(organization=customer.organization, show_void_documents=True)
        text = portal_client.get(urls(kind, "list")).text

        # then: void is listed (marked Void), drafts still never
        assert void.number in text
        assert "Void" in text
        assert draft.number not in text


def test_invoice_list_columns_status_badges_due_date_and_balance(portal_client, customer, urls):
    # given: an overdue, partially paid invoice and a paid one
    overdue = make(
        "invoice",
        customer,
        status=InvoiceStatus.PARTIALLY_PAID,
        date=timezone.localdate() - timedelta(days=40),
        due_date=timezone.localdate() - timedelta(days=10),
        reference="PO-OVERDUE",
        total=Decimal("500.00"),
        balance_due=Decimal("123.45"),
    )
    make("invoice", customer, status=InvoiceStatus.PAID, balance_due=Decimal(0))

    # when
    text = portal_client.get(urls("invoice", "list")).text

    # then
    assert "PO-OVERDUE" in text
    assert "Overdue" in text and "Partially paid" in text and "Paid" in text
    assert "$123.45" in text and "$500.00" in text
    assert overdue.due_date.strftime("%Y") in text
    assert "Balance due" in text and "Due date" in text


def test_payment_list_shows_mode_reference_and_the_invoices_paid(portal_client, customer, urls):
    # given: a payment for two invoices of the customer
    first = make("invoice", customer)
    second = make("invoice", customer)
    payment = make(
        "payment",
        customer,
        mode=PaymentMode.CHECK,
        reference="CHQ-778",
        amount=Decimal("200.00"),
    )
    for invoice in (first, second):
        PaymentAllocation.objects.create(
            organization=customer.organization,
            payment=payment,
            invoice=invoice,
            amount=Decimal("100.00"),
        )

    # when
    text = portal_client.get(urls("payment", "list")).text

    # then
    assert payment.number in text
    assert "Check" in text and "CHQ-778" in text and "$200.00" in text
    assert first.number in text and second.number in text
    assert urls("invoice", "detail", first) in text


def test_quote_list_uses_the_display_status_expired(portal_client, customer, urls):
    make("quote", customer, date=date(2020, 1, 1), expiry_date=date(2020, 1, 31))

    text = portal_client.get(urls("quote", "list")).text

    assert "Expired" in text


@pytest.mark.parametrize("kind", KINDS)
def test_search_finds_by_number_and_reference(portal_client, customer, urls, kind):
    # given
    wanted = make(kind, customer, reference="Warehouse roof")
    other = make(kind, customer, reference="Office chairs")

    # when: by reference, case-insensitive
    text = portal_client.get(urls(kind, "list"), {"q": "warehouse"}).text

    # then
    assert wanted.number in text and other.number not in text

    # when: by number
    text = portal_client.get(urls(kind, "list"), {"q": other.number}).text

    # then
    assert other.number in text and wanted.number not in text


@pytest.mark.parametrize("kind", KINDS)
def test_date_filters(portal_client, customer, urls, kind):
    # given
    january = make(kind, customer, date=date(2026, 1, 15))
    february = make(kind, customer, date=date(2026, 2, 15))
    march = make(kind, customer, date=date(2026, 3, 15))

    # when
    text = portal_client.get(
        urls(kind, "list"), {"date_from": "2026-02-01", "date_to": "2026-02-28"}
    ).text

    # then
    assert february.number in text
    assert january.number not in text and march.number not in text


def test_a_bad_date_is_ignored_not_an_error(portal_client, customer, urls):
    invoice = make("invoice", customer)

    response = portal_client.get(urls("invoice", "list"), {"date_from": "2026-02-31"})

    assert response.status_code == 200
    assert invoice.number in response.text


def test_invoice_status_filter_unpaid_and_overdue(portal_client, customer, urls):
    # given
    today = timezone.localdate()
    overdue = make("invoice", customer, due_date=today - timedelta(days=1))
    due_later = make("invoice", customer, due_date=today + timedelta(days=10))
    paid = make("invoice", customer, status=InvoiceStatus.PAID)

    # when / then
    text = portal_client.get(urls("invoice", "list"), {"status": "unpaid"}).text
    assert overdue.number in text and due_later.number in text and paid.number not in text

    text = portal_client.get(urls("invoice", "list"), {"status": "overdue"}).text
    assert overdue.number in text and due_later.number not in text and paid.number not in text


def test_the_list_paginates_25_a_page(portal_client, customer, urls):
    # given: 30 invoices, one a day
    start = date(2026, 1, 1)
    invoices = [make("invoice", customer, date=start + timedelta(days=day)) for day in range(30)]

    # when
    first_page = portal_client.get(urls("invoice", "list")).text
    second_page = portal_client.get(urls("invoice", "list"), {"page": 2}).text

    # then: the newest 25 first, then the oldest 5
    assert all(invoice.number in first_page for invoice in invoices[5:])
    assert not any(invoice.number in first_page for invoice in invoices[:5])
    assert all(invoice.number in second_page for invoice in invoices[:5])
    assert "1–25 of 30" in first_page
    assert "Page 2 of 2" in second_page


def test_empty_states_say_none_yet_or_none_match(portal_client, customer, urls):
    # when: nothing at all
    text = portal_client.get(urls("invoice", "list")).text
    # then
    assert "No invoices yet." in text

    # given: an invoice that does not match
    make("invoice", customer, reference="Roof")
    # when
    text = portal_client.get(urls("invoice", "list"), {"q": "nothing-like-this"}).text
    # then
    assert "None match “nothing-like-this”." in text
    assert "No invoices yet." not in text


def test_htmx_asks_for_the_results_only(portal_client, customer, urls):
    invoice = make("invoice", customer)

    response = portal_client.get(urls("invoice", "list"), headers={"HX-Request": "true"})

    assert invoice.number in response.text
    assert "<html" not in response.text
    assert 'name="q"' not in response.text


@pytest.mark.parametrize("kind", KINDS)
def test_list_queries_do_not_grow_with_the_number_of_documents(
    page_cache_off, portal_client, portal_access, customer, urls, kind, django_assert_num_queries
):
    # given: the customer with 5 documents (payments with an invoice each)
    def add(count: int) -> None:
        documents = MODELS[kind].objects.bulk_create(
            [build(kind, customer) for _index in range(count)]
        )
        if kind == "payment":
            invoices = Invoice.objects.bulk_create(
                [build("invoice", customer) for _index in range(count)]
            )
            PaymentAllocation.objects.bulk_create(
                PaymentAllocation(
                    organization=customer.organization,
                    payment=payment,
                    invoice=invoice,
                    amount=payment.amount,
                )
                for payment, invoice in zip(documents, invoices, strict=True)
            )

    add(5)
    url = urls(kind, "list")
    portal_client.get(url)  # the session's first request records the sign-in
    with CaptureQueriesContext(connection) as five:
        assert portal_client.get(url).status_code == 200

    # when: 200 documents
    add(195)

    # then: the same number of queries
    with django_assert_num_queries(len(five.captured_queries)):
        response = portal_client.get(url)
    assert "1–25 of 200" in response.text


# --- detail pages -----------------------------------------------------------------------


def test_quote_detail_renders_the_document_as_issued(
    portal_client, portal_organization, customer, urls
):
    # given
    portal_organization.address = "1 Harbour Road\nPort Town"
    portal_organization.save()
    quote = make(
        "quote",
        customer,
        reference="Phase 2",
        billing_address="Acme\n42 Long Street",
        shipping_address="Acme depot\n7 Dock Lane",
        notes="Thank you for the opportunity.",
        terms="Valid for 30 days.",
        subtotal=Decimal("300.00"),
        discount_total=Decimal("15.00"),
        tax_total=Decimal("28.50"),
        total=Decimal("313.50"),
    )
    QuoteLineFactory(
        document=quote,
        description="Implementation day\nOn site",
        quantity=Decimal(3),
        unit="day",
        rate=Decimal("100.00"),
        discount_percent=Decimal(5),
        tax_name="VAT",
        tax_rate=Decimal(10),
        amount=Decimal("285.00"),
    )

    # when
    response = portal_client.get(urls("quote", "detail", quote))

    # then
    assert response.status_code == 200
    text = response.text
    for expected in (
        portal_organization.name,
        "1 Harbour Road",
        quote.number,
        "Sent",
        "42 Long Street",
        "7 Dock Lane",
        "Phase 2",
        "Implementation day",
        "3 day",
        "$100.00",
        "5%",
        "VAT 10%",
        "$285.00",
        "$300.00",
        "−$15.00",
        "$28.50",
        "$313.50",
        "Thank you for the opportunity.",
        "Valid for 30 days.",
        urls("quote", "pdf", quote),
        "Download PDF",
    ):
        assert expected in text, expected


def test_sales_order_detail_shows_fulfilment_and_its_invoices(portal_client, customer, urls):
    # given
    order = make(
        "sales_order",
        customer,
        fulfilment_status=FulfilmentStatus.SHIPPED,
        shipment_date=date(2026, 4, 2),
        carrier="DHL Express",
        tracking_number="JD0146000044",
    )
    invoice = make("invoice", customer, sales_order=order)
    draft_invoice = make("invoice", customer, sales_order=order, status=InvoiceStatus.DRAFT)

    # when
    text = portal_client.get(urls("sales_order", "detail", order)).text

    # then
    assert "Shipped" in text and "DHL Express" in text and "JD0146000044" in text
    assert "April 2, 2026" in text
    assert urls("invoice", "detail", invoice) in text
    assert draft_invoice.number not in text


def test_invoice_detail_shows_totals_payments_and_credits(portal_client, customer, urls):
    # given: 1,000 invoiced, 300 paid, 200 credited
    invoice = make(
        "invoice",
        customer,
        status=InvoiceStatus.PARTIALLY_PAID,
        subtotal=Decimal("1000.00"),
        total=Decimal("1000.00"),
        amount_paid=Decimal("300.00"),
        credits_applied=Decimal("200.00"),
        balance_due=Decimal("500.00"),
    )
    InvoiceLineFactory(document=invoice, description="Support", amount=Decimal("1000.00"))
    payment = make("payment", customer, reference="TX-991", amount=Decimal("300.00"))
    PaymentAllocation.objects.create(
        organization=customer.organization, payment=payment, invoice=invoice, amount=payment.amount
    )
    credit_note = make("credit_note", customer, status=CreditNoteStatus.CLOSED)
    CreditApplication.objects.create(
        organization=customer.organization,
        credit_note=credit_note,
        invoice=invoice,
        amount=Decimal("200.00"),
    )

    # when
    text = portal_client.get(urls("invoice", "detail", invoice)).text

    # then
    assert "Support" in text
    assert "$1,000.00" in text and "−$300.00" in text and "−$200.00" in text
    assert "$500.00" in text and "Balance due" in text
    assert payment.number in text and "TX-991" in text
    assert urls("payment", "detail", payment) in text
    assert urls("credit_note", "detail", credit_note) in text


def test_credit_note_detail_lists_its_applications(portal_client, customer, urls):
    # given
    invoice = make("invoice", customer)
    credit_note = make(
        "credit_note", customer, invoice=invoice, reason="Returned goods", total=Decimal("80.00")
    )
    CreditApplication.objects.create(
        organization=customer.organization,
        credit_note=credit_note,
        invoice=invoice,
        amount=Decimal("30.00"),
    )

    # when
    text = portal_client.get(urls("credit_note", "detail", credit_note)).text

    # then
    assert "Returned goods" in text and "$30.00" in text
    assert urls("invoice", "detail", invoice) in text


def test_payment_detail_is_the_receipt(portal_client, customer, urls):
    # given: 250 received, 200 for an invoice, 50 kept as credit
    invoice = make("invoice", customer)
    payment = make(
        "payment",
        customer,
        amount=Decimal("250.00"),
        unused_amount=Decimal("50.00"),
        mode=PaymentMode.BANK_TRANSFER,
        reference="TX-1",
        notes="internal: customer called twice",
    )
    PaymentAllocation.objects.create(
        organization=customer.organization,
        payment=payment,
        invoice=invoice,
        amount=Decimal("200.00"),
    )

    # when
    text = portal_client.get(urls("payment", "detail", payment)).text

    # then
    assert "Payment receipt" in text and payment.number in text
    assert "$250.00" in text and "$200.00" in text and "$50.00" in text
    assert "Bank transfer" in text and "TX-1" in text
    assert urls("invoice", "detail", invoice) in text
    assert "customer called twice" not in text  # staff notes stay on the staff side
    assert urls("payment", "pdf", payment) in text


def test_links_to_hidden_modules_are_plain_text(portal_client, portal_access, customer, urls):
    # given: a contact limited to invoices
    portal_access.modules = ["invoices"]
    portal_access.save()
    invoice = make("invoice", customer)
    payment = make("payment", customer)
    PaymentAllocation.objects.create(
        organization=customer.organization, payment=payment, invoice=invoice, amount=payment.amount
    )

    # when
    text = portal_client.get(urls("invoice", "detail", invoice)).text

    # then: the payment is listed, not linked
    assert payment.number in text
    assert urls("payment", "detail", payment) not in text


@pytest.mark.parametrize("kind", ["quote", "sales_order", "invoice", "credit_note"])
def test_detail_queries_do_not_grow_with_the_number_of_lines(
    page_cache_off, portal_client, customer, urls, kind, django_assert_num_queries
):
    # given: a document with 3 lines and one with 60
    def with_lines(count: int):
        document = make(kind, customer)
        LINE_MODELS[kind].objects.bulk_create(
            LINE_MODELS[kind](
                document=document,
                organization=customer.organization,
                position=position,
                description=f"Line {position}",
                quantity=Decimal(1),
                rate=Decimal(10),
                amount=Decimal(10),
            )
            for position in range(1, count + 1)
        )
        portal_client.get(urls(kind, "detail", document))  # the first view is recorded once
        return document

    small, large = with_lines(3), with_lines(60)
    with CaptureQueriesContext(connection) as three:
        assert portal_client.get(urls(kind, "detail", small)).status_code == 200

    # when / then
    with django_assert_num_queries(len(three.captured_queries)):
        response = portal_client.get(urls(kind, "detail", large))
    assert "Line 60" in response.text


# --- PDFs -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_download_pdf(portal_client, customer, urls, kind):
    # given
    document = make(kind, customer)
    if kind in LINE_MODELS:
        LINE_MODELS[kind].objects.create(
            document=document,
            organization=customer.organization,
            position=1,
            description="Consulting",
            quantity=Decimal(1),
            rate=Decimal(100),
            amount=Decimal(100),
        )

    # when
    response = portal_client.get(urls(kind, "pdf", document))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{document.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert document.number in pdf_text(response.content)


def test_the_pdf_is_in_the_contacts_language(portal_client, portal_access, customer, urls):
    # given: the contact reads the portal in German
    portal_access.language = "de"
    portal_access.save()
    invoice = make("invoice", customer)

    # when
    response = portal_client.get(urls("invoice", "pdf", invoice))

    assert response.status_code == 200
    text = pdf_text(response.content)
    # then: money is written the German way (100,00 $)
    assert "100,00 $" in text and invoice.number in text


# --- isolation --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("page", ["detail", "pdf"])
@pytest.mark.parametrize("owner", ["other_customer", "other_organization"])
def test_another_customers_document_is_not_found(portal_client, customer, urls, kind, page, owner):
    # given
    other = (
        CustomerFactory(organization=customer.organization)
        if owner == "other_customer"
        else CustomerFactory()
    )
    document = make(kind, other)

    # when / then
    assert portal_client.get(urls(kind, page, document)).status_code == 404


@pytest.mark.parametrize("kind", ["quote", "sales_order", "invoice", "credit_note"])
@pytest.mark.parametrize("page", ["detail", "pdf"])
def test_a_draft_is_not_found(portal_client, customer, urls, kind, page):
    draft = make(kind, customer, status=DRAFT[kind])

    assert portal_client.get(urls(kind, page, draft)).status_code == 404


@pytest.mark.parametrize("kind", ["sales_order", "invoice", "credit_note"])
def test_void_is_not_found_unless_the_organisation_shows_it(portal_client, customer, urls, kind):
    # given
    void = make(kind, customer, status=VOID[kind])

    # then: hidden by default
    assert portal_client.get(urls(kind, "detail", void)).status_code == 404

    # when: the organisation shows void documents
    PortalSettingsFactory(organization=customer.organization, show_void_documents=True)

    # then
    response = portal_client.get(urls(kind, "detail", void))
    assert response.status_code == 200
    assert "Void" in response.text


@pytest.mark.parametrize("kind", KINDS)
def test_signed_out_visitors_are_sent_to_sign_in(client, portal_access, urls, kind):
    document = make(kind, portal_access.customer)

    response = client.get(urls(kind, "detail", document))

    assert response.status_code == 302
    assert "/sign-in/" in response.url


# --- per-contact modules ----------------------------------------------------------------


def test_a_contact_limited_to_invoices_and_payments_sees_only_those(
    portal_client, portal_access, portal_reverse, customer, urls
):
    # given: staff limited the contact to Invoices and Payments
    portal_access.modules = ["invoices", "payments"]
    portal_access.save()
    quote = make("quote", customer)
    invoice = make("invoice", customer)

    # when
    text = portal_client.get(urls("invoice", "list")).text

    # then: the nav shows only those
    assert urls("invoice", "list") in text
    assert urls("payment", "list") in text
    for hidden in ("quote", "sales_order", "credit_note"):
        assert urls(hidden, "list") not in text
    assert invoice.number in text

    # and: direct URLs to quotes answer 404
    assert portal_client.get(urls("quote", "list")).status_code == 404
    assert portal_client.get(urls("quote", "detail", quote)).status_code == 404
    assert portal_client.get(urls("quote", "pdf", quote)).status_code == 404


def test_a_module_the_organisation_turned_off_is_hidden_for_everybody(
    client, portal_access, portal_reverse, customer, urls
):
    # given: the organisation shows no sales orders; a second contact without limits
    PortalSettingsFactory(
        organization=customer.organization,
        modules=["quotes", "invoices", "payments", "credit_notes", "statement", "projects"],
    )
    colleague = PortalAccessFactory(
        active=True,
        contact__customer=customer,
        contact__organization=customer.organization,
        modules=["sales_orders", "invoices"],
    )
    order = make("sales_order", customer)

    for access in (portal_access, colleague):
        client.force_login(access.user)
        # when
        home = client.get(portal_reverse(customer.organization, "portal:home")).text
        # then
        assert urls("sales_order", "list") not in home
        assert client.get(urls("sales_order", "list")).status_code == 404
        assert client.get(urls("sales_order", "detail", order)).status_code == 404
