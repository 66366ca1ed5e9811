from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.customers.tests.factories import CustomerFactory
from portico.payments import services
from portico.payments.models import Payment, PaymentAllocation, PaymentMode
from portico.payments.services import PaymentError
from portico.payments.tests.factories import open_invoice
from portico.sales.history import history_of
from portico.sales.models import CreditApplication, Invoice, InvoiceStatus
from portico.sales.tests.factories import CreditNoteFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2025, 3, 14)


def record(customer, amount, allocations=(), **options):
    return services.payment_record(
        organization=customer.organization,
        customer_id=customer.pk,
        amount=D(amount),
        date=options.pop("date", TODAY),
        mode=options.pop("mode", PaymentMode.BANK_TRANSFER),
        allocations=[(invoice.pk, D(value)) for invoice, value in allocations],
        **options,
    )


def balances(*invoices) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (invoice.status, invoice.amount_paid, invoice.balance_due)
        for invoice in (Invoice.objects.get(pk=invoice.pk) for invoice in invoices)
    ]


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="EUR", display_name="Acme")


# --- payment_record ------------------------------------------------------------------------


def test_a_payment_across_two_invoices_pays_one_in_full_and_the_other_in_part(customer):
    # given
    first = open_invoice(customer, "100.00")
    second = open_invoice(customer, "250.00")

    # when
    payment = record(customer, "180.00", [(first, "100.00"), (second, "80.00")])

    # then
    assert payment.number == "PAY-00001"
    assert payment.currency == "EUR"
    assert payment.unused_amount == 0
    assert balances(first, second) == [
        (InvoiceStatus.PAID, D("100"), D("0")),
        (InvoiceStatus.PARTIALLY_PAID, D("80"), D("170")),
    ]
    assert sorted(payment.allocations.values_list("amount", flat=True)) == [D("80"), D("100")]


def test_history_is_recorded_on_the_payment_and_each_invoice(customer, membership):
    # given
    invoice = open_invoice(customer, "100.00", number="INV-00042")

    # when
    payment = record(customer, "40.00", [(invoice, "40.00")], actor=membership.user)

    # then
    assert [event.text for event in history_of(document=invoice)] == [
        "Payment PAY-00001 of €40.00 recorded"
    ]
    assert [event.text for event in history_of(document=payment)] == [
        "€40.00 applied to INV-00042",
        "Payment of €40.00 received",
    ]
    assert history_of(document=payment).first().actor == membership.user


def test_numbers_follow_each_other(customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    numbers = [record(customer, "10", [(invoice, "10")]).number for _ in range(3)]

    # then
    assert numbers == ["PAY-00001", "PAY-00002", "PAY-00003"]


def test_an_overdue_invoice_can_be_paid(customer):
    # given
    invoice = open_invoice(
        customer, "100.00", date=TODAY - timedelta(days=60), due_date=TODAY - timedelta(days=30)
    )
    assert Invoice.objects.get(pk=invoice.pk).display_status == InvoiceStatus.OVERDUE

    # when
    record(customer, "100", [(invoice, "100")])

    # then
    assert balances(invoice) == [(InvoiceStatus.PAID, D("100"), D("0"))]


def test_the_excess_is_kept_as_customer_credit_when_asked(customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    payment = record(customer, "150.00", [(invoice, "100.00")], keep_excess_as_credit=True)

    # then
    assert payment.unused_amount == D("50")
    assert balances(invoice) == [(InvoiceStatus.PAID, D("100"), D("0"))]


def test_a_payment_with_no_invoice_at_all_can_be_kept_as_credit(customer):
    # when
    payment = record(customer, "75.00", keep_excess_as_credit=True)

    # then
    assert payment.unused_amount == D("75")
    assert not payment.allocations.exists()


@pytest.mark.parametrize("amount", ["-10.00", "0", "0.00"])
def test_a_negative_or_zero_payment_is_refused(customer, amount):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, amount, [(invoice, "10")])

    # then
    assert error.value.message == "The amount received must be more than zero."
    assert error.value.field == "amount"
    assert not Payment.objects.exists()


def test_a_payment_above_the_open_balance_is_refused_without_the_credit_box(customer):
    # given
    first = open_invoice(customer, "100.00")
    second = open_invoice(customer, "50.00")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "200.00", [(first, "100.00"), (second, "50.00")])

    # then
    assert error.value.message == (
        "The payment of €200.00 is more than the €150.00 Acme owes. "
        "Tick “Keep the excess as customer credit” to record the rest as credit."
    )
    assert not Payment.objects.exists()
    assert not PaymentAllocation.objects.exists()
    assert balances(first, second) == [
        (InvoiceStatus.SENT, D("0"), D("100")),
        (InvoiceStatus.SENT, D("0"), D("50")),
    ]


def test_an_unapplied_part_is_refused_without_the_credit_box(customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "60.00", [(invoice, "40.00")])

    # then
    assert "€20.00 of this payment is not applied to any invoice" in error.value.message
    assert not Payment.objects.exists()


def test_allocations_above_the_payment_are_refused(customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "50.00", [(invoice, "60.00")])

    # then
    assert error.value.message == (
        "The amounts applied to invoices (€60.00) add up to more than the payment of €50.00."
    )


def test_an_allocation_above_the_invoice_balance_is_refused(customer):
    # given
    invoice = open_invoice(customer, "100.00", number="INV-00007")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "120.00", [(invoice, "120.00")], keep_excess_as_credit=True)

    # then
    assert error.value.message == "€120.00 is more than the €100.00 still due on INV-00007."
    assert not Payment.objects.exists()


def test_a_negative_allocation_is_refused(customer):
    # given
    first = open_invoice(customer, "100.00")
    second = open_invoice(customer, "100.00")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "50.00", [(first, "70.00"), (second, "-20.00")])

    # then
    assert error.value.message == "An amount applied to an invoice cannot be negative."


def test_an_invoice_in_another_currency_is_refused(customer):
    # given: an invoice from before the customer's currency changed
    invoice = open_invoice(customer, "100.00", number="INV-00009", currency="USD")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "100.00", [(invoice, "100.00")])

    # then
    assert error.value.message == "INV-00009 is in USD, not EUR."
    assert not Payment.objects.exists()


def test_an_invoice_of_another_customer_is_refused(customer, organization):
    # given
    other = CustomerFactory(organization=organization, currency="EUR")
    invoice = open_invoice(other, "100.00", number="INV-00011")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "100.00", [(invoice, "100.00")])

    # then
    assert error.value.message == "INV-00011 is not an invoice of Acme."


def test_an_invoice_of_another_organisation_is_refused_as_missing(customer):
    # given
    foreign = open_invoice(CustomerFactory(currency="EUR"), "100.00")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "100.00", [(foreign, "100.00")])

    # then
    assert error.value.message == "An invoice chosen no longer exists."
    assert Invoice.objects.get(pk=foreign.pk).balance_due == D("100")


@pytest.mark.parametrize(
    ("status", "word"),
    [(InvoiceStatus.DRAFT, "draft"), (InvoiceStatus.PAID, "paid"), (InvoiceStatus.VOID, "void")],
)
def test_an_invoice_that_is_not_open_is_refused(customer, status, word):
    # given
    invoice = open_invoice(customer, "100.00", number="INV-00003", status=status)

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "100.00", [(invoice, "100.00")])

    # then
    assert error.value.message.startswith(f"INV-00003 is {word}:")


def test_an_invoice_without_partial_payments_must_be_paid_in_full(customer):
    # given
    invoice = open_invoice(customer, "100.00", number="INV-00005", allow_partial_payments=False)

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "60.00", [(invoice, "60.00")])

    # then
    assert error.value.message == (
        "INV-00005 does not allow partial payments: apply the full €100.00 or nothing."
    )
    # and paying it in full works
    record(customer, "100.00", [(invoice, "100.00")])
    assert balances(invoice) == [(InvoiceStatus.PAID, D("100"), D("0"))]


def test_a_customer_of_another_organisation_is_refused(organization):
    # given
    foreign = CustomerFactory(currency="EUR")

    # when
    with pytest.raises(PaymentError) as error:
        services.payment_record(
            organization=organization, customer_id=foreign.pk, amount=D("10"), date=TODAY
        )

    # then
    assert error.value.field == "customer"


def test_amounts_have_the_currencys_decimals(organization):
    # given
    customer = CustomerFactory(organization=organization, currency="JPY")
    invoice = open_invoice(customer, "1000")

    # when
    with pytest.raises(PaymentError) as error:
        record(customer, "1000.50", [(invoice, "1000")], keep_excess_as_credit=True)

    # then
    assert error.value.message == "1000.5 has more decimals than JPY allows."
    payment = record(customer, "1000", [(invoice, "1000")])
    assert payment.amount == D("1000")


def test_an_invoice_named_twice_gets_the_sum(customer):
    # given
    invoice = open_invoice(customer, "100.00")

    # when
    payment = record(customer, "70", [(invoice, "30"), (invoice, "40")])

    # then
    assert list(payment.allocations.values_list("amount", flat=True)) == [D("70")]


def test_credits_applied_count_towards_the_balance(customer):
    # given: 30 of 100 already credited
    invoice = open_invoice(customer, "100.00")
    credit_note = CreditNoteFactory(customer=customer, status="open", total=D("30"))
    CreditApplication.objects.create(
        organization=customer.organization, credit_note=credit_note, invoice=invoice, amount=D(30)
    )
    Invoice.objects.filter(pk=invoice.pk).update(credits_applied=30, balance_due=70)

    # when: paying more than what is left
    with pytest.raises(PaymentError):
        record(customer, "100", [(invoice, "100")], keep_excess_as_credit=True)
    record(customer, "70", [(invoice, "70")])

    # then
    assert balances(invoice) == [(InvoiceStatus.PAID, D("70"), D("0"))]


# --- payment_delete ------------------------------------------------------------------------


def test_deleting_a_payment_makes_its_invoices_owe_again(customer, membership):
    # given
    first = open_invoice(customer, "100.00")
    second = open_invoice(customer, "100.00")
    record(customer, "50.00", [(first, "50.00")])
    payment = record(customer, "150.00", [(first, "50.00"), (second, "100.00")])

    # when
    services.payment_delete(payment=payment, actor=membership.user)

    # then
    assert not Payment.objects.filter(pk=payment.pk).exists()
    assert balances(first, second) == [
        (InvoiceStatus.PARTIALLY_PAID, D("50"), D("50")),
        (InvoiceStatus.SENT, D("0"), D("100")),
    ]
    assert history_of(document=second).first().text == "Payment PAY-00002 of €100.00 deleted"


# --- payment_apply_credit --------------------------------------------------------------------


def test_unused_credit_is_applied_to_a_later_invoice(customer):
    # given
    payment = record(customer, "80.00", keep_excess_as_credit=True)
    invoice = open_invoice(customer, "100.00", number="INV-00020")

    # when
    services.payment_apply_credit(
        organization=customer.organization,
        payment_id=payment.pk,
        allocations=[(invoice.pk, D("60.00"))],
    )

    # then
    payment.refresh_from_db()
    assert payment.unused_amount == D("20")
    assert balances(invoice) == [(InvoiceStatus.PARTIALLY_PAID, D("60"), D("40"))]
    assert history_of(document=invoice).first().text == (
        "Credit of €60.00 from payment PAY-00001 applied"
    )


def test_applying_credit_to_an_invoice_already_paid_by_it_adds_up(customer):
    # given
    invoice = open_invoice(customer, "100.00")
    payment = record(customer, "100.00", [(invoice, "30.00")], keep_excess_as_credit=True)

    # when
    services.payment_apply_credit(
        organization=customer.organization, payment_id=payment.pk, allocations=[(invoice.pk, 50)]
    )

    # then
    assert list(payment.allocations.values_list("amount", flat=True)) == [D("80")]
    assert Payment.objects.get(pk=payment.pk).unused_amount == D("20")


def test_more_credit_than_unused_is_refused(customer):
    # given
    payment = record(customer, "30.00", keep_excess_as_credit=True)
    invoice = open_invoice(customer, "100.00")

    # when
    with pytest.raises(PaymentError) as error:
        services.payment_apply_credit(
            organization=customer.organization,
            payment_id=payment.pk,
            allocations=[(invoice.pk, D("40"))],
        )

    # then
    assert error.value.message == "Only €30.00 of this payment is unused; €40.00 cannot be applied."
    assert balances(invoice) == [(InvoiceStatus.SENT, D("0"), D("100"))]


def test_applying_nothing_is_refused(customer):
    payment = record(customer, "30.00", keep_excess_as_credit=True)

    with pytest.raises(PaymentError) as error:
        services.payment_apply_credit(
            organization=customer.organization, payment_id=payment.pk, allocations=[]
        )

    assert error.value.message == "Enter an amount to apply to an invoice."


# --- properties ----------------------------------------------------------------------------

money = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    totals=st.lists(money, min_size=1, max_size=4),
    attempts=st.lists(
        st.tuples(money, st.lists(st.tuples(st.integers(0, 3), money), max_size=4), st.booleans()),
        min_size=1,
        max_size=6,
    ),
)
def test_allocations_never_exceed_balances_or_payments(customer, totals, attempts):
    """Whatever staff try, every refused payment leaves nothing behind, and
    every invoice's balance stays total − paid − credited, never negative."""
    Payment.objects.filter(customer=customer).delete()
    Invoice.objects.filter(customer=customer).delete()
    invoices = [open_invoice(customer, str(total)) for total in totals]
    accepted = 0
    for amount, wanted, keep_credit in attempts:
        allocations = [(invoices[index % len(invoices)], value) for index, value in wanted]
        try:
            record(customer, str(amount), allocations, keep_excess_as_credit=keep_credit)
        except PaymentError:
            continue
        accepted += 1

    assert Payment.objects.filter(customer=customer).count() == accepted
    for payment in Payment.objects.filter(customer=customer):
        applied = payment.allocations.aggregate(total=Sum("amount"))["total"] or D(0)
        assert applied + payment.unused_amount == payment.amount
        assert payment.unused_amount >= 0
    for invoice in Invoice.objects.filter(customer=customer):
        paid = invoice.payment_allocations.aggregate(total=Sum("amount"))["total"] or D(0)
        assert paid == invoice.amount_paid
        assert paid + invoice.credits_applied <= invoice.total
        assert invoice.balance_due == invoice.total - paid - invoice.credits_applied
        expected = (
            InvoiceStatus.PAID
            if invoice.balance_due == 0
            else InvoiceStatus.PARTIALLY_PAID
            if paid
            else InvoiceStatus.SENT
        )
        assert invoice.status == expected
