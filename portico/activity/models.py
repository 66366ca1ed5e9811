"""What customers did in the portal (activity events) and who on the staff
side hears about it (notifications, per-member preferences).

An ``ActivityEvent`` keeps copies of the names it shows (customer, contact,
document number), so it still reads right after the document or the contact
is deleted. Each member gets one ``Notification`` per event they want in the
app; e-mail notifications go through the outbox (``email_state``).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
    SIGNED_UP = "signed_up", _("Self sign-up")
    DOCUMENT_VIEWED = "document_viewed", _("Document viewed")
    QUOTE_ACCEPTED = "quote_accepted", _("Quote accepted")
    QUOTE_DECLINED = "quote_declined", _("Quote declined")
    COMMENT_ADDED = "comment_added", _("Comment added")
    INVOICE_PAID = "invoice_paid", _("Invoice paid")
    TIME_APPROVED = "time_approved", _("Time entries approved")
    DETAILS_UPDATED = "details_updated", _("Customer details updated")
    ACCESS_DISABLED = "access_disabled", _("Portal access disabled")


class ActivityEvent(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("type"), max_length=30, choices=EventKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activity_events",
    )
    contact = models.ForeignKey(
        "customers.ContactPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Names as they were when it happened (the rows may change or go).
    actor_name = models.CharField(max_length=200, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    document = GenericForeignKey("content_type", "object_id")
    # "QT-00001" etc.: shown even when the document was deleted since.
    document_number = models.CharField(max_length=64, blank=True)
    # The values of the event's sentence (amount, reason, changes …), see summaries.py.
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    # Later views of a document by the same contact are counted on the first
    # view's event (no new event, no new notification).
    repeat_count = models.PositiveIntegerField(default=1)
    last_occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("activity event")
        verbose_name_plural = _("activity events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-occurred_at", "-id"], name="activity_org_idx"),
            models.Index(
                fields=["content_type", "object_id", "occurred_at"], name="activity_doc_idx"
            ),
            models.Index(fields=["customer", "-occurred_at"], name="activity_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_number or self.customer_name}"

    @property
    def summary(self) -> str:
        from portico.activity.summaries import event_summary

        return event_summary(self)

    @property
    def changes(self) -> list[dict]:
        from portico.activity.summaries import event_changes

        return event_changes(self)


class EmailState(models.TextChoices):
    NONE = "", _("No e-mail")
    SENT = "sent", _("E-mailed")
    # Part of a digest: too many in a short time, sent together later.
    DIGEST = "digest", _("Waiting for the digest")


class Notification(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(ActivityEvent, on_delete=models.CASCADE, related_name="notifications")
    # In the bell and on the Notifications page (False: e-mail only).
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=10, choices=EmailState.choices, default=EmailState.NONE, blank=True
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell: a member's unread count and latest, whatever the total.
            models.Index(
                fields=["recipient", "organization", "-created_at", "-id"],
                condition=Q(in_app=True),
                name="notification_inbox_idx",
            ),
            models.Index(
                fields=["recipient", "organization"],
                condition=Q(in_app=True, read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["recipient", "emailed_at"],
                condition=Q(email_state="sent"),
                name="notification_emailed_idx",
            ),
            models.Index(
                fields=["recipient", "organization"],
                condition=Q(email_state="digest"),
                name="notification_digest_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event"], name="notification_unique")
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.event_id}"


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("By e-mail")
    BOTH = "both", _("In the app and by e-mail")
    NONE = "none", _("Off")


class NotificationPreferences(models.Model):
    """One member's choices: a channel per event type (missing = the
    organisation's default), and whether to hear only about their customers."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    channels = models.JSONField(default=dict, blank=True)
    only_my_customers = models.BooleanField(_("Only about customers I own"), default=False)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="notification_preferences_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id}"
