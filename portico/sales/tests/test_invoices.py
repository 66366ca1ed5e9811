"""Invoice services: create, edit, mark as sent, void; due dates and statuses."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.catalog.tests.factories import TaxFactory
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.payments.models import Payment, PaymentAllocation
from portico.sales.history import history_of
from portico.sales.models import CreditApplication, Invoice, InvoiceStatus
from portico.sales.services.balances import invoice_refresh_balance
from portico.sales.services.common import DocumentStateError, SalesError
from portico.sales.services.invoices import (
    InvoiceData,
    invoice_create,
    invoice_due_date,
    invoice_mark_sent,
    invoice_update,
    invoice_void,
)
from portico.sales.tests.factories import CreditNoteFactory, line

pytestmark = pytest.mark.django_db

JAN_10 = date(2025, 1, 10)


def invoice_data(customer, *, lines=None, **fields) -> InvoiceData:
    return InvoiceData(
        customer_id=customer.pk,
        date=fields.pop("date", JAN_10),
        lines=lines or [line(quantity="2", rate="50")],
        **fields,
    )


def record_payment(invoice, amount: str, number: str = "PAY-00001") -> Payment:
    """A payment allocated to ``invoice``, as the payments service leaves it."""
    payment = Payment.objects.create(
        organization=invoice.organization,
        customer=invoice.customer,
        number=number,
        amount=Decimal(amount),
        currency=invoice.currency,
    )
    PaymentAllocation.objects.create(
        organization=invoice.organization, payment=payment, invoice=invoice, amount=Decimal(amount)
    )
    invoice_refresh_balance(invoice=invoice)
    return payment


def apply_credit(invoice, amount: str, number: str = "CN-00001"):
    credit_note = CreditNoteFactory(
        customer=invoice.customer, number=number, total=Decimal(amount), status="open"
    )
    CreditApplication.objects.create(
        organization=invoice.organization,
        credit_note=credit_note,
        invoice=invoice,
        amount=Decimal(amount),
    )
    invoice_refresh_balance(invoice=invoice)
    return credit_note


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", payment_terms=30)


@pytest.fixture
def sent_invoice(organization, customer, membership):
    invoice = invoice_create(organization=organization, data=invoice_data(customer))
    return invoice_mark_sent(invoice=invoice, actor=membership.user)


# --- due dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "due"),
    [(0, date(2025, 1, 31)), (15, date(2025, 2, 15)), (30, date(2025, 3, 2))],
)
def test_the_due_date_is_the_invoice_date_plus_the_payment_terms(terms, due):
    assert invoice_due_date(invoice_date=date(2025, 1, 31), payment_terms=terms) == due


def test_a_new_invoice_is_due_after_the_customers_payment_terms(organization, customer):
    # when
    invoice = invoice_create(organization=organization, data=invoice_data(customer))

    # then
    assert invoice.payment_terms == 30
    assert invoice.due_date == date(2025, 2, 9)


def test_other_payment_terms_or_a_due_date_given_win(organization, customer):
    # when
    by_terms = invoice_create(
        organization=organization, data=invoice_data(customer, payment_terms=7)
    )
    by_date = invoice_create(
        organization=organization, data=invoice_data(customer, due_date=date(2025, 1, 20))
    )

    # then
    assert by_terms.due_date == date(2025, 1, 17)
    assert by_date.due_date == date(2025, 1, 20)


def test_a_due_date_before_the_invoice_date_is_refused(organization, customer):
    with pytest.raises(SalesError, match="due date cannot be before") as error:
        invoice_create(
            organization=organization, data=invoice_data(customer, due_date=date(2025, 1, 9))
        )

    assert error.value.field == "due_date"


# --- create -------------------------------------------------------------------------------


def test_create_a_draft_invoice_with_numbered_lines_and_totals(organization, customer, membership):
    # given
    tax = TaxFactory(organization=organization, name="VAT", rate=Decimal("19"))
    contact = ContactPersonFactory(customer=customer)
    customer.billing_street = "Hauptstraße 1"
    customer.billing_city = "Berlin"
    customer.save()

    # when
    invoice = invoice_create(
        organization=organization,
        data=invoice_data(
            customer,
            lines=[
                line("Design", quantity="3", rate="100", discount="10", tax_id=tax.pk),
                line("Hosting", quantity="1", rate="20.50"),
            ],
            reference="PO-7",
            contact_ids=[contact.pk],
        ),
        actor=membership.user,
    )

    # then
    assert invoice.number == "INV-00001"
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.currency == "EUR"
    assert invoice.billing_address == "Hauptstraße 1\nBerlin"
    assert [(li.position, li.description, li.amount) for li in invoice.lines.all()] == [
        (1, "Design", Decimal("270.00")),
        (2, "Hosting", Decimal("20.50")),
    ]
    assert invoice.subtotal == Decimal("320.50")
    assert invoice.discount_total == Decimal("30.00")
    assert invoice.tax_total == Decimal("51.30")
    assert invoice.total == Decimal("341.80")
    assert invoice.balance_due == invoice.total
    assert list(invoice.contacts.all()) == [contact]
    assert invoice.created_by == membership.user
    assert [event.kind for event in history_of(document=invoice)] == ["created"]


def test_numbers_follow_each_other(organization, customer):
    numbers = [
        invoice_create(organization=organization, data=invoice_data(customer)).number
        for _ in range(3)
    ]

    assert numbers == ["INV-00001", "INV-00002", "INV-00003"]


def test_allow_partial_payments_defaults_to_the_organisation_setting(organization, customer):
    # given
    organization.allow_partial_payments = False
    organization.save()

    # when
    by_default = invoice_create(organization=organization, data=invoice_data(customer))
    chosen = invoice_create(
        organization=organization, data=invoice_data(customer, allow_partial_payments=True)
    )

    # then
    assert by_default.allow_partial_payments is False
    assert chosen.allow_partial_payments is True


def test_a_jpy_invoice_has_no_minor_unit(organization):
    # given
    customer = CustomerFactory(organization=organization, currency="JPY")

    # when
    invoice = invoice_create(
        organization=organization,
        data=invoice_data(customer, lines=[line(quantity="3", rate="333.5")]),
    )

    # then
    assert invoice.total == Decimal("1001")


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (line(quantity="-1"), "quantity must be more than zero"),
        (line(quantity="0"), "quantity must be more than zero"),
        (line(rate="-5"), "rate cannot be negative"),
        (line(discount="120"), "discount must be between 0 and 100"),
    ],
)
def test_negative_or_impossible_lines_are_refused_and_nothing_is_saved(
    organization, customer, bad_line, message
):
    # when
    with pytest.raises(SalesError, match=message):
        invoice_create(organization=organization, data=invoice_data(customer, lines=[bad_line]))

    # then: no invoice, and the number is not used up
    assert not Invoice.objects.exists()
    assert invoice_create(organization=organization, data=invoice_data(customer)).number == (
        "INV-00001"
    )


def test_lines_in_another_currency_are_refused(organization, customer):
    with pytest.raises(SalesError, match="billed in EUR"):
        invoice_create(organization=organization, data=invoice_data(customer, currency="USD"))


def test_another_organisations_customer_cannot_be_invoiced(organization):
    # given
    stranger = CustomerFactory()

    # when / then
    with pytest.raises(SalesError, match="Choose a customer"):
        invoice_create(organization=organization, data=invoice_data(stranger))


def test_another_organisations_tax_cannot_be_used(organization, customer):
    # given
    foreign_tax = TaxFactory()

    # when / then
    with pytest.raises(SalesError, match="item and tax of this organisation"):
        invoice_create(
            organization=organization,
            data=invoice_data(customer, lines=[line(tax_id=foreign_tax.pk)]),
        )


# --- mark as sent ----------------------------------------------------------------------------


def test_mark_a_draft_as_sent(organization, customer, membership):
    # given
    invoice = invoice_create(organization=organization, data=invoice_data(customer))

    # when
    invoice = invoice_mark_sent(invoice=invoice, actor=membership.user)

    # then
    assert invoice.status == InvoiceStatus.SENT
    assert invoice.sent_at is not None
    assert invoice.balance_due == Decimal("100.00")
    assert [event.kind for event in history_of(document=invoice)] == ["sent", "created"]


def test_an_invoice_is_sent_only_once(sent_invoice):
    with pytest.raises(DocumentStateError, match="already been sent"):
        invoice_mark_sent(invoice=sent_invoice)


def test_a_void_invoice_cannot_be_sent(organization, customer):
    # given
    invoice = invoice_void(
        invoice=invoice_create(organization=organization, data=invoice_data(customer))
    )

    # when / then
    with pytest.raises(DocumentStateError, match="void invoice cannot be sent"):
        invoice_mark_sent(invoice=invoice)


# --- statuses -------------------------------------------------------------------------------


def test_payments_move_a_sent_invoice_to_partially_paid_then_paid(sent_invoice):
    # when
    record_payment(sent_invoice, "40")
    sent_invoice.refresh_from_db()

    # then
    assert sent_invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert sent_invoice.balance_due == Decimal("60.00")

    # when
    record_payment(sent_invoice, "60", number="PAY-00002")
    sent_invoice.refresh_from_db()

    # then
    assert sent_invoice.status == InvoiceStatus.PAID
    assert sent_invoice.balance_due == 0


def test_an_open_invoice_past_its_due_date_shows_as_overdue(sent_invoice):
    # given: due on 9 February 2025, long past
    assert sent_invoice.due_date < timezone.localdate()

    # then
    assert sent_invoice.display_status == InvoiceStatus.OVERDUE
    assert sent_invoice.get_display_status_display() == "Overdue"
    assert sent_invoice.status == InvoiceStatus.SENT


def test_a_draft_paid_or_void_invoice_is_never_overdue(organization, customer, sent_invoice):
    # given
    draft = invoice_create(organization=organization, data=invoice_data(customer))
    void = invoice_void(
        invoice=invoice_create(organization=organization, data=invoice_data(customer))
    )
    record_payment(sent_invoice, "100")
    sent_invoice.refresh_from_db()

    # then
    assert draft.display_status == InvoiceStatus.DRAFT
    assert void.display_status == InvoiceStatus.VOID
    assert sent_invoice.display_status == InvoiceStatus.PAID


def test_an_invoice_due_today_is_not_overdue(organization, customer):
    # given
    today = timezone.localdate()
    invoice = invoice_mark_sent(
        invoice=invoice_create(
            organization=organization, data=invoice_data(customer, date=today, payment_terms=0)
        )
    )

    # then
    assert invoice.display_status == InvoiceStatus.SENT


# --- edit ------------------------------------------------------------------------------------


def test_edit_a_draft_replaces_its_lines_and_totals(organization, customer, membership):
    # given
    invoice = invoice_create(organization=organization, data=invoice_data(customer))

    # when
    invoice = invoice_update(
        invoice=invoice,
        data=invoice_data(
            customer,
            lines=[line("A", rate="10"), line("B", quantity="3", rate="5")],
            notes="Thank you",
            due_date=date(2025, 3, 1),
        ),
        actor=membership.user,
    )

    # then
    invoice.refresh_from_db()
    assert [li.description for li in invoice.lines.all()] == ["A", "B"]
    assert invoice.total == Decimal("25.00")
    assert invoice.balance_due == Decimal("25.00")
    assert invoice.notes == "Thank you"
    assert invoice.due_date == date(2025, 3, 1)
    assert invoice.number == "INV-00001"
    assert [event.kind for event in history_of(document=invoice)] == ["edited", "created"]


def test_edit_a_sent_invoice_keeps_it_sent(sent_invoice, customer):
    # when
    invoice = invoice_update(
        invoice=sent_invoice, data=invoice_data(customer, lines=[line(rate="150")])
    )

    # then
    assert invoice.status == InvoiceStatus.SENT
    assert invoice.balance_due == Decimal("150.00")


def test_editing_a_void_invoice_is_refused(organization, customer):
    # given
    invoice = invoice_void(
        invoice=invoice_create(organization=organization, data=invoice_data(customer))
    )

    # when / then
    with pytest.raises(DocumentStateError, match="^A void invoice cannot be edited.$"):
        invoice_update(invoice=invoice, data=invoice_data(customer, lines=[line(rate="1")]))
    invoice.refresh_from_db()
    assert invoice.total == Decimal("100.00")


def test_editing_a_paid_invoice_is_refused(sent_invoice, customer):
    # given
    record_payment(sent_invoice, "100")

    # when / then
    with pytest.raises(DocumentStateError, match="paid invoice cannot be edited"):
        invoice_update(invoice=sent_invoice, data=invoice_data(customer))


def test_a_partly_paid_invoice_may_grow_and_keeps_its_payment(sent_invoice, customer):
    # given
    record_payment(sent_invoice, "40")

    # when
    invoice = invoice_update(
        invoice=sent_invoice, data=invoice_data(customer, lines=[line(rate="200")])
    )

    # then
    assert invoice.amount_paid == Decimal("40.00")
    assert invoice.balance_due == Decimal("160.00")
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID


def test_the_total_cannot_drop_below_what_was_paid_or_credited(sent_invoice, customer):
    # given: 40 paid, 30 credited
    record_payment(sent_invoice, "40")
    apply_credit(sent_invoice, "30")

    # when / then
    with pytest.raises(SalesError, match="less than the €70.00 already paid or credited"):
        invoice_update(invoice=sent_invoice, data=invoice_data(customer, lines=[line(rate="60")]))
    sent_invoice.refresh_from_db()
    assert sent_invoice.total == Decimal("100.00")
    assert [li.rate for li in sent_invoice.lines.all()] == [Decimal("50.0000")]


def test_down_to_exactly_what_was_paid_settles_the_invoice(sent_invoice, customer):
    # given
    record_payment(sent_invoice, "40")

    # when
    invoice = invoice_update(
        invoice=sent_invoice, data=invoice_data(customer, lines=[line(rate="40")])
    )

    # then
    assert invoice.balance_due == 0
    assert invoice.status == InvoiceStatus.PAID


def test_a_paid_towards_invoice_keeps_its_customer(organization, sent_invoice):
    # given
    record_payment(sent_invoice, "10")
    other = CustomerFactory(organization=organization, currency="EUR")

    # when / then
    with pytest.raises(DocumentStateError, match="customer cannot change"):
        invoice_update(invoice=sent_invoice, data=invoice_data(other))


def test_a_draft_may_move_to_another_customer_and_their_currency(organization, customer):
    # given
    invoice = invoice_create(organization=organization, data=invoice_data(customer))
    other = CustomerFactory(organization=organization, currency="JPY")

    # when
    invoice = invoice_update(
        invoice=invoice, data=invoice_data(other, lines=[line(quantity="1", rate="99.6")])
    )

    # then
    assert invoice.customer == other
    assert invoice.currency == "JPY"
    assert invoice.total == Decimal("100")


def test_edits_with_bad_lines_change_nothing(sent_invoice, customer):
    with pytest.raises(SalesError, match="rate cannot be negative"):
        invoice_update(invoice=sent_invoice, data=invoice_data(customer, lines=[line(rate="-1")]))

    sent_invoice.refresh_from_db()
    assert sent_invoice.total == Decimal("100.00")
    assert sent_invoice.lines.count() == 1


# --- void ------------------------------------------------------------------------------------


def test_void_an_unpaid_invoice(sent_invoice, membership):
    # when
    invoice = invoice_void(invoice=sent_invoice, actor=membership.user)

    # then
    assert invoice.status == InvoiceStatus.VOID
    assert invoice.voided_at is not None
    assert invoice.balance_due == 0
    assert history_of(document=invoice).first().kind == "voided"


def test_voiding_twice_is_refused(sent_invoice):
    invoice_void(invoice=sent_invoice)

    with pytest.raises(DocumentStateError, match="already void"):
        invoice_void(invoice=sent_invoice)


def test_voiding_is_refused_while_payments_are_recorded_and_names_them(sent_invoice):
    # given
    record_payment(sent_invoice, "10", number="PAY-00007")
    record_payment(sent_invoice, "15", number="PAY-00008")

    # when / then
    with pytest.raises(DocumentStateError, match=r"Payments .* \(PAY-00007, PAY-00008\)"):
        invoice_void(invoice=sent_invoice)
    sent_invoice.refresh_from_db()
    assert sent_invoice.status == InvoiceStatus.PARTIALLY_PAID


def test_voiding_is_refused_while_credits_are_applied_and_names_them(sent_invoice):
    # given
    apply_credit(sent_invoice, "10", number="CN-00003")

    # when / then
    with pytest.raises(DocumentStateError, match=r"Credits .* \(CN-00003\)"):
        invoice_void(invoice=sent_invoice)


def test_an_invoice_of_another_organisation_cannot_be_changed(customer, sent_invoice):
    # given: the same invoice id seen through another organisation
    stranger = CustomerFactory()
    sent_invoice.organization = stranger.organization

    # when / then
    with pytest.raises(Invoice.DoesNotExist):
        invoice_void(invoice=sent_invoice)
