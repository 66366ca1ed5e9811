from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel, TimeStampedModel
from portico.sales.models import MONEY


class PaymentMode(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    CHECK = "check", _("Check")
    CARD = "card", _("Credit card")
    ONLINE = "online", _("Online payment")
    OTHER = "other", _("Other")


class Payment(OrganizationOwnedModel):
    """Money received from a customer, allocated to one or more of its invoices.

    What is not allocated stays as the customer's credit (``unused_amount``).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("customer"),
    )
    number = models.CharField(_("number"), max_length=32)
    date = models.DateField(_("date"), default=timezone.localdate)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    mode = models.CharField(
        _("payment mode"),
        max_length=20,
        choices=PaymentMode.choices,
        default=PaymentMode.BANK_TRANSFER,
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    unused_amount = models.DecimalField(_("unused (customer credit)"), default=0, **MONEY)
    # Online payments: who took the money ("stripe", "test") and their id for
    # it. Unique per organisation and provider, so a provider's confirmation
    # delivered twice (webhook and return page racing, or redelivered) can
    # never record two payments.
    provider = models.CharField(_("provider"), max_length=10, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("payment received")
        verbose_name_plural = _("payments received")
        indexes = [
            models.Index(fields=["organization", "-date", "-id"], name="pay_org_date_idx"),
            models.Index(
                fields=["organization", "customer", "-date", "-id"], name="pay_org_cust_idx"
            ),
            models.Index(fields=["organization", "amount", "id"], name="pay_org_amount_idx"),
            # Number and reference search: see migration 0003 (per database).
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="pay_number_unique"),
            models.UniqueConstraint(
                fields=["organization", "provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="pay_provider_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="pay_amount_positive"),
            models.CheckConstraint(
                condition=Q(unused_amount__gte=0) & Q(unused_amount__lte=models.F("amount")),
                name="pay_unused_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentAllocation(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(
        "sales.Invoice", on_delete=models.PROTECT, related_name="payment_allocations"
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pay_allocation_positive"),
            models.UniqueConstraint(fields=["payment", "invoice"], name="pay_allocation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class PaymentRefund(OrganizationOwnedModel):
    """Money given back to the customer out of a payment's unused credit.

    Recorded by staff (issuing it at the provider happens there); it lowers
    the payment's ``unused_amount`` by ``amount``.
    """

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    date = models.DateField(_("date"), default=timezone.localdate)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pay_refund_positive"),
        ]

    def __str__(self) -> str:
        return f"refund of {self.amount} from {self.payment_id}"
