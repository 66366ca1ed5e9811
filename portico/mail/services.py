"""The outbox: record e-mails with the change that causes them, deliver later."""

import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.errors import PorticoError
from portico.mail.models import EmailStatus, OutboundEmail, mailbox, secret_placeholder

logger = logging.getLogger(__name__)


class OutboxError(PorticoError):
    """An outbox action that cannot be done (say, retrying a sent e-mail)."""


def _message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "portico.test"
    return f"<{uuid.uuid4().hex}@{domain}>"


def render_email(*, template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject, text and HTML of ``mail/<template>`` rendered in ``language``."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        subject = " ".join(subject.split())  # a subject is one line
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    return subject, text, html


def email_queue(
    *,
    organization: Organization | None,
    kind: str,
    to_email: str,
    to_name: str = "",
    template: str,
    context: dict,
    language: str,
    reply_to: str = "",
    secrets: dict[str, str] | None = None,
) -> OutboundEmail:
    """Write an e-mail to the outbox; the worker delivers it after commit.

    Call inside the transaction of the change that causes the e-mail: if the
    change rolls back, so does the e-mail. ``secrets`` (say, an invitation
    link) reach the template as placeholders: the stored bodies never hold
    them, and they are filled in only when the message is sent.
    """
    secrets = secrets or {}
    placeholders = {name: secret_placeholder(name) for name in secrets}
    context = {
        "organization": organization,
        "site_url": settings.SITE_URL,
        **context,
        **placeholders,
    }
    subject, text, html = render_email(template=template, context=context, language=language)
    # The row and its delivery task commit together even when the caller runs
    # in autocommit mode; inside the caller's transaction this adds no savepoint.
    with transaction.atomic(savepoint=False):
        email = OutboundEmail.objects.create(
            organization=organization,
            kind=kind,
            to_email=to_email,
            to_name=to_name,
            from_email=_from_address(organization),
            reply_to=reply_to or (organization.email if organization else ""),
            language=language,
            subject=subject,
            body_text=text,
            body_html=html,
            message_id=_message_id(),
            next_attempt_at=timezone.now(),
            secret_values=secrets,
        )
        schedule_delivery()
    return email


def _from_address(organization: Organization | None) -> str:
    """The organisation's name on our sending address, stored readable (Django
    encodes a non-ASCII name when sending)."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if organization is None:
        return settings.DEFAULT_FROM_EMAIL
    return mailbox(organization.name, address)


def _delivery_marker() -> None:
    """Registered with on_commit only to mark "delivery already enqueued here"."""


def schedule_delivery() -> None:
    """Enqueue one delivery task in the current transaction.

    The task row is written in the same transaction as the e-mails, so it
    cannot run before they are visible and cannot outlive a rollback. A bulk
    action queueing thousands of e-mails in one transaction enqueues one task.
    """
    from portico.mail.tasks import deliver_outbox

    connection = transaction.get_connection()
    if connection.in_atomic_block:
        if any(callback is _delivery_marker for _s, callback, _r in connection.run_on_commit):
            return
        transaction.on_commit(_delivery_marker)
    deliver_outbox.enqueue()


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass
class _Claim:
    """Rows one worker may send, and until when.

    ``until`` doubles as the claim's identity: a row's ``claimed_until`` changes
    whenever another worker takes it over, so every update this worker makes
    after sending is filtered on it and cannot overwrite a newer claim.
    """

    emails: list[OutboundEmail]
    until: datetime
    # No message is started after this moment: sending must end well before
    # the claim expires, or a second worker could take the row and send it too.
    last_start: datetime


def _due_filter(now: datetime) -> Q:
    return Q(status=EmailStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=EmailStatus.SENDING, claimed_until__lte=now
    )


def _claim_batch(*, now: datetime, batch_size: int) -> _Claim:
    """Claim up to ``batch_size`` due rows for this worker.

    On PostgreSQL ``SKIP LOCKED`` lets several workers claim disjoint batches
    (READ COMMITTED re-checks the filter on a row committed meanwhile, so a row
    another worker just claimed is not taken); SQLite has one writer at a time
    (``transaction_mode=IMMEDIATE``), so the transaction alone is enough.
    """
    claim_seconds = settings.OUTBOX_CLAIM_SECONDS
    claim = _Claim(
        emails=[],
        until=now + timedelta(seconds=claim_seconds),
        last_start=now + timedelta(seconds=claim_seconds / 2),
    )
    with transaction.atomic():
        rows = OutboundEmail.objects.filter(_due_filter(now)).order_by("next_attempt_at", "id")
        rows = rows.select_for_update(skip_locked=True)
        claim.emails = list(rows[:batch_size])
        if claim.emails:
            OutboundEmail.objects.filter(pk__in=[row.pk for row in claim.emails]).update(
                status=EmailStatus.SENDING, claimed_until=claim.until
            )
    return claim


def _still_claimed(email: OutboundEmail, claim: _Claim):
    return OutboundEmail.objects.filter(
        pk=email.pk, status=EmailStatus.SENDING, claimed_until=claim.until
    )


def _release(emails: list[OutboundEmail], claim: _Claim) -> None:
    """Give unsent rows back, due at once, without counting an attempt."""
    if emails:
        OutboundEmail.objects.filter(
            pk__in=[email.pk for email in emails],
            status=EmailStatus.SENDING,
            claimed_until=claim.until,
        ).update(status=EmailStatus.QUEUED, claimed_until=None)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: base, 2×base, 4×base … capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def _build_message(email: OutboundEmail, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.with_secrets(email.subject),
        body=email.with_secrets(email.body_text),
        from_email=email.from_email,
        to=[email.recipient],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers={"Message-ID": email.message_id},
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(
            email.with_secrets(email.body_html, escape_html=True), "text/html"
        )
    return message


def _connection_lost(error: Exception) -> bool:
    """Whether ``error`` leaves the SMTP session unusable for the next message.

    A refused recipient or a rejected message leaves the session open; a
    dropped connection, a timeout or a "421 closing" does not.
    """
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)


def _record_failure(
    email: OutboundEmail, error: Exception, claim: _Claim, report: DeliveryReport
) -> None:
    attempts = email.attempts + 1
    final = attempts >= settings.OUTBOX_MAX_ATTEMPTS
    updated = _still_claimed(email, claim).update(
        status=EmailStatus.FAILED if final else EmailStatus.QUEUED,
        attempts=attempts,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=timezone.now() + retry_delay(attempts),
        claimed_until=None,
    )
    logger.warning("E-mail %s to %s not delivered: %s", email.pk, email.to_email, error)
    if not updated:  # another worker took the row over; its outcome stands
        return
    if final:
        report.failed += 1
    else:
        report.retried += 1


def _record_sent(email: OutboundEmail) -> None:
    # Not filtered on the claim: the server took the message, whoever owns the
    # row now, and a row marked sent is never sent again.
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        claimed_until=None,
        last_error="",
        secret_values={},
    )


def _send_claimed(claim: _Claim, connection, report: DeliveryReport) -> None:
    """Send a claimed batch over one open connection.

    Rows left unsent (the claim is running out, or the connection broke) are
    released for the next batch, which opens a fresh connection.
    """
    for position, email in enumerate(claim.emails):
        if position and timezone.now() >= claim.last_start:
            _release(claim.emails[position:], claim)
            return
        try:
            _build_message(email, connection).send()
        except Exception as error:
            _record_failure(email, error, claim, report)
            if _connection_lost(error):
                _release(claim.emails[position + 1 :], claim)
                return
            continue
        _record_sent(email)
        report.sent += 1


def outbox_deliver_due(*, batch_size: int | None = None, max_batches: int = 50) -> DeliveryReport:
    """Deliver every due e-mail, one SMTP connection per batch.

    Each row is marked sent right after the server accepted it, so a worker
    killed mid-batch re-sends at most the message it was sending.
    """
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    report = DeliveryReport()
    for _batch_number in range(max_batches):
        claim = _claim_batch(now=timezone.now(), batch_size=batch_size)
        if not claim.emails:
            break
        try:
            connection = get_connection(fail_silently=False)
            connection.open()
        except Exception as error:  # server down or misconfigured: every row backs off
            for email in claim.emails:
                _record_failure(email, error, claim, report)
            break
        try:
            _send_claimed(claim, connection, report)
        finally:
            try:
                connection.close()
            except Exception:  # closing a broken connection must not lose the report
                logger.exception("Closing the e-mail connection failed")
    return report


def outbox_next_due_at() -> datetime | None:
    """When the next undelivered e-mail becomes due (None when there is none)."""
    queued = (
        OutboundEmail.objects.filter(status=EmailStatus.QUEUED)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    claimed = (
        OutboundEmail.objects.filter(status=EmailStatus.SENDING)
        .order_by("claimed_until")
        .values_list("claimed_until", flat=True)
        .first()
    )
    candidates = [moment for moment in (queued, claimed) if moment is not None]
    return min(candidates) if candidates else None


def outbox_retry(*, organization: Organization, email_id: int) -> OutboundEmail:
    """Staff ask for a failed e-mail to be sent again now."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(
            organization=organization, pk=email_id
        )
        if email.status != EmailStatus.FAILED:
            raise OutboxError(_("Only a failed e-mail can be retried."))
        email.status = EmailStatus.QUEUED
        email.next_attempt_at = timezone.now()
        email.save(update_fields=["status", "next_attempt_at", "updated_at"])
        schedule_delivery()
    return email
