"""PDFs of every document type: rendered by WeasyPrint, read back with pypdf."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader

from portico.catalog.tests.factories import TaxFactory
from portico.customers.tests.factories import CustomerFactory
from portico.payments.models import Payment, PaymentAllocation
from portico.sales.models import (
    CreditApplication,
    CreditNoteLine,
    CreditNoteStatus,
    InvoiceLine,
    InvoiceStatus,
    QuoteLine,
    QuoteStatus,
    SalesOrderLine,
)
from portico.sales.pdf import _css_string, document_pdf, page_counter_css, statement_pdf
from portico.sales.services.common import prepare_lines, replace_lines
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    QuoteFactory,
    SalesOrderFactory,
    line,
)

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def font_names(pdf: bytes) -> set[str]:
    return {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }


def with_lines(document, line_model, lines):
    """Give ``document`` real lines and totals, as the services store them."""
    prepared = prepare_lines(organization=document.organization, lines=lines)
    replace_lines(document=document, line_model=line_model, lines=prepared)
    document.balance_due = getattr(document, "balance_due", None) is not None and document.total
    document.save()
    return document


@pytest.fixture
def customer(organization):
    organization.name = "Northwind Consulting GmbH"
    organization.address = "Hauptstraße 5\n10115 Berlin\nGermany"
    organization.phone = "+49 30 1234"
    organization.save()
    return CustomerFactory(
        organization=organization,
        display_name="Acme Corporation",
        currency="USD",
        billing_street="1 Main Street",
        billing_city="Springfield",
        billing_postal_code="12345",
        billing_country="United States",
    )


def make_invoice(customer, *lines, **fields):
    fields = {
        "number": "INV-00042",
        "date": date(2026, 3, 1),
        "due_date": date(2026, 3, 31),
        "payment_terms": 30,
        "billing_address": "\n".join(customer.address_lines("billing")),
        **fields,
    }
    invoice = InvoiceFactory(customer=customer, **fields)
    return with_lines(invoice, InvoiceLine, list(lines))


@pytest.fixture
def vat(organization):
    return TaxFactory(organization=organization, name="VAT", rate=Decimal("20"))


def test_invoice_pdf_shows_a_complete_business_document(customer, vat):
    # given an invoice with taxed, discounted and multi-line lines, partly paid
    invoice = make_invoice(
        customer,
        line("Website redesign\nHome page and three templates", "1", "1000", tax_id=vat.pk),
        line("Hosting (12 months)", "12", "15.50", discount="10", tax_id=vat.pk),
        line("Support hours", "2.5", "80"),
        status=InvoiceStatus.PARTIALLY_PAID,
        reference="PO-7781",
        notes="Thank you for your business.",
        terms="Payment by bank transfer within 30 days.",
    )
    invoice.amount_paid = Decimal("600.88")
    invoice.balance_due = Decimal("1000.00")
    invoice.save()

    # when
    pdf = document_pdf(document=invoice, language="en")

    # then
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in [
        "Northwind Consulting GmbH",
        "Hauptstraße 5",
        "Acme Corporation",
        "12345 Springfield",
        "INV-00042",
        "PO-7781",
        "March 1, 2026",  # invoice date
        "March 31, 2026",  # due date
        "Net 30",
        "Website redesign",
        "Home page and three templates",
        "Hosting (12 months)",
        "Support hours",
        "VAT (20%)",
        "$1,167.40",  # taxable amount
        "$233.48",  # tax
        "$1,386.00",  # subtotal
        "−$18.60",  # discount
        "$1,600.88",  # total
        "−$600.88",  # paid
        "$1,000.00",  # balance due
        "Thank you for your business.",
        "Payment by bank transfer within 30 days.",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    # lines are numbered
    assert "1 Website redesign" in text
    assert "3 Support hours" in text


def test_invoice_pdf_formats_money_and_dates_for_the_language(customer, vat):
    # given a euro invoice
    customer.currency = "EUR"
    customer.save()
    invoice = make_invoice(customer, line("Beratung", "3", "400", tax_id=vat.pk), currency="EUR")

    # when rendered in German and in English
    german = pdf_text(document_pdf(document=invoice, language="de"))
    english = pdf_text(document_pdf(document=invoice, language="en"))

    # then each reads money and dates its own way
    assert "1.440,00\xa0€" in german or "1.440,00 €" in german
    assert "1. März 2026" in german
    assert "€1,440.00" in english
    assert "March 1, 2026" in english


def test_japanese_text_renders_and_extracts(organization):
    # given a Japanese customer billed in yen, with a line in Japanese
    customer = CustomerFactory(
        organization=organization,
        display_name="株式会社テスト",
        company_name="株式会社テスト",
        currency="JPY",
        billing_street="千代田区丸の内1-1",
        billing_city="東京都",
    )
    invoice = make_invoice(
        customer,
        line("ウェブサイト制作\nトップページとお問い合わせフォーム", "1", "120000"),
        line("保守サポート", "3", "15000.4"),
        currency="JPY",
        notes="お振込みをお願いいたします。",
    )

    # when
    pdf = document_pdf(document=invoice, language="ja")

    # then the Japanese glyphs are embedded and read back as the same text
    text = pdf_text(pdf)
    assert "株式会社テスト" in text
    assert "千代田区丸の内1-1" in text
    assert "ウェブサイト制作" in text
    assert "トップページとお問い合わせフォーム" in text
    assert "お振込みをお願いいたします。" in text
    # yen have no minor unit: 3 × 15,000.4 = 45,001.2 → ¥45,001; total ¥165,001
    assert "¥165,001" in text
    assert "2026年3月1日" in text
    assert any("Noto-Sans-CJK-JP" in name for name in font_names(pdf))


def test_a_long_invoice_breaks_across_pages_with_page_numbers(customer):
    # given an invoice with 60 lines
    invoice = make_invoice(
        customer, *[line(f"Consulting session {n}", "1", "100") for n in range(1, 61)]
    )

    # when
    pdf = document_pdf(document=invoice, language="en")

    # then every line is there, spread over numbered pages
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 3
    texts = [page.extract_text() for page in reader.pages]
    assert "Page 1 of 3" in texts[0]
    assert "Page 3 of 3" in texts[2]
    # the lines' heading repeats on each page
    assert all("DESCRIPTION" in text for text in texts[:2])
    joined = "\n".join(texts)
    assert all(f"{n} Consulting session {n} 1 $100.00" in joined for n in range(1, 61))
    assert "$6,000.00" in texts[-1]


def test_quote_pdf(customer, vat):
    # given
    quote = QuoteFactory(
        customer=customer,
        number="QT-00007",
        date=date(2026, 2, 1),
        expiry_date=date(2026, 3, 3),
        status=QuoteStatus.SENT,
        terms="Valid for 30 days.",
    )
    with_lines(quote, QuoteLine, [line("Discovery workshop", "2", "750", tax_id=vat.pk)])

    # when
    text = pdf_text(document_pdf(document=quote, language="en"))

    # then
    for expected in [
        "QUOTE",
        "QT-00007",
        "Acme Corporation",
        "Discovery workshop",
        "Feb. 1, 2026",
        "March 3, 2026",
        "$1,800.00",
        "Valid for 30 days.",
    ]:
        assert expected in text, expected


def test_sales_order_pdf(customer):
    # given a shipped order
    order = SalesOrderFactory(
        customer=customer,
        number="SO-00003",
        carrier="DHL",
        tracking_number="JD0123456789",
        shipment_date=date(2026, 3, 10),
    )
    with_lines(order, SalesOrderLine, [line("Standing desk", "4", "499.99")])

    # when
    text = pdf_text(document_pdf(document=order, language="en"))

    # then
    for expected in [
        "SALES ORDER",
        "SO-00003",
        "Standing desk",
        "$1,999.96",
        "DHL",
        "JD0123456789",
    ]:
        assert expected in text, expected


def test_credit_note_pdf_lists_where_the_credit_went(customer):
    # given a credit note partly applied to an invoice
    invoice = make_invoice(customer, line("Consulting", "10", "100"), status=InvoiceStatus.SENT)
    credit_note = CreditNoteFactory(
        customer=customer,
        number="CN-00002",
        invoice=invoice,
        reason="Two hours billed twice",
        status=CreditNoteStatus.OPEN,
    )
    with_lines(credit_note, CreditNoteLine, [line("Consulting (correction)", "2", "100")])
    CreditApplication.objects.create(
        organization=credit_note.organization,
        credit_note=credit_note,
        invoice=invoice,
        amount=Decimal("150"),
        date=date(2026, 3, 5),
    )
    credit_note.credits_remaining = Decimal("50")
    credit_note.save()

    # when
    text = pdf_text(document_pdf(document=credit_note, language="en"))

    # then
    for expected in [
        "CREDIT NOTE",
        "CN-00002",
        "INV-00042",
        "Two hours billed twice",
        "Consulting (correction)",
        "$200.00",  # total
        "$150.00",  # applied
        "$50.00",  # remaining
    ]:
        assert expected in text, expected


def test_payment_receipt_pdf(customer):
    # given a payment covering one invoice, the rest kept as credit
    invoice = make_invoice(customer, line("Consulting", "3", "100"), status=InvoiceStatus.PAID)
    payment = Payment.objects.create(
        organization=customer.organization,
        customer=customer,
        number="PAY-00009",
        date=date(2026, 3, 20),
        amount=Decimal("350"),
        currency="USD",
        mode="bank_transfer",
        reference="TRX-55",
        notes="Internal: matched by Alice",
        unused_amount=Decimal("50"),
    )
    PaymentAllocation.objects.create(
        organization=customer.organization, payment=payment, invoice=invoice, amount=Decimal("300")
    )

    # when
    text = pdf_text(document_pdf(document=payment, language="en"))

    # then
    for expected in [
        "PAYMENT RECEIPT",
        "PAY-00009",
        "Acme Corporation",
        "March 20, 2026",
        "Bank transfer",
        "TRX-55",
        "$350.00",
        "INV-00042",
        "$300.00",
        "$50.00",
    ]:
        assert expected in text, expected
    # internal notes stay internal
    assert "matched by Alice" not in text


def test_statement_pdf(customer):
    # given a statement in the selector's shape
    statement = {
        "customer": customer,
        "currency": "USD",
        "date_from": date(2026, 3, 1),
        "date_to": date(2026, 3, 31),
        "opening_balance": Decimal("100"),
        "entries": [
            {
                "date": date(2026, 3, 2),
                "kind": "invoice",
                "number": "INV-00042",
                "description": "Due March 31, 2026",
                "amount": Decimal("500"),
                "payment": None,
                "balance": Decimal("600"),
            },
            {
                "date": date(2026, 3, 9),
                "kind": "payment",
                "number": "PAY-00009",
                "description": "",
                "amount": None,
                "payment": Decimal("250"),
                "balance": Decimal("350"),
            },
        ],
        "closing_balance": Decimal("350"),
    }

    # when
    text = pdf_text(statement_pdf(statement=statement, language="en"))

    # then
    for expected in [
        "STATEMENT OF ACCOUNT",
        "Northwind Consulting GmbH",
        "Acme Corporation",
        "March 1, 2026",
        "March 31, 2026",
        "INV-00042",
        "PAY-00009",
        "Invoice",
        "Payment",
        "$100.00",  # opening
        "$500.00",  # invoiced
        "−$250.00",  # received
        "$350.00",  # closing
    ]:
        assert expected in text, expected


def test_page_counter_follows_the_language_word_order():
    # when
    css = page_counter_css()

    # then
    assert css == '"Page " counter(page) " of " counter(pages)'


def test_css_strings_cannot_break_out_of_the_stylesheet():
    # when
    css = _css_string('Evil "Corp" </style><script>\\')

    # then only the outer quotes remain, and no markup
    assert css.count('"') == 2
    assert "<" not in css and ">" not in css and "\\\\" not in css


def test_statement_pdf_of_the_statement_selector(customer):
    # given an invoice sent and partly paid in March
    from portico.payments.selectors import statement_for_customer

    invoice = make_invoice(
        customer, line("Consulting", "5", "100"), status=InvoiceStatus.PARTIALLY_PAID
    )
    Payment.objects.create(
        organization=customer.organization,
        customer=customer,
        number="PAY-00010",
        date=date(2026, 3, 15),
        amount=Decimal("200"),
        currency="USD",
    )
    statement = statement_for_customer(
        organization=customer.organization,
        customer=customer,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
    )

    # when
    text = pdf_text(statement_pdf(statement=statement, language="en"))

    # then
    for expected in [invoice.number, "PAY-00010", "Due March 31, 2026", "$500.00", "$300.00"]:
        assert expected in text, expected
