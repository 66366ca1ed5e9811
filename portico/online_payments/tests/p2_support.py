"""Shared set-up of the Stripe tests (test_p2_*): an organisation connected to
Stripe (the ``fake_stripe`` fixture, registered in the root conftest, serves
its API), a contact, open invoices, prepared checkouts, signed webhooks."""

from datetime import date
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from portico.online_payments.models import OnlinePaymentSettings, Provider
from portico.online_payments.secrets import secret_encrypt
from portico.online_payments.services import checkout_prepare
from portico.online_payments.testing.fake_stripe import stripe_signature_header
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

WEBHOOK_SECRET = "whsec_p2testsecret0123456789"
SECRET_KEY = "sk_test_p2fakekey"


def stripe_connect(organization, *, test_gateway: bool = False) -> OnlinePaymentSettings:
    """Settings → Online payments with Stripe connected (test mode)."""
    row, _created = OnlinePaymentSettings.objects.update_or_create(
        organization=organization,
        defaults={
            "stripe_enabled": True,
            "stripe_publishable_key": "pk_test_p2fakekey",
            "stripe_secret_key_encrypted": secret_encrypt(SECRET_KEY),
            "stripe_webhook_secret_encrypted": secret_encrypt(WEBHOOK_SECRET),
            "test_gateway_enabled": test_gateway,
        },
    )
    return row


def open_invoice(customer, total: str = "100.00", *, day: int = 1, **fields):
    amount = Decimal(total)
    return InvoiceFactory(
        customer=customer,
        status=InvoiceStatus.SENT,
        subtotal=amount,
        total=amount,
        balance_due=amount,
        date=date(2025, 3, day),
        **fields,
    )


def stripe_checkout(access, *selections, provider: str = Provider.STRIPE):
    """A pending checkout through the real ``checkout_prepare``: selections are
    (invoice, amount or None)."""
    return checkout_prepare(
        access=access,
        provider=provider,
        selections=[
            (invoice.pk, None if amount is None else Decimal(amount))
            for invoice, amount in selections
        ],
    )


def make_stripe_access(**fields):
    """An active contact of an organisation with Stripe (and the test gateway) connected."""
    access = PortalAccessFactory(active=True, **fields)
    stripe_connect(access.organization, test_gateway=True)
    return access


def webhook_url(organization) -> str:
    return reverse("stripe_webhook", kwargs={"organization_id": organization.pk})


def webhook_post(client: Client, organization, payload: bytes, *, secret=WEBHOOK_SECRET, **sign):
    """POST ``payload`` to the organisation's webhook, signed like Stripe does."""
    return client.post(
        webhook_url(organization),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature_header(payload, secret, **sign),
    )
