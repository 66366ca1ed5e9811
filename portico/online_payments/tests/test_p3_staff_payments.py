"""Staff side of online payments: the provider on the payments list and page,
"Open in Stripe", and refunds recorded out of a payment's unused credit."""

from decimal import Decimal

import pytest
from django.utils import timezone

from portico.customers.tests.factories import CustomerFactory
from portico.online_payments.models import (
    Checkout,
    CheckoutInvoice,
    CheckoutStatus,
    OnlinePaymentSettings,
)
from portico.online_payments.provider_links import provider_payment_url
from portico.online_payments.secrets import secret_encrypt
from portico.payments.models import Payment, PaymentMode, PaymentRefund
from portico.payments.refund_services import RefundError, payment_refund_record
from portico.payments.services import payment_record
from portico.payments.tests.factories import open_invoice
from portico.sales.history import describe_event, history_of


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, currency="USD")


def online_payment(customer, *, provider="test", reference="test_abc123", amount="150.00"):
    """A payment as checkout_confirm leaves it: 100 on an invoice, the rest credit."""
    invoice = open_invoice(customer, total="100.00")
    payment = payment_record(
        organization=customer.organization,
        customer_id=customer.pk,
        amount=Decimal(amount),
        date=timezone.localdate(),
        mode=PaymentMode.ONLINE,
        reference=reference,
        allocations=[(invoice.pk, Decimal("100.00"))],
        keep_excess_as_credit=True,
    )
    Payment.objects.filter(pk=payment.pk).update(provider=provider, provider_reference=reference)
    payment.refresh_from_db()
    return payment, invoice


def test_the_payments_list_shows_the_provider(staff_client, customer):
    online_payment(customer)

    html = staff_client.get("/app/payments/").content.decode()

    assert "Online · Test gateway" in html
    assert "test_abc123" in html


def test_the_payment_page_shows_provider_checkout_and_chosen_invoices(staff_client, customer):
    payment, invoice = online_payment(customer)
    checkout = Checkout.objects.create(
        organization=customer.organization,
        customer=customer,
        provider="test",
        status=CheckoutStatus.SUCCEEDED,
        currency="USD",
        amount=Decimal("150.00"),
        amount_minor=15000,
        expires_at=timezone.now(),
        completed_at=timezone.now(),
        payment=payment,
    )
    CheckoutInvoice.objects.create(
        organization=customer.organization,
        checkout=checkout,
        invoice=invoice,
        amount=Decimal("150.00"),
    )

    response = staff_client.get(f"/app/payments/{payment.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Paid online" in html and "Test gateway" in html
    assert f"#{checkout.pk}" in html and invoice.number in html
    assert "Open in Stripe" not in html  # the test gateway has no dashboard


@pytest.mark.parametrize(
    ("publishable", "expected"),
    [
        ("pk_test_51Abc", "https://dashboard.stripe.com/test/payments/pi_123"),
        ("pk_live_51Abc", "https://dashboard.stripe.com/payments/pi_123"),
    ],
)
def test_a_stripe_payment_opens_in_the_dashboard_of_its_mode(
    staff_client, customer, publishable, expected
):
    OnlinePaymentSettings.objects.create(
        organization=customer.organization,
        stripe_enabled=True,
        stripe_publishable_key=publishable,
        stripe_secret_key_encrypted=secret_encrypt(publishable.replace("pk_", "sk_")),
    )
    payment, _invoice = online_payment(customer, provider="stripe", reference="pi_123")

    assert provider_payment_url(organization=customer.organization, payment=payment) == expected
    html = staff_client.get(f"/app/payments/{payment.pk}/").content.decode()
    assert "Open in Stripe" in html and f'href="{expected}"' in html
    assert "Online · Stripe" in html


def test_a_refund_takes_the_unused_credit_and_is_in_the_history(staff_client, customer):
    payment, _invoice = online_payment(customer)

    response = staff_client.post(
        f"/app/payments/{payment.pk}/refund/",
        {"amount": "30", "date": "2026-01-15", "reference": "re_1", "notes": "Asked by phone"},
    )

    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.unused_amount == Decimal("20.00")
    refund = PaymentRefund.objects.get(payment=payment)
    assert refund.amount == Decimal("30") and refund.reference == "re_1"
    assert refund.created_by is not None
    assert "Refund of $30.00 recorded" in [
        describe_event(event) for event in history_of(document=payment)
    ]
    html = staff_client.get(f"/app/payments/{payment.pk}/").content.decode()
    assert "Refunds" in html and "re_1" in html


def test_a_refund_beyond_the_unused_credit_is_refused_and_offers_a_credit_note(
    staff_client, customer
):
    payment, invoice = online_payment(customer)

    response = staff_client.post(
        f"/app/payments/{payment.pk}/refund/", {"amount": "80", "date": "2026-01-15"}
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "create a credit note" in html
    assert f"/app/credit-notes/new/?invoice={invoice.pk}" in html
    payment.refresh_from_db()
    assert payment.unused_amount == Decimal("50.00")
    assert not PaymentRefund.objects.exists()


def test_a_fully_applied_payment_cannot_be_refunded(customer):
    payment, _invoice = online_payment(customer, amount="100.00")

    with pytest.raises(RefundError, match="no credit to refund"):
        payment_refund_record(
            organization=customer.organization,
            payment_id=payment.pk,
            amount=Decimal("1"),
            date=timezone.localdate(),
        )


@pytest.mark.parametrize("amount", ["0", "-5", "1.234"])
def test_bad_refund_amounts_are_refused(customer, amount):
    payment, _invoice = online_payment(customer)

    with pytest.raises(RefundError):
        payment_refund_record(
            organization=customer.organization,
            payment_id=payment.pk,
            amount=Decimal(amount),
            date=timezone.localdate(),
        )
    payment.refresh_from_db()
    assert payment.unused_amount == Decimal("50.00")


def test_another_organisations_payment_cannot_be_refunded(staff_client):
    other = CustomerFactory(currency="USD")
    payment, _invoice = online_payment(other)

    response = staff_client.get(f"/app/payments/{payment.pk}/refund/")

    assert response.status_code == 404
    with pytest.raises(RefundError):
        payment_refund_record(
            organization=CustomerFactory().organization,
            payment_id=payment.pk,
            amount=Decimal("1"),
            date=timezone.localdate(),
        )
