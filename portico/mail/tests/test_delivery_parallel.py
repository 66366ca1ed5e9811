"""Delivery in parallel and ahead: several runs at once never send a row twice,
a message whose commands went ahead but was never sent is not delivered, and
on SQLite a marking that finds the write lock taken does not stop sending."""

import smtplib
import threading

import pytest
from django.db import OperationalError, connections, transaction

from portico.mail import services, wire
from portico.mail.models import EmailStatus, OutboundEmail
from portico.mail.tests.factories import OutboundEmailFactory
from portico.mail.tests.test_delivery import queue_notices, received_ids
from portico.mail.tests.test_delivery_throughput import PipeliningHandler

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pipelining_server(smtp_server):
    smtp_server.stop()
    smtp_server.handler = PipeliningHandler()
    smtp_server.start()
    return smtp_server


def in_threads(count: int, work) -> list:
    """Run ``work()`` in ``count`` threads at once (own database connections)."""
    results: list = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(number: int) -> None:
        try:
            start.wait(timeout=10)
            results[number] = work()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_runs_in_parallel_send_every_row_once(
    organization, notice_template, pipelining_server, settings
):
    if connections["default"].vendor == "sqlite" and connections["default"].is_in_memory_db():
        pytest.skip("the in-memory test database locks tables instead of waiting for writers")
    # Given 40 e-mails and small batches
    settings.OUTBOX_MARK_SENT_EVERY = 3
    emails = queue_notices(organization=organization, template=notice_template, count=40)

    # When three runs deliver at once
    reports = in_threads(3, lambda: services.outbox_deliver_due(batch_size=4))

    # Then every e-mail arrived exactly once and is marked sent once
    assert received_ids(pipelining_server) == sorted(email.message_id for email in emails)
    assert sum(report.sent for report in reports) == 40
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {(EmailStatus.SENT, 1)}


def test_commands_sent_ahead_for_a_message_never_sent_deliver_nothing(pipelining_server):
    # Given a session that sent the second message's commands with the first
    smtp = smtplib.SMTP(pipelining_server.host, pipelining_server.port)
    session = wire.Session(smtp)
    message = b"Subject: one\r\nMessage-ID: <one@portico.test>\r\n\r\nHello\r\n"
    session.send(
        sender="a@portico.test",
        recipient="one@example.com",
        data=message,
        then=("a@portico.test", "two@example.com"),
    )
    assert session.waiting

    # When the sender gives the second message up (its claim ran out)
    session.abandon()

    # Then the connection is closed and only the first message arrived
    assert not session.waiting
    assert [m.message_id for m in pipelining_server.received] == ["<one@portico.test>"]
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.noop()


def test_a_message_to_another_envelope_than_the_one_sent_ahead_is_refused(pipelining_server):
    smtp = smtplib.SMTP(pipelining_server.host, pipelining_server.port)
    session = wire.Session(smtp)
    data = b"Subject: one\r\n\r\nHello\r\n"
    session.send(
        sender="a@portico.test", recipient="one@example.com", data=data, then=("a@x.test", "b@x")
    )
    with pytest.raises(smtplib.SMTPServerDisconnected):
        session.send(sender="a@portico.test", recipient="other@example.com", data=data)
    assert len(pipelining_server.received) == 1


def test_on_sqlite_a_busy_database_does_not_stop_sending(
    organization, notice_template, smtp_server, settings, monkeypatch
):
    if connections["default"].vendor != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    # Given the outbox marked every 2 messages, waiting only with 6 unmarked,
    # and a write lock another writer holds for the first markings
    settings.OUTBOX_MARK_SENT_EVERY = 2
    settings.OUTBOX_MARK_SENT_SECONDS = 60
    settings.OUTBOX_MARK_SENT_MAX_PENDING = 6
    emails = queue_notices(organization=organization, template=notice_template, count=8)
    real_flush = services._SentRows.flush
    markings: list[int] = []

    def busy_flush(self):
        waits = connections["default"].cursor().execute("PRAGMA busy_timeout").fetchone()[0]
        if waits == 0 and len(markings) < 2:  # tried without waiting, the lock is taken
            markings.append(0)
            raise OperationalError("database is locked")
        if self.pending:
            markings.append(len(self.pending))
        real_flush(self)

    monkeypatch.setattr(services._SentRows, "flush", busy_flush)

    # When the worker delivers them
    report = services.outbox_deliver_due()

    # Then sending went on past the refused markings, which came later
    assert report.sent == 8
    assert markings == [0, 0, 6, 2]
    assert received_ids(smtp_server) == sorted(email.message_id for email in emails)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    with connections["default"].cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] > 0  # put back


def test_a_claim_reads_rows_without_building_models():
    # Given a due row with a private link
    row = OutboundEmailFactory(secret_values={"link": "https://x.test/?a=1&b=2"})
    # When it is claimed
    with transaction.atomic():
        (claimed,) = services._claim_batch(now=row.next_attempt_at, batch_size=5).emails
    # Then what sending reads is there, as the model gives it
    assert isinstance(claimed, services.ClaimedEmail)
    assert (claimed.pk, claimed.to_email, claimed.attempts) == (row.pk, row.to_email, 0)
    assert claimed.recipient == row.recipient
    text = "PORTICO-SECRET-link-PORTICO-SECRET"
    assert claimed.with_secrets(text, escape_html=True) == row.with_secrets(text, escape_html=True)
