import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from portico.accounts.tests.factories import OrganizationFactory
from portico.catalog.tests.factories import ItemFactory, TaxFactory
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.sales.history import history_of
from portico.sales.models import (
    DocumentEvent,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteLine,
    QuoteRevision,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)
from portico.sales.services import quotes as services
from portico.sales.services.common import (
    DocumentData,
    DocumentStateError,
    SalesError,
    document_snapshot,
)
from portico.sales.tests.factories import line

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def actor(membership):
    return membership.user


@pytest.fixture
def customer(organization):
    return CustomerFactory(
        organization=organization,
        display_name="Acme GmbH",
        currency="EUR",
        payment_terms=14,
        billing_street="Hauptstraße 1",
        billing_postal_code="10115",
        billing_city="Berlin",
        shipping_street="Lagerweg 9",
        shipping_city="Potsdam",
    )


@pytest.fixture
def contact(customer):
    return ContactPersonFactory(customer=customer, first_name="Ada", last_name="Lovelace")


@pytest.fixture
def vat(organization):
    return TaxFactory(organization=organization, name="VAT", rate=Decimal("19"))


def data_for(customer, *lines, **fields) -> DocumentData:
    values = {
        "customer_id": customer.pk,
        "date": TODAY(),
        "lines": list(lines) or [line()],
    } | fields
    return DocumentData(**values)


def make_quote(customer, actor, *lines, expiry_date=None, **fields) -> Quote:
    return services.quote_create(
        organization=customer.organization,
        data=data_for(customer, *lines, **fields),
        expiry_date=expiry_date if expiry_date is not None else TODAY() + timedelta(days=30),
        actor=actor,
    )


def sent_quote(customer, actor, *lines, **fields) -> Quote:
    return services.quote_mark_sent(
        quote=make_quote(customer, actor, *lines, **fields), actor=actor
    )


def kinds(document) -> list[str]:
    return [event.kind for event in history_of(document=document)]


# --- create ------------------------------------------------------------------------


def test_create_numbers_prices_and_records_the_quote(customer, contact, vat, actor):
    # given: two lines, one taxed and discounted
    lines = [
        line("Design", quantity="2", rate="150", discount="10", tax_id=vat.pk),
        line("Hosting", quantity="1", rate="20"),
    ]

    # when
    quote = make_quote(customer, actor, *lines, reference="PO-7", contact_ids=[contact.pk])

    # then
    quote.refresh_from_db()
    assert quote.number == "QT-00001"
    assert quote.status == QuoteStatus.DRAFT
    assert quote.currency == "EUR"
    assert quote.reference == "PO-7"
    assert quote.subtotal == Decimal("320.00")
    assert quote.discount_total == Decimal("30.00")
    assert quote.tax_total == Decimal("51.30")  # 19% of 270
    assert quote.total == Decimal("341.30")
    assert quote.billing_address == "Hauptstraße 1\n10115 Berlin"
    assert quote.shipping_address == "Lagerweg 9\nPotsdam"
    assert list(quote.contacts.all()) == [contact]
    assert quote.created_by == actor
    assert quote.revision == 0
    stored = list(quote.lines.order_by("position"))
    assert [(row.position, row.description, row.amount) for row in stored] == [
        (1, "Design", Decimal("270.00")),
        (2, "Hosting", Decimal("20.00")),
    ]
    assert (stored[0].tax_name, stored[0].tax_rate) == ("VAT", Decimal("19"))
    assert kinds(quote) == ["created"]


def test_create_numbers_quotes_one_after_another(customer, actor):
    # when
    numbers = [make_quote(customer, actor).number for _ in range(3)]

    # then
    assert numbers == ["QT-00001", "QT-00002", "QT-00003"]


def test_create_takes_an_items_name_and_unit_for_a_line_without_description(
    organization, customer, actor
):
    # given
    item = ItemFactory(organization=organization, name="Widget", unit="box")

    # when
    quote = make_quote(customer, actor, line("", quantity="3", rate="5", item_id=item.pk))

    # then
    stored = quote.lines.get()
    assert (stored.description, stored.unit, stored.item) == ("Widget", "box", item)


def test_create_rounds_yen_to_whole_units(organization, actor):
    # given: JPY has no minor unit
    customer = CustomerFactory(organization=organization, currency="JPY")
    tax = TaxFactory(organization=organization, rate=Decimal("10"))

    # when
    quote = make_quote(customer, actor, line(quantity="3", rate="333.5", tax_id=tax.pk))

    # then: 1000.5 → 1001, tax 100.1 → 100
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("1001")
    assert quote.tax_total == Decimal("100")
    assert quote.total == Decimal("1101")


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (line(quantity="-1"), "the quantity must be more than zero"),
        (line(quantity="0"), "the quantity must be more than zero"),
        (line(rate="-5"), "the rate cannot be negative"),
        (line(discount="101"), "the discount must be between 0 and 100%"),
        (line(description="   "), "choose an item or describe the line"),
    ],
)
def test_create_refuses_a_bad_line_and_saves_nothing(customer, actor, bad_line, message):
    # when
    with pytest.raises(SalesError) as error:
        make_quote(customer, actor, line("Fine line"), bad_line)

    # then: nothing saved, and the number was not used up
    assert message in error.value.message
    assert "Line 2" in error.value.message
    assert not Quote.objects.exists()
    assert not QuoteLine.objects.exists()
    assert make_quote(customer, actor).number == "QT-00001"


def test_create_refuses_a_quote_without_lines(customer, actor):
    with pytest.raises(SalesError, match="Add at least one line"):
        services.quote_create(
            organization=customer.organization,
            data=DocumentData(customer_id=customer.pk, date=TODAY(), lines=[]),
            expiry_date=None,
            actor=actor,
        )
    assert not Quote.objects.exists()


def test_create_refuses_lines_in_another_currency(customer, actor):
    # when: the form asks for USD, the customer is billed in EUR
    with pytest.raises(SalesError) as error:
        make_quote(customer, actor, currency="USD")

    # then
    assert error.value.field == "currency"
    assert "EUR" in error.value.message and "USD" in error.value.message
    assert not Quote.objects.exists()


def test_create_refuses_an_expiry_date_before_the_quote_date(customer, actor):
    with pytest.raises(SalesError) as error:
        make_quote(customer, actor, expiry_date=TODAY() - timedelta(days=1))
    assert error.value.field == "expiry_date"
    assert not Quote.objects.exists()


def test_create_refuses_another_organisations_customer_item_or_tax(organization, customer, actor):
    # given
    other = OrganizationFactory()
    foreign_customer = CustomerFactory(organization=other)
    foreign_item = ItemFactory(organization=other)
    foreign_tax = TaxFactory(organization=other)

    # when / then
    with pytest.raises(SalesError, match="Choose a customer"):
        services.quote_create(
            organization=organization,
            data=data_for(foreign_customer),
            expiry_date=None,
            actor=actor,
        )
    with pytest.raises(SalesError, match="item and tax of this organisation"):
        make_quote(customer, actor, line(item_id=foreign_item.pk))
    with pytest.raises(SalesError, match="item and tax of this organisation"):
        make_quote(customer, actor, line(tax_id=foreign_tax.pk))
    assert not Quote.objects.exists()


def test_create_refuses_a_contact_of_another_customer(organization, customer, actor):
    # given
    stranger = ContactPersonFactory(customer=CustomerFactory(organization=organization))

    # when / then
    with pytest.raises(SalesError, match="does not belong to this customer"):
        make_quote(customer, actor, contact_ids=[stranger.pk])
    assert not Quote.objects.exists()


# --- edit ---------------------------------------------------------------------------


def test_editing_a_draft_replaces_its_lines_without_a_revision(customer, actor):
    # given
    quote = make_quote(customer, actor, line("Old", rate="10"))

    # when
    quote = services.quote_update(
        quote=quote,
        data=data_for(customer, line("New", quantity="2", rate="30"), notes="Thanks"),
        expiry_date=None,
        actor=actor,
    )

    # then
    quote.refresh_from_db()
    assert [row.description for row in quote.lines.all()] == ["New"]
    assert quote.total == Decimal("60.00")
    assert quote.notes == "Thanks"
    assert quote.expiry_date is None
    assert quote.revision == 0
    assert not QuoteRevision.objects.exists()
    assert kinds(quote) == ["edited", "created"]


def test_editing_a_draft_for_another_customer_takes_its_currency_and_address(
    organization, customer, actor
):
    # given
    quote = make_quote(customer, actor)
    other = CustomerFactory(organization=organization, currency="GBP", billing_city="Leeds")

    # when
    services.quote_update(quote=quote, data=data_for(other), expiry_date=None, actor=actor)

    # then
    quote.refresh_from_db()
    assert (quote.customer, quote.currency, quote.billing_address) == (other, "GBP", "Leeds")


def test_editing_a_sent_quote_records_a_new_revision(customer, actor):
    # given: sent, so revision 1 holds what the customer saw
    quote = sent_quote(customer, actor, line("Design", rate="100"))
    first = quote.revisions.get()

    # when
    quote = services.quote_update(
        quote=quote,
        data=data_for(customer, line("Design", rate="120")),
        expiry_date=quote.expiry_date,
        actor=actor,
    )

    # then
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert quote.revision == 2
    second = quote.revisions.get(number=2)
    assert second.content_hash != first.content_hash
    assert second.content_hash == document_snapshot(quote)[1]
    assert second.snapshot["total"] == "120"
    assert second.created_by == actor
    # revision 1 still says what was sent first
    first.refresh_from_db()
    assert first.snapshot["total"] == "100"
    assert kinds(quote)[0] == "revised"
    assert history_of(document=quote)[0].text == "Edited after sending: revision 2 recorded"


def test_saving_a_sent_quote_unchanged_records_no_revision(customer, actor):
    # given
    quote = sent_quote(customer, actor, line("Design", rate="100"))

    # when
    quote = services.quote_update(
        quote=quote,
        data=data_for(customer, line("Design", rate="100")),
        expiry_date=quote.expiry_date,
        actor=actor,
    )

    # then
    assert quote.revision == 1
    assert quote.revisions.count() == 1
    assert kinds(quote)[0] == "edited"


def test_a_sent_quote_cannot_move_to_another_customer(organization, customer, actor):
    # given
    quote = sent_quote(customer, actor)
    other = CustomerFactory(organization=organization, currency="EUR")

    # when / then
    with pytest.raises(SalesError) as error:
        services.quote_update(quote=quote, data=data_for(other), expiry_date=None, actor=actor)
    assert error.value.field == "customer"
    quote.refresh_from_db()
    assert quote.customer == customer


@pytest.mark.parametrize(
    "decide",
    [services.quote_mark_accepted, services.quote_mark_declined],
    ids=["accepted", "declined"],
)
def test_a_decided_quote_cannot_be_edited(customer, actor, decide):
    # given
    quote = decide(quote=sent_quote(customer, actor, line("Design")), actor=actor)

    # when
    with pytest.raises(DocumentStateError, match="can no longer change"):
        services.quote_update(
            quote=quote, data=data_for(customer, line("Changed")), expiry_date=None, actor=actor
        )

    # then
    assert [row.description for row in quote.lines.all()] == ["Design"]


def test_an_edit_with_a_bad_line_changes_nothing(customer, actor):
    # given
    quote = make_quote(customer, actor, line("Design", rate="100"))

    # when
    with pytest.raises(SalesError):
        services.quote_update(
            quote=quote,
            data=data_for(customer, line("Design", rate="200"), line(rate="-1")),
            expiry_date=None,
            actor=actor,
        )

    # then
    quote.refresh_from_db()
    assert quote.total == Decimal("100.00")
    assert [row.rate for row in quote.lines.all()] == [Decimal("100")]
    assert kinds(quote) == ["created"]


# --- send, accept, decline -------------------------------------------------------------


def test_mark_sent_records_revision_one(customer, actor):
    # given
    quote = make_quote(customer, actor)

    # when
    quote = services.quote_mark_sent(quote=quote, actor=actor)

    # then
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert quote.sent_at is not None
    assert quote.revision == 1
    revision = quote.revisions.get()
    assert revision.number == 1
    assert revision.content_hash == document_snapshot(quote)[1]
    assert len(revision.content_hash) == 64
    assert kinds(quote) == ["sent", "created"]


def test_mark_sent_twice_is_refused(customer, actor):
    quote = sent_quote(customer, actor)
    with pytest.raises(DocumentStateError, match="already been sent"):
        services.quote_mark_sent(quote=quote, actor=actor)
    assert quote.revisions.count() == 1


def test_a_quote_past_its_expiry_date_cannot_be_sent(customer, actor):
    # given: a draft whose expiry date has passed
    quote = make_quote(customer, actor, date=TODAY() - timedelta(days=40))
    Quote.objects.filter(pk=quote.pk).update(expiry_date=TODAY() - timedelta(days=1))

    # when / then
    with pytest.raises(SalesError, match="expiry date has passed"):
        services.quote_mark_sent(quote=quote, actor=actor)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert not quote.revisions.exists()


def test_mark_accepted_and_declined_record_the_decision(customer, actor):
    # given
    accepted = sent_quote(customer, actor)
    declined = sent_quote(customer, actor)

    # when
    services.quote_mark_accepted(quote=accepted, actor=actor)
    services.quote_mark_declined(quote=declined, actor=actor)

    # then
    accepted.refresh_from_db()
    declined.refresh_from_db()
    assert (accepted.status, declined.status) == (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED)
    assert accepted.decided_at and declined.decided_at
    assert kinds(accepted)[0] == "accepted"
    assert kinds(declined)[0] == "declined"


def test_an_expired_quote_can_still_be_accepted(customer, actor):
    # given: sent, then the expiry date passed
    quote = sent_quote(customer, actor)
    Quote.objects.filter(pk=quote.pk).update(expiry_date=TODAY() - timedelta(days=1))
    quote.refresh_from_db()
    assert quote.display_status == QuoteStatus.EXPIRED

    # when
    quote = services.quote_mark_accepted(quote=quote, actor=actor)

    # then
    assert quote.status == QuoteStatus.ACCEPTED


def test_a_draft_cannot_be_accepted_or_declined(customer, actor):
    quote = make_quote(customer, actor)
    with pytest.raises(DocumentStateError, match="as sent first"):
        services.quote_mark_accepted(quote=quote, actor=actor)
    with pytest.raises(DocumentStateError, match="as sent first"):
        services.quote_mark_declined(quote=quote, actor=actor)


def test_a_declined_quote_cannot_then_be_accepted(customer, actor):
    quote = services.quote_mark_declined(quote=sent_quote(customer, actor), actor=actor)
    with pytest.raises(DocumentStateError, match="has been declined"):
        services.quote_mark_accepted(quote=quote, actor=actor)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED


# --- convert ----------------------------------------------------------------------------


def test_convert_to_sales_order_copies_the_quote(customer, contact, vat, actor):
    # given: an accepted quote
    quote = sent_quote(
        customer,
        actor,
        line("Design", quantity="2", rate="150", discount="10", tax_id=vat.pk),
        line("Hosting", rate="20"),
        reference="PO-7",
        notes="Thanks",
        terms="Net 14",
        contact_ids=[contact.pk],
    )
    quote = services.quote_mark_accepted(quote=quote, actor=actor)

    # when
    order = services.quote_convert_to_sales_order(quote=quote, actor=actor)

    # then
    order.refresh_from_db()
    assert order.number == "SO-00001"
    assert order.status == SalesOrderStatus.DRAFT
    assert order.quote == quote
    assert (order.customer, order.currency, order.reference) == (customer, "EUR", "PO-7")
    assert (order.notes, order.terms) == ("Thanks", "Net 14")
    assert order.billing_address == quote.billing_address
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        quote.subtotal,
        quote.discount_total,
        quote.tax_total,
        quote.total,
    )
    copied = [
        (row.position, row.description, row.quantity, row.rate, row.tax_name, row.amount)
        for row in order.lines.order_by("position")
    ]
    original = [
        (row.position, row.description, row.quantity, row.rate, row.tax_name, row.amount)
        for row in quote.lines.order_by("position")
    ]
    assert copied == original
    assert list(order.contacts.all()) == [contact]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED  # keeps its status
    assert history_of(document=quote)[0].text == "Converted to SO-00001"
    assert history_of(document=order)[0].text == f"Created from {quote.number}"


def test_a_sent_quote_can_be_converted_to_a_sales_order(customer, actor):
    order = services.quote_convert_to_sales_order(quote=sent_quote(customer, actor), actor=actor)
    assert order.quote.status == QuoteStatus.SENT


def test_a_quote_is_converted_to_a_sales_order_once(customer, actor):
    # given
    quote = sent_quote(customer, actor)
    services.quote_convert_to_sales_order(quote=quote, actor=actor)

    # when / then
    with pytest.raises(DocumentStateError, match="already been converted to sales order SO-00001"):
        services.quote_convert_to_sales_order(quote=quote, actor=actor)
    assert SalesOrder.objects.count() == 1


def test_convert_to_invoice_creates_a_draft_invoice_due_after_the_payment_terms(
    organization, customer, contact, actor
):
    # given: the organisation does not allow partial payments by default
    organization.allow_partial_payments = False
    organization.save()
    quote = sent_quote(
        customer, actor, line("Design", quantity="2", rate="50"), contact_ids=[contact.pk]
    )
    quote = services.quote_mark_accepted(quote=quote, actor=actor)

    # when
    invoice = services.quote_convert_to_invoice(quote=quote, actor=actor)

    # then
    invoice.refresh_from_db()
    assert invoice.number == "INV-00001"
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.quote == quote
    assert invoice.date == TODAY()
    assert invoice.due_date == TODAY() + timedelta(days=14)
    assert invoice.payment_terms == 14
    assert invoice.allow_partial_payments is False
    assert invoice.total == invoice.balance_due == Decimal("100.00")
    assert [(row.description, row.amount) for row in invoice.lines.all()] == [
        ("Design", Decimal("100.00"))
    ]
    assert list(invoice.contacts.all()) == [contact]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.INVOICED
    assert history_of(document=quote)[0].text == "Converted to INV-00001"
    assert history_of(document=invoice)[0].text == f"Created from {quote.number}"


def test_an_invoiced_quote_is_final(customer, actor):
    # given
    quote = sent_quote(customer, actor)
    services.quote_convert_to_invoice(quote=quote, actor=actor)

    # when / then
    with pytest.raises(DocumentStateError, match="already been invoiced"):
        services.quote_convert_to_invoice(quote=quote, actor=actor)
    with pytest.raises(DocumentStateError, match="already been invoiced"):
        services.quote_convert_to_sales_order(quote=quote, actor=actor)
    with pytest.raises(DocumentStateError, match="has been invoiced"):
        services.quote_update(quote=quote, data=data_for(customer), expiry_date=None, actor=actor)
    assert Invoice.objects.count() == 1
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize(
    "convert",
    [services.quote_convert_to_invoice, services.quote_convert_to_sales_order],
    ids=["invoice", "sales_order"],
)
def test_converting_a_declined_quote_is_refused_and_creates_nothing(customer, actor, convert):
    # given
    quote = services.quote_mark_declined(quote=sent_quote(customer, actor), actor=actor)

    # when
    with pytest.raises(DocumentStateError) as error:
        convert(quote=quote, actor=actor)

    # then
    assert error.value.message == f"Quote {quote.number} was declined and cannot be converted."
    assert not Invoice.objects.exists()
    assert not SalesOrder.objects.exists()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED


@pytest.mark.parametrize(
    "convert",
    [services.quote_convert_to_invoice, services.quote_convert_to_sales_order],
    ids=["invoice", "sales_order"],
)
def test_converting_a_draft_asks_to_send_it_first(customer, actor, convert):
    quote = make_quote(customer, actor)
    with pytest.raises(DocumentStateError, match="as sent before converting"):
        convert(quote=quote, actor=actor)
    assert not Invoice.objects.exists()
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_converting_the_same_quote_at_once_make_one_invoice():
    # SQLite runs one write transaction at a time; the race exists on PostgreSQL.
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent write transactions (PostgreSQL)")
    # given
    customer = CustomerFactory(currency="EUR")
    quote = sent_quote(customer, None)
    both_ready = threading.Barrier(2, timeout=5)
    outcomes = []

    def convert():
        try:
            both_ready.wait()
            services.quote_convert_to_invoice(quote=quote, actor=None)
            outcomes.append("converted")
        except DocumentStateError:
            outcomes.append("refused")
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert sorted(outcomes) == ["converted", "refused"]
    assert Invoice.objects.filter(quote=quote).count() == 1


# --- delete ------------------------------------------------------------------------------


def test_a_draft_is_deleted_with_its_lines_and_history(customer, actor):
    # given
    quote = make_quote(customer, actor)

    # when
    services.quote_delete(quote=quote)

    # then
    assert not Quote.objects.exists()
    assert not QuoteLine.objects.exists()
    assert not DocumentEvent.objects.exists()


def test_a_sent_quote_cannot_be_deleted(customer, actor):
    quote = sent_quote(customer, actor)
    with pytest.raises(DocumentStateError, match="Only a draft quote can be deleted"):
        services.quote_delete(quote=quote)
    assert Quote.objects.filter(pk=quote.pk).exists()
