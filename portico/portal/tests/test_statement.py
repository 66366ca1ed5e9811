"""The portal's statement of account: periods, content, scoping, the PDF."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.payments.models import PaymentRefund
from portico.payments.tests.factories import PaymentFactory
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement_url(portal_access, portal_reverse):
    PortalSettingsFactory(organization=portal_access.organization)
    return portal_reverse(portal_access.organization, "portal:statement")


def _invoice(customer, day, total, **fields):
    return InvoiceFactory(
        customer=customer,
        date=day,
        total=Decimal(total),
        balance_due=Decimal(total),
        status=fields.pop("status", InvoiceStatus.SENT),
        **fields,
    )


def test_statement_shows_opening_balance_lines_and_closing_balance(
    portal_client, portal_access, statement_url
):
    customer = portal_access.customer
    _invoice(customer, date(2026, 1, 10), "100.00", number="INV-JAN")
    _invoice(customer, date(2026, 3, 5), "250.00", number="INV-MAR")
    PaymentFactory(customer=customer, date=date(2026, 3, 20), amount=Decimal("80.00"))
    _invoice(customer, date(2026, 3, 6), "999.00", number="INV-DRAFT", status=InvoiceStatus.DRAFT)

    response = portal_client.get(
        statement_url, {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Opening balance" in page and "$100.00" in page
    assert "INV-MAR" in page and "INV-JAN" not in page and "INV-DRAFT" not in page
    assert "$270.00" in page  # 100 + 250 − 80
    assert "Download PDF" in page
    assert "statement/pdf/?date_from=2026-03-01&amp;date_to=2026-03-31" in page


def test_a_refund_is_a_line_that_adds_back_and_links_to_its_payment(
    portal_client, portal_access, statement_url, portal_reverse
):
    # given: 100 paid in credit, 30 of it refunded in February, 45 in March
    customer = portal_access.customer
    payment = PaymentFactory(
        customer=customer, date=date(2026, 2, 2), amount=Decimal("100.00"), number="PAY-CREDIT"
    )
    for day, amount in ((date(2026, 2, 20), "30.00"), (date(2026, 3, 12), "45.00")):
        PaymentRefund.objects.create(
            organization=customer.organization, payment=payment, amount=Decimal(amount), date=day
        )

    # when
    response = portal_client.get(
        statement_url, {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    )

    # then: opening −70 (100 paid − 30 refunded), closing −25
    page = response.content.decode()
    statement = response.context["statement"]
    assert statement.opening_balance == Decimal("-70.00")
    assert [(e.kind, e.amount, e.balance) for e in statement.entries] == [
        ("refund", Decimal("45.00"), Decimal("-25.00"))
    ]
    assert "Refund of PAY-CREDIT" in page and "Refunds" in page and "-$25.00" in page
    assert portal_reverse(customer.organization, "portal:payment_detail", pk=payment.pk) in page


def test_statement_presets_choose_the_period(portal_client, portal_access, statement_url):
    customer = portal_access.customer
    today = timezone.localdate()
    last_month_day = today.replace(day=1) - timedelta(days=1)
    _invoice(customer, last_month_day, "40.00", number="INV-LAST-MONTH")
    _invoice(customer, today.replace(day=1), "60.00", number="INV-THIS-MONTH")
    _invoice(customer, date(2019, 6, 1), "5.00", number="INV-LONG-AGO")

    this_month = portal_client.get(statement_url).content.decode()
    last_month = portal_client.get(statement_url, {"period": "last_month"}).content.decode()
    everything = portal_client.get(statement_url, {"period": "all"}).content.decode()

    assert "INV-THIS-MONTH" in this_month and "INV-LAST-MONTH" not in this_month
    assert "INV-LAST-MONTH" in last_month and "INV-THIS-MONTH" not in last_month
    assert all(
        number in everything for number in ("INV-LONG-AGO", "INV-LAST-MONTH", "INV-THIS-MONTH")
    )


def test_an_inverted_period_is_refused_with_a_message(portal_client, statement_url):
    response = portal_client.get(
        statement_url, {"date_from": "2026-03-31", "date_to": "2026-03-01"}
    )

    assert response.status_code == 422
    assert "The start date must be on or before the end date." in response.content.decode()


def test_the_statement_is_only_the_contacts_customers(portal_client, portal_access, statement_url):
    other = PortalAccessFactory(
        active=True, contact__customer__organization=portal_access.organization
    )
    _invoice(other.customer, timezone.localdate(), "555.00", number="INV-OTHER")

    page = portal_client.get(statement_url, {"period": "all"}).content.decode()

    assert "INV-OTHER" not in page and "$555.00" not in page


def test_the_statement_is_hidden_from_a_contact_without_the_module(
    portal_client, portal_access, statement_url, portal_reverse
):
    portal_access.modules = [PortalModule.INVOICES]
    portal_access.save()

    assert portal_client.get(statement_url).status_code == 404
    pdf_url = portal_reverse(portal_access.organization, "portal:statement_pdf")
    assert portal_client.get(pdf_url).status_code == 404


def test_download_pdf_renders_the_statement_in_the_contacts_language(
    portal_client, portal_access, portal_reverse, monkeypatch, statement_url
):
    # given a contact who reads the portal in German
    portal_access.language = "de"
    portal_access.save()
    _invoice(portal_access.customer, date(2026, 3, 5), "250.00", number="INV-MAR")
    calls = []

    def fake_statement_pdf(*, statement, language):
        calls.append((statement, language))
        return b"%PDF-1.7 statement"

    monkeypatch.setattr("portico.sales.pdf.statement_pdf", fake_statement_pdf)

    response = portal_client.get(
        portal_reverse(portal_access.organization, "portal:statement_pdf"),
        {"date_from": "2026-03-01", "date_to": "2026-03-31"},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "statement-20260301-20260331.pdf" in response["Content-Disposition"]
    statement, language = calls[0]
    assert language == "de"
    assert statement.customer == portal_access.customer
    assert [entry.number for entry in statement.entries] == ["INV-MAR"]


def test_the_statement_pdf_is_a_real_pdf(
    portal_client, portal_access, portal_reverse, statement_url
):
    _invoice(portal_access.customer, date(2026, 3, 5), "250.00", number="INV-MAR")

    response = portal_client.get(
        portal_reverse(portal_access.organization, "portal:statement_pdf"),
        {"date_from": "2026-03-01", "date_to": "2026-03-31"},
    )

    assert response.status_code == 200
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:5]
        == b"%PDF-"
    )


@pytest.mark.parametrize("count", [5, 200])
def test_the_statement_costs_the_same_queries_for_5_or_200_invoices(
    page_cache_off, portal_client, portal_access, statement_url, count, django_assert_num_queries
):
    today = timezone.localdate()
    for index in range(count):
        _invoice(portal_access.customer, today.replace(day=1), "10.00")
        payment = PaymentFactory(
            customer=portal_access.customer, date=today - timedelta(days=40 + index)
        )
        PaymentRefund.objects.create(
            organization=payment.organization, payment=payment, amount=Decimal("1.00")
        )
    portal_client.get(statement_url)

    # 4 for the session and access; 7 for the statement (one of them its refunds)
    with django_assert_num_queries(11):
        response = portal_client.get(statement_url)
    assert response.status_code == 200
