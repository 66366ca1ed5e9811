"""The document lists' reading strategy: pages by id, search through the customers'
search text, and the indexes each database searches with."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F

from portico.accounts.tests.factories import OrganizationFactory
from portico.customers.tests.factories import CustomerFactory
from portico.payments.selectors import PaymentFilters, payment_list
from portico.payments.tests.factories import PaymentAllocationFactory
from portico.sales.models import Invoice, Quote
from portico.sales.selectors import DocumentFilters
from portico.sales.selectors_invoices import INVOICE_SORTS, invoice_list
from portico.sales.selectors_quotes import quote_list
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(organization):
    """Eleven invoices of three customers, with dates, totals and balances that tie."""
    customers = [
        CustomerFactory(organization=organization, display_name=name)
        for name in ("Birch", "Alder", "Cedar")
    ]
    return [
        InvoiceFactory(
            customer=customers[index % 3],
            number=f"INV-{index + 1:05d}",
            date=date(2025, 1, 1) + timedelta(days=index % 4),
            due_date=date(2025, 2, 1) + timedelta(days=index % 3),
            total=Decimal(100 + 10 * (index % 5)),
            balance_due=Decimal(10 * (index % 2)),
        )
        for index in range(11)
    ]


def numbers(documents) -> list[str]:
    return [document.number for document in documents]


@pytest.mark.parametrize("sort", sorted(INVOICE_SORTS))
def test_every_page_holds_the_rows_a_plain_slice_would(organization, invoices, sort):
    # given: the same list read the ordinary way
    listed = invoice_list(organization=organization, filters=DocumentFilters(sort=sort))
    expected = numbers(
        Invoice.objects.filter(organization=organization).order_by(*INVOICE_SORTS[sort])
    )

    # when
    pages = Paginator(listed, 4)
    read = [numbers(pages.page(number).object_list) for number in pages.page_range]

    # then
    assert read == [expected[0:4], expected[4:8], expected[8:11]]


def test_a_page_is_one_query_with_each_row_s_customer(
    organization, invoices, django_assert_num_queries
):
    # given
    listed = invoice_list(organization=organization, filters=DocumentFilters())

    # when / then
    with django_assert_num_queries(1) as captured:
        names = [invoice.customer.display_name for invoice in listed[4:8]]
    assert len(names) == 4
    # the page's ids come from a subquery with the limit and offset
    assert "LIMIT 4 OFFSET 4" in captured.captured_queries[0]["sql"]


def test_single_rows_and_first_still_read_directly(organization, invoices):
    listed = invoice_list(organization=organization, filters=DocumentFilters(sort="number"))

    assert listed[2].number == "INV-00003"
    assert listed.first().number == "INV-00001"
    assert list(listed.values_list("number", flat=True)[1:3]) == ["INV-00002", "INV-00003"]


def test_an_annotated_list_is_sliced_the_ordinary_way(organization, invoices):
    listed = invoice_list(organization=organization, filters=DocumentFilters(sort="number"))

    page = listed.annotate(twice=F("total") * 2)[1:3]

    assert [(invoice.number, invoice.twice) for invoice in page] == [
        ("INV-00002", Decimal(220)),
        ("INV-00003", Decimal(240)),
    ]


def test_a_page_of_payments_keeps_its_invoices_prefetched(organization, django_assert_num_queries):
    # given
    customer = CustomerFactory(organization=organization)
    for _ in range(3):
        PaymentAllocationFactory(payment__customer=customer)
    listed = payment_list(organization=organization, filters=PaymentFilters())

    # when / then: the page, then every row's allocations with their invoice
    with django_assert_num_queries(2):
        page = list(listed[1:3])
        invoice_numbers = [
            allocation.invoice.number
            for payment in page
            for allocation in payment.allocations.all()
        ]
    assert len(invoice_numbers) == 2


def test_search_matches_the_customer_s_company_e_mail_and_contacts(organization):
    # given: what Customer.search_text holds, not only the display name
    customer = CustomerFactory(
        organization=organization,
        display_name="Hannah Weber",
        company_name="Nordlicht Optik",
        email="accounts@nordlicht.example",
    )
    QuoteFactory(customer=customer, number="QT-00001")
    QuoteFactory(customer=CustomerFactory(organization=organization), number="QT-00002")

    def found(q: str) -> list[str]:
        return numbers(quote_list(organization=organization, filters=DocumentFilters(q=q)))

    # then
    assert found("weber") == ["QT-00001"]
    assert found("NORDLICHT OPT") == ["QT-00001"]
    assert found("accounts@nordlicht") == ["QT-00001"]
    assert found("qt-00002") == ["QT-00002"]


def test_search_ignores_case_beyond_ascii(organization):
    # given
    customer = CustomerFactory(organization=organization, display_name="Ärztehaus Süd")
    QuoteFactory(customer=customer, number="QT-00001", reference="ÜBERGABE")

    def found(q: str) -> list[str]:
        return numbers(quote_list(organization=organization, filters=DocumentFilters(q=q)))

    # then: the customer through its casefolded search text
    assert found("ärztehaus") == ["QT-00001"]
    assert found("ÄRZTEHAUS") == ["QT-00001"]


def test_search_never_reaches_another_organisation(organization):
    # given: the same name in another organisation
    other = OrganizationFactory()
    QuoteFactory(customer=CustomerFactory(organization=other, display_name="Zeta Corp"))
    QuoteFactory(
        customer=CustomerFactory(organization=organization, display_name="Alpha"),
        number="QT-00009",
    )

    # when
    found = quote_list(organization=organization, filters=DocumentFilters(q="zeta"))

    # then
    assert list(found) == []
    assert found.count() == 0
    assert Quote.objects.filter(organization=other).count() == 1


def test_each_database_has_its_number_and_reference_search_indexes():
    # given
    with connection.cursor() as cursor:
        indexes = {
            table: set(connection.introspection.get_constraints(cursor, table))
            for table in ("sales_invoice", "sales_quote", "payments_payment")
        }

    # then: trigram indexes on PostgreSQL, a covering index on SQLite (sales 0002, payments 0003)
    if connection.vendor == "postgresql":
        assert {"inv_number_trgm_idx", "inv_reference_trgm_idx"} <= indexes["sales_invoice"]
        assert {"quote_number_trgm_idx", "quote_reference_trgm_idx"} <= indexes["sales_quote"]
        assert {"pay_number_trgm_idx", "pay_reference_trgm_idx"} <= indexes["payments_payment"]
    else:
        assert "inv_search_idx" in indexes["sales_invoice"]
        assert "quote_search_idx" in indexes["sales_quote"]
        assert "pay_search_idx" in indexes["payments_payment"]
