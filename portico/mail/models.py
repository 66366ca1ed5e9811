from email.headerregistry import Address

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.models import TimeStampedModel


def mailbox(name: str, address: str) -> str:
    """``Name <address>``, quoted where needed but not RFC 2047-encoded.

    Stored and shown to staff as people read it; Django encodes a non-ASCII
    name when the message is sent. Never raises, whatever the address holds.
    """
    if not name:
        return address
    username, at, domain = address.rpartition("@")
    if not at:
        username, domain = address, ""
    return str(Address(display_name=name, username=username, domain=domain))


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmail(TimeStampedModel):
    """One e-mail, recorded in the transaction that caused it, delivered later.

    The row is the source of truth: a worker claims due rows, sends them and
    marks each sent or schedules a retry. A worker that dies leaves its claim
    to expire, so the rows are picked up again; nothing is lost.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_emails",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=60)
    to_email = models.EmailField(_("to"))
    to_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    from_email = models.CharField(_("from"), max_length=254)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    message_id = models.CharField(_("message ID"), max_length=255, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # While a worker is sending, the row is claimed until this time; a claim
    # in the past means the worker died and the row is due again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # Values such as invitation links are stored here, not in the bodies: the
    # bodies hold placeholders, filled in only when the message is sent, and
    # the values are wiped once it is. Staff reading the outbox never see a
    # working token, and a copy of the database holds none for sent mail.
    secret_values = models.JSONField(default=dict, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="mail_due_idx"),
            models.Index(fields=["organization", "-created_at"], name="mail_org_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"

    @property
    def recipient(self) -> str:
        return mailbox(self.to_name, self.to_email)

    def with_secrets(self, text: str, *, escape_html: bool = False) -> str:
        """``text`` with its secret placeholders filled in, for sending."""
        from html import escape

        for name, value in self.secret_values.items():
            text = text.replace(secret_placeholder(name), escape(value) if escape_html else value)
        return text

    @property
    def preview_text(self) -> str:
        return hide_secrets(self.body_text)

    @property
    def preview_html(self) -> str:
        return hide_secrets(self.body_html)


SECRET_PREFIX = "PORTICO-SECRET-"


def secret_placeholder(name: str) -> str:
    return f"{SECRET_PREFIX}{name}-{SECRET_PREFIX[:-1]}"


def hide_secrets(text: str) -> str:
    """Stored bodies keep placeholders; staff see that a private link was there."""
    import re

    from django.utils.translation import gettext

    pattern = re.escape(SECRET_PREFIX) + r"[a-z_]+-" + re.escape(SECRET_PREFIX[:-1])
    return re.sub(pattern, gettext("[private link, sent only to the recipient]"), text)
