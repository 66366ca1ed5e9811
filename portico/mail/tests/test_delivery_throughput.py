"""Delivery at bulk rates: sent rows marked in groups (at least once, never
lost), claims that stay cheap, the fast composer on the real SMTP path."""

import smtplib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico.core.testing.smtp import RecordingHandler
from portico.mail import services
from portico.mail.models import EmailStatus, OutboundEmail
from portico.mail.tests.factories import OutboundEmailFactory
from portico.mail.tests.test_delivery import queue_notices, received_ids, time_passes


def sent_updates(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if query["sql"].startswith("UPDATE") and "'sent'" in query["sql"]
    ]


@pytest.mark.django_db(transaction=True)
def test_sent_rows_are_marked_in_groups(
    organization, notice_template, smtp_server, run_db_worker, settings
):
    # Given five e-mails, marked sent two at a time
    settings.OUTBOX_MARK_SENT_EVERY = 2
    settings.OUTBOX_MARK_SENT_SECONDS = 60
    emails = queue_notices(organization=organization, template=notice_template, count=5)

    # When the worker delivers them
    with CaptureQueriesContext(connection) as queries:
        run_db_worker()

    # Then three UPDATEs marked them (2 + 2 + the batch's last one)
    assert len(sent_updates(queries.captured_queries)) == 3
    assert received_ids(smtp_server) == sorted(email.message_id for email in emails)
    for email in OutboundEmail.objects.all():
        assert (email.status, email.attempts, email.secret_values) == (EmailStatus.SENT, 1, {})
        assert email.sent_at is not None and email.claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_before_marking_sends_those_again_and_loses_nothing(
    organization, notice_template, smtp_server, run_db_worker, settings, monkeypatch
):
    # Given five e-mails marked sent two at a time, and a worker that dies
    # right before its second marking: the server has taken four messages,
    # the outbox knows of two
    settings.OUTBOX_MARK_SENT_EVERY = 2
    settings.OUTBOX_MARK_SENT_SECONDS = 60
    emails = queue_notices(organization=organization, template=notice_template, count=5)
    real_flush = services._SentRows.flush
    flushes = []

    def dying_flush(self):
        flushes.append(1)
        if len(flushes) == 2:
            raise SystemExit("killed")
        if len(flushes) < 2:
            real_flush(self)

    monkeypatch.setattr(services._SentRows, "flush", dying_flush)
    run_db_worker()
    assert len(smtp_server.received) == 4
    assert OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == 2

    # When its claim runs out and a new worker starts
    monkeypatch.setattr(services._SentRows, "flush", real_flush)
    time_passes(seconds=settings.OUTBOX_CLAIM_SECONDS)
    run_db_worker()

    # Then every e-mail arrived, the two unmarked ones twice (at least once)
    received = received_ids(smtp_server)
    assert sorted(set(received)) == sorted(email.message_id for email in emails)
    assert len(received) == 7
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db
def test_a_claim_takes_a_dead_workers_rows_first_then_the_queued_ones(settings):
    # Given queued rows and a row whose worker died (its claim ran out)
    now = timezone.now()
    queued = [
        OutboundEmailFactory(next_attempt_at=now - timedelta(minutes=minutes))
        for minutes in (3, 2, 1)
    ]
    abandoned = OutboundEmailFactory(
        status=EmailStatus.SENDING, claimed_until=now - timedelta(seconds=1), next_attempt_at=now
    )
    OutboundEmailFactory(next_attempt_at=now + timedelta(hours=1))  # not due
    OutboundEmailFactory(
        status=EmailStatus.SENDING, claimed_until=now + timedelta(minutes=1)
    )  # a live worker's

    # When a worker claims two rows, then more
    first = services._claim_batch(now=now, batch_size=2)
    second = services._claim_batch(now=now, batch_size=10)

    # Then the abandoned row comes first, then the queued ones, nothing else
    assert [email.pk for email in first.emails] == [abandoned.pk, queued[0].pk]
    assert {email.pk for email in second.emails} == {queued[1].pk, queued[2].pk}


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_and_djangos_composer_deliver_alike(organization, smtp_server, run_db_worker):
    # Given one e-mail the fast composer takes and one it leaves to Django's
    # (a line longer than SMTP allows)
    fast = OutboundEmailFactory(organization=organization, body_text="Hello,\n\nshort lines\n")
    slow = OutboundEmailFactory(organization=organization, body_text="x" * 1200 + "\n")
    services.schedule_delivery()

    # When the worker sends them over one connection
    run_db_worker()

    # Then both arrive whole
    assert smtp_server.sessions == 1
    by_id = {message.message_id: message for message in smtp_server.received}
    assert "short lines" in by_id[fast.message_id].body("text/plain")
    assert by_id[slow.message_id].body("text/plain").strip() == "x" * 1200
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


# -- PIPELINING (RFC 2920): MAIL, RCPT and DATA in one write -----------------------


class PipeliningHandler(RecordingHandler):
    """The test server, offering PIPELINING as Postfix does."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        responses = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


@pytest.fixture
def pipelining_server(smtp_server):
    smtp_server.stop()
    smtp_server.handler = PipeliningHandler()
    smtp_server.start()
    return smtp_server


@pytest.fixture
def writes(monkeypatch) -> list[bytes]:
    """Every write the SMTP client makes."""
    sent: list[bytes] = []
    real_send = smtplib.SMTP.send

    def send(self, data):
        sent.append(data.encode() if isinstance(data, str) else data)
        return real_send(self, data)

    monkeypatch.setattr(smtplib.SMTP, "send", send)
    return sent


def commands(n: int) -> bytes:
    return (
        b"MAIL FROM:<no-reply@portico.test>\r\n"
        + f"RCPT TO:<customer{n}@example.com>\r\n".encode()
        + b"DATA\r\n"
    )


@pytest.mark.django_db(transaction=True)
def test_with_pipelining_a_message_takes_one_write(
    organization, notice_template, pipelining_server, run_db_worker, writes
):
    # Given three e-mails and a server offering PIPELINING
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker sends them
    run_db_worker()

    # Then the first message's MAIL, RCPT and DATA went in one write, and each
    # message's content in one write with the next message's commands
    assert received_ids(pipelining_server) == sorted(email.message_id for email in emails)
    first = writes.index(commands(0))
    messages = writes[first + 1 : first + 4]
    assert [
        message.endswith(b"\r\n.\r\n" + commands(n)) for n, message in enumerate(messages[:2], 1)
    ] == [True, True]
    assert messages[2].endswith(b"\r\n.\r\n")
    assert [message.count(b"\r\n.\r\n") for message in messages] == [1, 1, 1]
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_with_pipelining_a_refused_recipient_backs_off_and_the_rest_go_out(
    organization, notice_template, pipelining_server, run_db_worker
):
    # Given a batch in which the server refuses one recipient
    pipelining_server.refuse_recipient("customer1@example.com", "550 5.1.1 No such mailbox")
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker sends them
    run_db_worker()

    # Then the others went over the same connection, the refused one backs off
    assert pipelining_server.sessions == 1
    assert received_ids(pipelining_server) == sorted([emails[0].message_id, emails[2].message_id])
    refused = OutboundEmail.objects.get(pk=emails[1].pk)
    assert (refused.status, refused.attempts) == (EmailStatus.QUEUED, 1)
    assert "550" in refused.last_error and "No such mailbox" in refused.last_error


@pytest.mark.django_db(transaction=True)
def test_with_pipelining_a_dropped_connection_costs_one_attempt(
    organization, notice_template, pipelining_server, run_db_worker
):
    # Given the server closes the session at the first message ("421")
    pipelining_server.reply_to_next_data("421 4.3.2 Service shutting down")
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker sends them
    run_db_worker()

    # Then the first backs off and the others went over a new connection
    first = OutboundEmail.objects.get(pk=emails[0].pk)
    assert (first.status, first.attempts) == (EmailStatus.QUEUED, 1)
    assert "421" in first.last_error
    assert received_ids(pipelining_server) == sorted([emails[1].message_id, emails[2].message_id])
    assert pipelining_server.sessions == 2
