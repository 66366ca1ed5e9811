"""The outbox: record e-mails with the change that causes them, deliver later."""

import functools
import html
import logging
import re
import secrets
import smtplib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.db import OperationalError, connections, router, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.core.bulk_insert import rows_insert
from portico.core.errors import PorticoError
from portico.mail import wire
from portico.mail.models import EmailStatus, OutboundEmail, mailbox, secret_placeholder

logger = logging.getLogger(__name__)


class OutboxError(PorticoError):
    """An outbox action that cannot be done (say, retrying a sent e-mail)."""


def _message_id() -> str:
    return f"<{secrets.token_hex(16)}@{_message_id_domain(settings.DEFAULT_FROM_EMAIL)}>"


@functools.lru_cache(maxsize=8)
def _message_id_domain(from_email: str) -> str:
    return from_email.rsplit("@", 1)[-1].strip(">") or "portico.test"


def render_email(*, template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject, text and HTML of ``mail/<template>`` rendered in ``language``."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context, using="text").strip()
        subject = " ".join(subject.split())  # a subject is one line
        text = render_to_string(f"{template}.txt", context, using="text")
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


class ClaimedEmail:
    """What sending needs of a claimed outbox row, read as a tuple: building
    ``OutboundEmail`` instances (every field converted, JSON decoded into a
    model) was a fifth of a delivery worker's time. Reads like the model:
    ``wire.message_bytes`` and ``_build_message`` take either."""

    FIELDS = (
        "pk",
        "to_email",
        "to_name",
        "from_email",
        "reply_to",
        "subject",
        "body_text",
        "body_html",
        "message_id",
        "secret_values",
        "attempts",
    )
    __slots__ = FIELDS

    def __init__(self, values: tuple) -> None:
        for name, value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)

    recipient = OutboundEmail.recipient

    def with_secrets(self, text: str, *, escape_html: bool = False) -> str:
        """As ``OutboundEmail.with_secrets``."""
        for name, value in self.secret_values.items():
            text = text.replace(
                secret_placeholder(name), html.escape(value) if escape_html else value
            )
        return text


@dataclass
class Claim:
    """Rows one worker may send, and until when.

    ``until`` doubles as the claim's identity: a row's ``claimed_until`` changes
    whenever another worker takes it over, so every update this worker makes
    after sending is filtered on it and cannot overwrite a newer claim. Rows a
    bulk job queues already claimed (``OutboxSender``) are even marked sent by
    it alone, so it carries a random fraction of a second: two claims made in
    the same microsecond by two processes still differ (it ends up to a second
    before ``OUTBOX_CLAIM_SECONDS``).
    """

    emails: list[ClaimedEmail]
    until: datetime
    # No message is started after this moment: sending must end well before
    # the claim expires, or a second worker could take the row and send it too.
    last_start: datetime
    # A bulk job's claim: whether a delivery run waits for it to run out.
    backstop: bool = False

    @classmethod
    def starting(cls, now: datetime) -> "Claim":
        claim_seconds = settings.OUTBOX_CLAIM_SECONDS
        return cls(
            emails=[],
            until=now
            + timedelta(seconds=claim_seconds, microseconds=-secrets.randbelow(1_000_000)),
            last_start=now + timedelta(seconds=claim_seconds / 2),
        )


def _claim_batch(*, now: datetime, batch_size: int) -> Claim:
    """Claim up to ``batch_size`` due rows for this worker.

    On PostgreSQL ``SKIP LOCKED`` lets several workers claim disjoint batches
    (READ COMMITTED re-checks the filter on a row committed meanwhile, so a row
    another worker just claimed is not taken); SQLite has one writer at a time
    (``transaction_mode=IMMEDIATE``), so the transaction alone is enough.
    """
    claim = Claim.starting(now)
    with transaction.atomic():
        _commit_without_flush()
        # Two scans of mail_due_idx in index order, each stopping after
        # batch_size rows: rows a dead worker left claimed, then queued rows.
        # (One query with OR, ordered by time and id, read and sorted every due
        # row, and on PostgreSQL every dead index entry the claims leave behind,
        # for each batch: a 10,000-message bulk slowed to 700 messages/s.)
        abandoned = OutboundEmail.objects.filter(
            status=EmailStatus.SENDING, claimed_until__lte=now
        ).order_by("next_attempt_at")
        rows = list(
            abandoned.select_for_update(skip_locked=True).values_list(*ClaimedEmail.FIELDS)[
                :batch_size
            ]
        )
        if len(rows) < batch_size:
            queued = OutboundEmail.objects.filter(
                status=EmailStatus.QUEUED, next_attempt_at__lte=now
            ).order_by("next_attempt_at")
            rows += queued.select_for_update(skip_locked=True).values_list(*ClaimedEmail.FIELDS)[
                : batch_size - len(rows)
            ]
        claim.emails = [ClaimedEmail(row) for row in rows]
        if claim.emails:
            OutboundEmail.objects.filter(pk__in=[row.pk for row in claim.emails]).update(
                status=EmailStatus.SENDING, claimed_until=claim.until
            )
    return claim


def _rows(emails: list[ClaimedEmail]) -> dict:
    """A filter for these rows: by id, or by message id for the rows a bulk job
    inserted and sends from memory (it never reads their ids back)."""
    if all(email.pk is not None for email in emails):
        return {"pk__in": [email.pk for email in emails]}
    return {"message_id__in": [email.message_id for email in emails]}


def _still_claimed(email: ClaimedEmail, claim: Claim):
    return OutboundEmail.objects.filter(
        **_rows([email]), status=EmailStatus.SENDING, claimed_until=claim.until
    )


def _release(emails: list[ClaimedEmail], claim: Claim) -> None:
    """Give unsent rows back, due at once, without counting an attempt."""
    if emails:
        OutboundEmail.objects.filter(
            **_rows(emails), status=EmailStatus.SENDING, claimed_until=claim.until
        ).update(status=EmailStatus.QUEUED, claimed_until=None)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: base, 2×base, 4×base … capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def _build_message(email: ClaimedEmail | OutboundEmail, connection) -> EmailMultiAlternatives:
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
    email: ClaimedEmail, error: Exception, claim: Claim, report: DeliveryReport
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
    logger.warning(
        "E-mail %s to %s not delivered: %s", email.pk or email.message_id, email.to_email, error
    )
    if not updated:  # another worker took the row over; its outcome stands
        return
    if final:
        report.failed += 1
    else:
        report.retried += 1


class _SentRows:
    """Rows the server accepted, marked sent together.

    One UPDATE per message was a third of the worker's time; now one per
    ``OUTBOX_MARK_SENT_EVERY`` messages (or ``OUTBOX_MARK_SENT_SECONDS``, or at
    the batch's end). The price: a worker killed between the server's "250"
    and the next flush sends those messages again (at least once, never lost).

    On SQLite another writer (a bulk job inserting its next chunk) may hold
    the one write lock: waiting for it stalled sending for up to the job's
    whole chunk each time. There a marking finds the lock taken, sending goes
    on and the marking is tried again ``OUTBOX_MARK_SENT_EVERY`` messages
    later; only with ``OUTBOX_MARK_SENT_MAX_PENDING`` rows unmarked (and at
    the batch's end) does it wait. A worker killed then sends at most that
    many again.
    """

    def __init__(self, report: DeliveryReport) -> None:
        self.report = report
        self.pending: list[int] = []
        self.flushed_at = time.monotonic()
        self.next_try = settings.OUTBOX_MARK_SENT_EVERY

    def add(self, email: ClaimedEmail) -> None:
        self.pending.append(email.pk)
        self.report.sent += 1
        if (
            len(self.pending) >= self.next_try
            or time.monotonic() - self.flushed_at >= settings.OUTBOX_MARK_SENT_SECONDS
        ):
            if len(self.pending) >= settings.OUTBOX_MARK_SENT_MAX_PENDING:
                self.flush()
            else:
                self._flush_unless_busy()

    def _flush_unless_busy(self) -> None:
        connection = connections[router.db_for_write(OutboundEmail)]
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            self.flush()
            return
        try:
            with _sqlite_without_waiting(connection):
                self.flush()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            self.flushed_at = time.monotonic()
            self.next_try = len(self.pending) + settings.OUTBOX_MARK_SENT_EVERY

    def flush(self) -> None:
        if self.pending:
            # Not filtered on the claim: the server took the messages, whoever
            # owns the rows now, and a row marked sent is never sent again.
            with transaction.atomic():
                _commit_without_flush()
                OutboundEmail.objects.filter(pk__in=self.pending).update(
                    status=EmailStatus.SENT,
                    attempts=F("attempts") + 1,
                    sent_at=timezone.now(),
                    claimed_until=None,
                    last_error="",
                    secret_values={},
                )
            self.pending = []
        self.flushed_at = time.monotonic()
        self.next_try = settings.OUTBOX_MARK_SENT_EVERY


def _commit_without_flush() -> None:
    """On PostgreSQL, let this transaction's commit return before its WAL
    reaches the disk (``synchronous_commit = off``, for this transaction only).

    Claims and markings were a commit (an fsync) every 50 messages each. If
    the database server itself crashes within the next fraction of a second,
    the claim or the marking is lost as if it had not been made: the rows are
    sent again (at least once, never lost). A worker crash loses nothing more.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


@contextmanager
def _sqlite_without_waiting(connection):
    """A statement that finds SQLite's write lock taken fails at once
    ("database is locked") instead of waiting for it."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (timeout,) = cursor.fetchone()
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _raw_smtp(connection) -> smtplib.SMTP | None:
    """The open smtplib session of Django's own SMTP backend (not a subclass,
    which may change what is sent), else None."""
    if type(connection) is SMTPEmailBackend:
        return connection.connection
    return None


def _fast_bytes(email: ClaimedEmail, session: wire.Session | None) -> bytes | None:
    """The message as ``wire`` composes it, or None for Django's composer."""
    return wire.message_bytes(email) if session is not None else None


def _send_claimed(
    claim: Claim, connection, report: DeliveryReport, *, sent: "_SentRows | None" = None
) -> bool:
    """Send a claimed batch over one open connection; False if the connection
    broke (it must not be used again).

    With Django's own SMTP backend the messages go through ``wire.Session``:
    each message's content in one write with the next one's commands. Rows
    left unsent (the claim is running out, or the connection broke) are
    released for the next batch, which opens a fresh connection. ``sent``
    records the rows the server accepted (``_SentRows`` by default).
    """
    smtp = _raw_smtp(connection)
    session = wire.Session(smtp) if smtp is not None else None
    sent = sent if sent is not None else _SentRows(report)
    emails = claim.emails
    data = _fast_bytes(emails[0], session) if emails else None
    committed = False  # this message's commands went ahead with the one before
    try:
        for position, email in enumerate(emails):
            if position and not committed and timezone.now() >= claim.last_start:
                sent.flush()
                _release(emails[position:], claim)
                return True
            following = emails[position + 1] if position + 1 < len(emails) else None
            following_data = _fast_bytes(following, session) if following is not None else None
            committed = following_data is not None and timezone.now() < claim.last_start
            try:
                if data is None:
                    _build_message(email, connection).send()
                else:
                    session.send(
                        sender=wire.envelope_sender(email),
                        recipient=email.to_email,
                        data=data,
                        then=(wire.envelope_sender(following), following.to_email)
                        if committed
                        else None,
                    )
            except Exception as error:
                sent.flush()
                _record_failure(email, error, claim, report)
                if _connection_lost(error):
                    _release(emails[position + 1 :], claim)
                    return False
                continue
            finally:
                data = following_data
            sent.add(email)
    finally:
        if session is not None:
            session.abandon()
        sent.flush()
    return True


def outbox_deliver_due(*, batch_size: int | None = None, max_batches: int = 50) -> DeliveryReport:
    """Deliver every due e-mail, one SMTP connection per batch.

    Rows are marked sent a few at a time right after the server accepted them
    (``_SentRows``), so a worker killed mid-batch re-sends at most those few.
    Several workers deliver in parallel: each claims its own batches. (A bulk
    job sends its own e-mails: see ``OutboxSender``.)
    """
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    report = DeliveryReport()
    batches = 0
    while batches < max_batches:
        claim = _claim_batch(now=timezone.now(), batch_size=batch_size)
        if not claim.emails:  # nothing due, or another worker was quicker
            break
        batches += 1
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


# -- Many e-mails from one template (bulk actions) -------------------------------
#
# Rendering the invitation templates took ~2.5 ms a message: 25 s of a
# 10,000-customer "Enable portal". email_queue_many renders the templates once
# per call with a marker standing for each recipient's value, then fills in
# every recipient's values, escaped where Django would have escaped them.


@dataclass(frozen=True)
class EmailDraft:
    """One recipient of ``email_queue_many``.

    ``context`` holds what differs per recipient: strings, or dicts of strings
    (``{"contact": {"first_name": "Ada"}}``), the same keys for every draft.
    """

    to_email: str
    to_name: str = ""
    context: dict = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


_FIELD_MARK = re.compile(r"PORTICO-FIELD-(\d+)-(TEXT|HTML)-PORTICO-FIELD")
# Values a template that only prints its fields renders like any other; one
# that tests or transforms them ({% if %}, |default, |upper…) does not.
_PROBES = ("", '<b>Tom & Jerry\'s "Café" 東京</b>')


class _FieldMark(str):
    """Stands for one recipient's value while the template is rendered once.

    Where Django escapes a value it calls ``__html__``: the HTML form of the
    mark tells the filling-in to escape the recipient's value there too.
    """

    def __new__(cls, number: int) -> "_FieldMark":
        mark = super().__new__(cls, f"PORTICO-FIELD-{number}-TEXT-PORTICO-FIELD")
        mark.html = f"PORTICO-FIELD-{number}-HTML-PORTICO-FIELD"
        return mark

    def __html__(self) -> str:
        return self.html


def _field_paths(context: dict, prefix: tuple = ()) -> list[tuple]:
    paths = []
    for key in sorted(context):
        value = context[key]
        if isinstance(value, dict):
            paths += _field_paths(value, (*prefix, key))
        elif isinstance(value, str):
            paths.append((*prefix, key))
        else:
            raise TypeError(f"per-recipient value {'.'.join((*prefix, key))} must be a str")
    return paths


def _field_values(context: dict, paths: list[tuple]) -> list[str]:
    values = []
    for path in paths:
        value = context
        for key in path:
            value = value[key]
        values.append(value)
    return values


def _field_context(paths: list[tuple], values: list) -> dict:
    context: dict = {}
    for path, value in zip(paths, values, strict=True):
        node = context
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return context


def _field_shape(context: dict) -> dict:
    """The keys of a per-recipient context, nested: ``{"contact": {"first_name": None}}``."""
    return {
        key: _field_shape(value) if isinstance(value, dict) else None
        for key, value in context.items()
    }


def _has_shape(context: dict, shape: dict) -> bool:
    """Whether ``context`` has exactly the keys of ``shape`` and strings for leaves
    (what comparing ``_field_paths`` checks, without building them per draft)."""
    if context.keys() != shape.keys():
        return False
    for key, inner in shape.items():
        value = context[key]
        if inner is None:
            if type(value) is not str:
                return False
        elif not isinstance(value, dict) or not _has_shape(value, inner):
            return False
    return True


class _Marked(NamedTuple):
    """One rendered part split at its marks: ``literals[0]``, value, ``literals[1]``…"""

    literals: list[str]
    slots: list[tuple[int, bool]]  # (field number, escape for HTML)

    @classmethod
    def split(cls, rendered: str) -> "_Marked":
        pieces = _FIELD_MARK.split(rendered)
        return cls(
            literals=pieces[::3],
            slots=[
                (int(number), kind == "HTML")
                for number, kind in zip(pieces[1::3], pieces[2::3], strict=True)
            ],
        )

    def fill(self, values: list[str], escaped: list[str]) -> str:
        literals = self.literals
        out = [literals[0]]
        for (number, escape_html), literal in zip(self.slots, literals[1:], strict=False):
            out.append(escaped[number] if escape_html else values[number])
            out.append(literal)
        return "".join(out)


def _fill_split(marked: tuple[_Marked, ...], values: list[str]) -> tuple[str, str, str]:
    # html.escape is what django.utils.html.escape applies (without SafeString)
    escaped = [html.escape(value) for value in values]
    subject, text, body_html = (part.fill(values, escaped) for part in marked)
    return " ".join(subject.split()), text, body_html


def _fill_in(rendered: tuple[str, str, str], values: list[str]) -> tuple[str, str, str]:
    return _fill_split(tuple(_Marked.split(part) for part in rendered), values)


class EmailBatch:
    """Many e-mails from one template, in one language, with one shared
    context: the templates are rendered once, with a mark for each
    per-recipient value, and each message fills in its recipient's values.

    Before the first use, two probe recipients are rendered both ways: a
    template that does more than print a per-recipient value (an ``{% if %}``
    on it, a filter) renders them differently, and the batch then renders
    each recipient in full (correct, only slower). A bulk job keeps one batch
    per language for all its chunks.
    """

    def __init__(
        self,
        *,
        organization: Organization | None,
        kind: str,
        template: str,
        language: str,
        context: dict,
        reply_to: str = "",
    ) -> None:
        self.organization = organization
        self.kind = kind
        self.template = template
        self.language = language
        self.context = {"organization": organization, "site_url": settings.SITE_URL, **context}
        self.reply_to = reply_to or (organization.email if organization else "")
        self.from_email = _from_address(organization)
        self._paths: list[tuple] | None = None
        self._shape: dict = {}
        self._secret_names: list[str] = []
        self._marked: tuple[_Marked, _Marked, _Marked] | None = None  # None: render in full

    def _render(self, fields: dict) -> tuple[str, str, str]:
        placeholders = {name: secret_placeholder(name) for name in self._secret_names}
        return render_email(
            template=self.template,
            context={**self.context, **placeholders, **fields},
            language=self.language,
        )

    def _prepare(self, first: EmailDraft) -> None:
        self._paths = _field_paths(first.context)
        self._shape = _field_shape(first.context)
        self._secret_names = sorted(first.secrets)
        marked = self._render(
            _field_context(self._paths, [_FieldMark(n) for n in range(len(self._paths))])
        )
        self._marked = tuple(_Marked.split(part) for part in marked)
        for probe in _PROBES:
            values = [probe] * len(self._paths)
            if _fill_split(self._marked, values) != self._render(
                _field_context(self._paths, values)
            ):
                logger.warning(
                    "%s transforms per-recipient values: rendered one by one", self.template
                )
                self._marked = None
                return

    def render(self, draft: EmailDraft) -> tuple[str, str, str]:
        """Subject, text and HTML of ``draft``'s message (secrets as placeholders)."""
        if self._paths is None:
            self._prepare(draft)
        if not _has_shape(draft.context, self._shape) and (
            _field_paths(draft.context) != self._paths  # raises on a value that is no str
        ):
            raise ValueError("every draft's context must have the same keys")
        if len(draft.secrets) != len(self._secret_names) or sorted(draft.secrets) != (
            self._secret_names
        ):
            raise ValueError("every draft must have the same secrets")
        if self._marked is None:
            return self._render(draft.context)
        return _fill_split(self._marked, _field_values(draft.context, self._paths))

    def queue(self, drafts: list[EmailDraft], *, claim: Claim | None = None) -> int:
        """One outbox row per draft, all inserted at once (``rows_insert``),
        and one delivery task. Call it inside the transaction of the change.
        Returns the number of e-mails queued. ``claim``: see ``email_batches_queue``."""
        return email_batches_queue([(self, drafts)], claim=claim)

    def _rows(self, drafts: list[EmailDraft], claim: Claim | None) -> list[dict]:
        rows = []
        organization_id = self.organization.pk if self.organization else None
        kind, language, from_email, reply_to = (
            self.kind,
            self.language,
            self.from_email,
            self.reply_to,
        )
        for draft in drafts:
            subject, text, html = self.render(draft)
            message_id = _message_id()
            rows.append(
                {
                    "organization_id": organization_id,
                    "kind": kind,
                    "language": language,
                    "from_email": from_email,
                    "reply_to": reply_to,
                    "to_email": draft.to_email,
                    "to_name": draft.to_name,
                    "subject": subject,
                    "body_text": text,
                    "body_html": html,
                    "message_id": message_id,
                    "secret_values": draft.secrets,
                }
            )
            if claim is not None:
                claim.emails.append(
                    ClaimedEmail(
                        (
                            None,  # never read back: the message id names the row
                            draft.to_email,
                            draft.to_name,
                            from_email,
                            reply_to,
                            subject,
                            text,
                            html,
                            message_id,
                            draft.secrets,
                            0,
                        )
                    )
                )
        return rows


def email_batches_queue(
    batches: list[tuple[EmailBatch, list[EmailDraft]]], *, claim: Claim | None = None
) -> int:
    """``EmailBatch.queue`` for several batches at once (a bulk action's
    languages): one insert for all their rows, one delivery task.

    With ``claim`` (from ``OutboxSender.claim``) the rows are inserted
    already claimed, and ``claim.emails`` gets what sending them needs: the
    sender sends them from memory once the transaction commits. The delivery
    task then waits for the claim to run out, for the rows the sender never
    got to (its worker killed between the commit and the send): those are
    sent by the normal delivery, at least once.
    """
    rows = []
    for batch, drafts in batches:
        rows += batch._rows(drafts, claim)
    if not rows:
        return 0
    shared = {
        "status": EmailStatus.QUEUED if claim is None else EmailStatus.SENDING,
        "attempts": 0,
        "next_attempt_at": timezone.now(),
        "claimed_until": None if claim is None else claim.until,
        "last_error": "",
        "sent_at": None,
    }
    with transaction.atomic(savepoint=False):
        rows_insert(model=OutboundEmail, rows=rows, shared=shared)
        if claim is None:
            schedule_delivery()
        elif not claim.backstop:
            from portico.mail.tasks import enqueue_delivery

            enqueue_delivery(when=claim.until)
            claim.backstop = True
    return len(rows)


def email_queue_many(
    *,
    organization: Organization | None,
    kind: str,
    template: str,
    context: dict,
    language: str,
    drafts: list[EmailDraft],
    reply_to: str = "",
) -> int:
    """``email_queue`` for many recipients of one template in one language
    (see ``EmailBatch``); ``context`` is shared, each draft brings its own.
    Returns the number of e-mails queued."""
    batch = EmailBatch(
        organization=organization,
        kind=kind,
        template=template,
        language=language,
        context=context,
        reply_to=reply_to,
    )
    return batch.queue(drafts)


# -- A bulk job sends what it queues ----------------------------------------------
#
# A bulk job used to insert its e-mails and leave them to a delivery run, which
# claimed them back from the database (a read and an UPDATE per batch), sent
# them and marked them sent: two processes handing each row over through the
# database. Now the job inserts its rows already claimed, commits, and sends
# exactly those messages from memory; one UPDATE marks them sent.


class _SentCounted(_SentRows):
    """The rows the server accepted, only counted: ``OutboxSender`` marks
    the whole claim sent at once afterwards."""

    def add(self, email: ClaimedEmail) -> None:
        self.report.sent += 1

    def flush(self) -> None:
        pass


class OutboxSender:
    """Sends the e-mails a bulk job queues, right after each of its
    transactions commits, over one SMTP connection kept for the whole job.

    For each transaction: ``claim()`` before it, ``EmailBatch.queue(drafts,
    claim=claim)`` and ``mark_sent()`` inside it, ``send(claim)`` after its
    commit; ``close()`` at the end. The rows are the outbox's like any other,
    so nothing is lost between the steps:

    - A worker killed after the commit leaves the rows claimed; the claim runs
      out (``OUTBOX_CLAIM_SECONDS``) and the delivery run waiting for it sends
      them (those the server had already taken, again: at least once).
    - A refused recipient, a rejected message, a dropped connection: the row
      gets the normal delivery's treatment (``_record_failure``: an attempt
      counted, a retry later, failed after ``OUTBOX_MAX_ATTEMPTS``); rows
      not yet sent are released to the normal delivery, and a delivery run is
      enqueued for them.
    - A server that cannot be reached: the claim's rows back off as the normal
      delivery's would, and the sender stops (``claim()`` gives None): the
      job's later e-mails are queued for the normal delivery.

    The rows the server accepted are marked sent by their claim, one UPDATE
    per claim. On PostgreSQL right after the send, in a transaction of its
    own (committed without waiting for the disk), which runs while another
    run of the job writes its chunk. On SQLite, one writer at a time, in the
    job's next transaction (``mark_sent()``; its own transaction cost another
    wait for the write lock and a commit) or at ``close()``. A run killed
    before that sends the claim's messages again once it runs out: at most
    one transaction's e-mails, at least once, never lost.
    """

    def __init__(self) -> None:
        self.connection = None
        self.active = True
        self.report = DeliveryReport()
        self._unmarked: list[Claim] = []

    def claim(self) -> Claim | None:
        """A claim for the rows the next transaction queues, or None once the
        server could not be reached (queue them for the normal delivery)."""
        return Claim.starting(timezone.now()) if self.active else None

    def send(self, claim: Claim | None) -> DeliveryReport:
        """Send the claim's e-mails (queued by a committed transaction)."""
        report = DeliveryReport()
        if claim is None or not claim.emails:
            return report
        try:
            if self.connection is None:
                self.connection = self._open(claim, report)
            if self.connection is not None:
                usable = _send_claimed(claim, self.connection, report, sent=_SentCounted(report))
                if report.sent:
                    self._unmarked.append(claim)
                    if transaction.get_connection().vendor != "sqlite":
                        self.mark_sent()
                if not usable:
                    self._close()
        finally:
            self.report.sent += report.sent
            self.report.retried += report.retried
            self.report.failed += report.failed
        if report.sent + report.failed < len(claim.emails):
            # retried or released rows: the normal delivery takes them on
            from portico.mail.tasks import enqueue_delivery

            next_due = outbox_next_due_at()
            if next_due is not None:
                enqueue_delivery(when=next_due)
        return report

    def mark_sent(self) -> None:
        """Mark sent the rows sent so far, in the caller's transaction if there
        is one (else in one of its own, committed without waiting for the disk
        on PostgreSQL, as ``_SentRows`` does)."""
        if not self._unmarked:
            return
        rows = OutboundEmail.objects.filter(
            status=EmailStatus.SENDING, claimed_until__in=[claim.until for claim in self._unmarked]
        )
        values = {
            "status": EmailStatus.SENT,
            "attempts": F("attempts") + 1,
            "sent_at": timezone.now(),
            "claimed_until": None,
            "last_error": "",
            "secret_values": {},
        }
        if transaction.get_connection().in_atomic_block:
            rows.update(**values)
        else:
            with transaction.atomic():
                _commit_without_flush()
                rows.update(**values)
        self._unmarked = []

    def _open(self, claim: Claim, report: DeliveryReport):
        try:
            connection = get_connection(fail_silently=False)
            connection.open()
        except Exception as error:  # server down or misconfigured: as outbox_deliver_due
            for email in claim.emails:
                _record_failure(email, error, claim, report)
            self.active = False
            return None
        return connection

    def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # closing a broken connection must not stop the job
                logger.exception("Closing the e-mail connection failed")

    def close(self) -> None:
        """At the job's end (or its failure): mark what was sent, disconnect."""
        try:
            self.mark_sent()
        finally:
            self._close()
