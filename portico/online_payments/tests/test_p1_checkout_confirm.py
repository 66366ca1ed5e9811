"""Confirmation: one payment per checkout, allocated oldest first at today's
balances, the rest kept as credit; a receipt and a staff notice."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.mail.models import OutboundEmail
from portico.online_payments.models import Checkout, CheckoutStatus
from portico.online_payments.services import (
    OnlinePaymentError,
    checkout_confirm,
    checkout_expire_due,
    checkout_prepare,
)
from portico.online_payments.tests.p1_support import enable_test_gateway, invoice_of, make_access
from portico.payments.models import Payment, PaymentMode
from portico.payments.services import payment_record
from portico.sales.history import describe_event, history_of
from portico.sales.models import InvoiceStatus


@pytest.fixture
def access(db):
    access = make_access()
    enable_test_gateway(access.organization)
    return access


def prepare(access, *selections):
    return checkout_prepare(access=access, provider="test", selections=list(selections))


def confirm(checkout, reference="test_ref_1", **changes):
    values = {
        "checkout_id": checkout.pk,
        "provider_reference": reference,
        "amount_minor": checkout.amount_minor,
        "currency": checkout.currency,
    }
    values.update(changes)
    return checkout_confirm(**values)


def test_a_multi_invoice_payment_is_allocated_oldest_first(access):
    newer = invoice_of(access, "80.00", days_ago=1)
    older = invoice_of(access, "100.00", days_ago=9)
    checkout = prepare(access, (newer.pk, None), (older.pk, Decimal("40.00")))

    payment = confirm(checkout, provider_payment_id="pi_123")

    assert payment.amount == Decimal("120.00") and payment.unused_amount == 0
    assert payment.mode == PaymentMode.ONLINE
    assert (payment.provider, payment.provider_reference) == ("test", "test_ref_1")
    assert payment.reference == "test_ref_1"
    assert payment.created_by == access.user
    allocations = dict(payment.allocations.values_list("invoice_id", "amount"))
    assert allocations == {older.pk: Decimal("40.00"), newer.pk: Decimal("80.00")}
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, older.balance_due) == (InvoiceStatus.PARTIALLY_PAID, Decimal("60.00"))
    assert (newer.status, newer.balance_due) == (InvoiceStatus.PAID, Decimal(0))
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.SUCCEEDED and checkout.payment == payment
    assert checkout.provider_payment_id == "pi_123" and checkout.completed_at is not None


def test_part_then_the_rest(access):
    invoice = invoice_of(access, "100.00")

    confirm(prepare(access, (invoice.pk, Decimal("30.00"))), "test_a")
    confirm(prepare(access, (invoice.pk, None)), "test_b")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("70.00"),
    ]


def test_confirming_100_times_records_one_payment(access):
    invoice = invoice_of(access)
    checkout = prepare(access, (invoice.pk, None))

    payments = {confirm(checkout).pk for _ in range(100)}

    assert len(payments) == 1
    assert Payment.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="online_payments.receipt").count() == 1


def test_the_same_provider_reference_on_another_checkout_returns_the_first_payment(access):
    enable_test_gateway(access.organization, prevent_duplicate_payments=False)
    invoice = invoice_of(access)
    first = confirm(prepare(access, (invoice.pk, Decimal("10"))), "pi_same")
    other = prepare(access, (invoice.pk, Decimal("10")))

    again = confirm(other, "pi_same")

    assert again == first
    assert Payment.objects.count() == 1
    other.refresh_from_db()
    assert other.payment is None


def test_another_payment_landing_meanwhile_leaves_the_excess_as_credit(access):
    older = invoice_of(access, "100.00", days_ago=5)
    newer = invoice_of(access, "50.00", days_ago=1)
    checkout = prepare(access, (older.pk, None), (newer.pk, None))
    # Staff record a bank transfer for the older invoice before the card payment lands.
    payment_record(
        organization=access.organization,
        customer_id=access.customer_id,
        amount=Decimal("70.00"),
        date=timezone.localdate(),
        allocations=[(older.pk, Decimal("70.00"))],
    )

    payment = confirm(checkout)

    assert payment.amount == Decimal("150.00")
    allocations = dict(payment.allocations.values_list("invoice_id", "amount"))
    assert allocations == {older.pk: Decimal("30.00"), newer.pk: Decimal("50.00")}
    assert payment.unused_amount == Decimal("70.00")
    older.refresh_from_db()
    assert older.balance_due == 0 and older.status == InvoiceStatus.PAID


def test_an_invoice_voided_meanwhile_gets_nothing(access):
    invoice = invoice_of(access)
    checkout = prepare(access, (invoice.pk, None))
    invoice.status = InvoiceStatus.VOID
    invoice.save()

    payment = confirm(checkout)

    assert not payment.allocations.exists()
    assert payment.unused_amount == payment.amount


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_minor": 9999},
        {"amount_minor": 10001},
        {"currency": "EUR"},
        {"amount_minor": 100.0},
        {"provider_reference": ""},
    ],
)
def test_a_confirmation_that_does_not_match_is_refused_and_logged(access, caplog, changes):
    invoice = invoice_of(access)
    checkout = prepare(access, (invoice.pk, None))

    with (
        caplog.at_level(logging.WARNING, logger="portico.online_payments.services"),
        pytest.raises(OnlinePaymentError),
    ):
        confirm(checkout, **changes)

    assert not Payment.objects.exists()
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PENDING
    if "provider_reference" not in changes:
        assert f"checkout {checkout.pk} refused" in caplog.text


def test_an_unknown_checkout_is_refused(access):
    with pytest.raises(OnlinePaymentError):
        checkout_confirm(checkout_id=0, provider_reference="x", amount_minor=1, currency="USD")


def test_money_taken_after_expiry_is_still_recorded(access):
    invoice = invoice_of(access)
    checkout = prepare(access, (invoice.pk, None))
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    checkout_expire_due()

    payment = confirm(checkout)

    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.SUCCEEDED and checkout.payment == payment


def test_history_says_who_paid_online(access):
    invoice = invoice_of(access)

    payment = confirm(prepare(access, (invoice.pk, None)), "test_hist")

    descriptions = [describe_event(event) for event in history_of(document=payment)]
    assert f"Paid online by {access.contact.full_name} with Test gateway (test_hist)" in (
        descriptions
    )
    assert any("recorded" in describe_event(e) for e in history_of(document=invoice))


def test_the_receipt_goes_to_the_contact_in_their_language(access):
    access.language = "de"
    access.save()
    older = invoice_of(access, "100.00", days_ago=3)
    newer = invoice_of(access, "50.00", days_ago=1)

    payment = confirm(prepare(access, (older.pk, Decimal("40.00")), (newer.pk, None)))

    receipt = OutboundEmail.objects.get(kind="online_payments.receipt")
    assert receipt.to_email == access.contact.email
    assert receipt.language == "de"
    assert "90,00" in receipt.subject and access.organization.name in receipt.subject
    path = f"/portal/{access.organization.portal_name}/payments/{payment.pk}/"
    for body in (receipt.body_text, receipt.body_html):
        assert older.number in body and newer.number in body
        assert "40,00" in body and "60,00" in body  # paid and still due on the older one
        assert payment.number in body
        assert path in body


def test_the_receipt_links_home_when_payments_are_hidden(access):
    access.modules = ["invoices"]
    access.save()
    invoice = invoice_of(access)

    confirm(prepare(access, (invoice.pk, None)))

    receipt = OutboundEmail.objects.get(kind="online_payments.receipt")
    assert "/payments/" not in receipt.body_text
    assert f"/portal/{access.organization.portal_name}/" in receipt.body_text


def test_the_receipt_mentions_credit_kept(access):
    invoice = invoice_of(access)
    checkout = prepare(access, (invoice.pk, None))
    payment_record(
        organization=access.organization,
        customer_id=access.customer_id,
        amount=Decimal("100.00"),
        date=timezone.localdate(),
        allocations=[(invoice.pk, Decimal("100.00"))],
    )

    confirm(checkout)

    receipt = OutboundEmail.objects.get(kind="online_payments.receipt")
    assert "kept as credit" in receipt.body_text


def test_staff_are_told_each_in_their_language(access):
    owner = MembershipFactory(
        organization=access.organization, role=Role.OWNER, user__language="fr"
    ).user
    admin = MembershipFactory(
        organization=access.organization, role=Role.ADMIN, user__language="en"
    ).user
    # told too: by default every member hears about portal activity
    staff = MembershipFactory(organization=access.organization, role=Role.STAFF).user
    invoice = invoice_of(access, "1234.50")

    confirm(prepare(access, (invoice.pk, None)))

    # one notification e-mail per invoice paid (see portico/activity)
    notices = {
        email.to_email: email
        for email in OutboundEmail.objects.filter(kind="activity.notification")
    }
    assert set(notices) == {owner.email, admin.email, staff.email}
    assert notices[owner.email].language == "fr"
    assert "234,50" in notices[owner.email].subject  # French decimals
    assert "$1,234.50" in notices[admin.email].subject
    assert access.customer.display_name in notices[admin.email].subject
    assert invoice.number in notices[admin.email].subject
    assert f"/app/invoices/{invoice.pk}/" in notices[admin.email].body_text


def test_nothing_is_queued_when_a_confirmation_is_refused(access):
    invoice = invoice_of(access)
    checkout = prepare(access, (invoice.pk, None))

    with pytest.raises(OnlinePaymentError):
        confirm(checkout, amount_minor=1)

    assert not OutboundEmail.objects.exists()
