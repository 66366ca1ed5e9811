"""Online payment of invoices from the portal: gateways, checkouts, webhook events.

A contact's **Pay now** creates a ``Checkout`` (what is paid: invoices and
amounts, in integer minor units for the provider) before anything is sent to
the provider. The provider's confirmation (Stripe's webhook, the return page,
or the built-in test gateway) turns it into one ``payments.Payment`` — never
two: the payment's (provider, provider reference) is unique.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel, TimeStampedModel
from portico.sales.models import MONEY


class Provider(models.TextChoices):
    STRIPE = "stripe", _("Stripe")
    TEST = "test", _("Test gateway")


class OnlinePaymentSettings(TimeStampedModel):
    """Settings → Online payments, one row per organisation."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="online_payment_settings"
    )
    stripe_enabled = models.BooleanField(_("Accept card payments with Stripe"), default=False)
    stripe_publishable_key = models.CharField(_("Publishable key"), max_length=255, blank=True)
    # Secrets are stored encrypted (portico.online_payments.secrets); never shown again in full.
    stripe_secret_key_encrypted = models.TextField(blank=True)
    stripe_webhook_secret_encrypted = models.TextField(blank=True)
    test_gateway_enabled = models.BooleanField(_("Test gateway"), default=False)
    payment_instructions = models.TextField(_("Payment instructions"), blank=True)
    prevent_duplicate_payments = models.BooleanField(_("Prevent duplicate payments"), default=True)
    # The smallest partial payment a contact may make (the provider's own minimum also applies).
    minimum_partial_amount = models.DecimalField(_("Smallest partial payment"), default=1, **MONEY)

    class Meta:
        verbose_name = _("online payment settings")
        verbose_name_plural = _("online payment settings")

    def __str__(self) -> str:
        return f"online payments of {self.organization_id}"


class CheckoutStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class Checkout(OrganizationOwnedModel):
    """One **Pay now**: the invoices and amounts a contact chose to pay, at a provider."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="checkouts"
    )
    contact = models.ForeignKey(
        "customers.ContactPerson", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    # The provider's id of the checkout (Stripe: the Checkout Session id "cs_…").
    provider_session_id = models.CharField(max_length=255, blank=True)
    # The provider's id of the money movement (Stripe: the PaymentIntent "pi_…").
    provider_payment_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.PENDING
    )
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount"), **MONEY)
    # What crosses the provider boundary: integer minor units of ``currency``.
    amount_minor = models.BigIntegerField()
    # Until then, the invoices are locked against another Pay now (duplicate prevention).
    expires_at = models.DateTimeField(_("expires"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    payment = models.OneToOneField(
        "payments.Payment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkout",
    )

    class Meta:
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")
        indexes = [
            models.Index(fields=["organization", "customer", "status"], name="checkout_cust_idx"),
            models.Index(fields=["status", "expires_at"], name="checkout_expiry_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"],
                condition=~Q(provider_session_id=""),
                name="checkout_provider_session_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} {self.provider} {self.status}"


class CheckoutInvoice(models.Model):
    """One invoice of a checkout and the amount chosen for it (oldest first)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(
        "sales.Invoice", on_delete=models.CASCADE, related_name="checkout_lines"
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkout", "invoice"], name="checkout_invoice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.checkout_id} → {self.invoice_id}: {self.amount}"


class WebhookEvent(models.Model):
    """A provider event received: kept once per event id (a redelivery is a no-op)."""

    provider = models.CharField(max_length=10, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
