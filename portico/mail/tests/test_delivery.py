"""The outbox delivered through the real path: ``manage.py db_worker --batch``,
the ``deliver_outbox`` task, Django's SMTP backend and an SMTP server on a
socket (aiosmtpd). Tests commit (``transaction=True``) because the worker reads
what a committed transaction left, like in production."""

from datetime import timedelta
from email.utils import formataddr

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portico.accounts.tests.factories import OrganizationFactory
from portico.mail import services
from portico.mail.models import EmailStatus, OutboundEmail
from portico.mail.tasks import deliver_outbox

pytestmark = pytest.mark.django_db(transaction=True)


def queue_notices(*, organization, template: str, count: int) -> list[OutboundEmail]:
    """``count`` e-mails queued in one transaction, as a bulk action would."""
    with transaction.atomic():
        return [
            services.email_queue(
                organization=organization,
                kind="tests.notice",
                to_email=f"customer{number}@example.com",
                to_name=f"Customer {number}",
                template=template,
                context={"name": f"Customer {number}", "number": number},
                language="en",
            )
            for number in range(count)
        ]


def delivery_tasks():
    return DBTaskResult.objects.filter(task_path=deliver_outbox.module_path)


def time_passes(*, seconds: float) -> None:
    """Move the outbox and the task queue ``seconds`` into the future.

    Instead of freezing the clock (the worker and the SMTP thread read it),
    every stored moment moves back by ``seconds``.
    """
    shift = timedelta(seconds=seconds)
    for email in OutboundEmail.objects.all():
        email.next_attempt_at -= shift
        if email.claimed_until is not None:
            email.claimed_until -= shift
        email.save(update_fields=["next_attempt_at", "claimed_until"])
    for task in delivery_tasks().filter(status="READY"):
        task.run_after -= shift
        task.save(update_fields=["run_after"])


def received_ids(smtp_server) -> list[str]:
    return sorted(message.message_id for message in smtp_server.received)


def test_emails_queued_in_one_transaction_are_delivered_by_the_worker_over_one_connection(
    organization, notice_template, smtp_server, run_db_worker
):
    # Given three e-mails queued in one transaction
    emails = queue_notices(organization=organization, template=notice_template, count=3)
    assert delivery_tasks().count() == 1
    assert smtp_server.received == []  # nothing is sent before the worker runs

    # When the worker runs
    run_db_worker()

    # Then each arrived once, over a single SMTP connection
    assert smtp_server.sessions == 1
    assert received_ids(smtp_server) == sorted(email.message_id for email in emails)
    by_id = {message.message_id: message for message in smtp_server.received}
    for number, email in enumerate(emails):
        message = by_id[email.message_id]
        assert message.rcpt_tos == (f"customer{number}@example.com",)
        assert message.subject == f"Notice for Customer {number}"
        assert message.message["From"] == formataddr((organization.name, "no-reply@portico.test"))
        assert message.message["To"] == f"Customer {number} <customer{number}@example.com>"
        assert message.message["Reply-To"] == organization.email
        assert f"This is notice {number}." in message.body("text/plain")
        assert f"This is notice <strong>{number}</strong>." in message.body("text/html")
    # and every row is marked sent after one attempt
    for email in OutboundEmail.objects.all():
        assert email.status == EmailStatus.SENT
        assert email.attempts == 1
        assert email.sent_at is not None
        assert email.claimed_until is None
        assert email.last_error == ""
    task = delivery_tasks().get()
    assert task.status == "SUCCESSFUL"
    assert task.return_value == {"sent": 3, "retried": 0, "failed": 0}


def test_a_second_worker_run_sends_nothing_again(
    organization, notice_template, smtp_server, run_db_worker
):
    # Given e-mails the worker has delivered
    queue_notices(organization=organization, template=notice_template, count=2)
    run_db_worker()

    # When the same task runs again (a retried task) and the worker runs again
    deliver_outbox.enqueue()
    run_db_worker()

    # Then nothing is sent twice
    assert len(smtp_server.received) == 2
    assert smtp_server.sessions == 1


def test_each_batch_uses_its_own_single_connection(
    organization, notice_template, smtp_server, run_db_worker, settings
):
    # Given five e-mails and batches of two
    settings.OUTBOX_BATCH_SIZE = 2
    queue_notices(organization=organization, template=notice_template, count=5)

    # When the worker runs
    run_db_worker()

    # Then three batches went over three connections
    assert smtp_server.sessions == 3
    assert len(smtp_server.received) == 5
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def test_emails_wait_while_the_server_is_down_and_go_out_once_it_is_back(
    organization, notice_template, smtp_server, run_db_worker, settings
):
    # Given the SMTP server is down when three e-mails are queued
    smtp_server.stop()
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker runs
    before = timezone.now()
    run_db_worker()

    # Then every row backs off and stays queued with the error
    for email in OutboundEmail.objects.all():
        assert email.status == EmailStatus.QUEUED
        assert email.attempts == 1
        assert "ConnectionRefusedError" in email.last_error
        assert email.next_attempt_at >= before + timedelta(
            seconds=settings.OUTBOX_RETRY_BASE_SECONDS
        )
        assert email.claimed_until is None
    # and a follow-up run waits for the first retry
    first_retry = min(OutboundEmail.objects.values_list("next_attempt_at", flat=True))
    follow_up = delivery_tasks().get(status="READY")
    assert follow_up.run_after == first_retry

    # When the server is back, before the retry is due
    smtp_server.start()
    run_db_worker()
    # Then nothing is sent early
    assert smtp_server.received == []

    # When the retry is due and the worker runs
    time_passes(seconds=settings.OUTBOX_RETRY_BASE_SECONDS)
    run_db_worker()
    run_db_worker()

    # Then each e-mail arrived exactly once, at the second attempt
    assert received_ids(smtp_server) == sorted(email.message_id for email in emails)
    for email in OutboundEmail.objects.all():
        assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    assert not delivery_tasks().filter(status="READY").exists()


def test_a_new_worker_delivers_what_a_killed_worker_had_claimed(
    organization, notice_template, smtp_server, run_db_worker, settings
):
    # Given a worker that was killed mid-batch: its task stays RUNNING and two
    # rows stay claimed with a claim that has run out, nothing sent
    stale = queue_notices(organization=organization, template=notice_template, count=2)
    delivery_tasks().update(status="RUNNING", started_at=timezone.now())
    OutboundEmail.objects.update(
        status=EmailStatus.SENDING, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    # and a row claimed by a worker that is alive (claim still running)
    live_until = timezone.now() + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    live = queue_notices(organization=organization, template=notice_template, count=1)[0]
    delivery_tasks().filter(status="READY").delete()
    OutboundEmail.objects.filter(pk=live.pk).update(
        status=EmailStatus.SENDING, claimed_until=live_until
    )
    assert not DBTaskResult.objects.ready().exists()

    # When a new worker starts (db_worker → recover_undelivered)
    run_db_worker()

    # Then the dead worker's rows are delivered
    assert received_ids(smtp_server) == sorted(email.message_id for email in stale)
    for email in stale:
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.SENT, 1)
    # and the live worker's row is left alone, with a run for when its claim ends
    live.refresh_from_db()
    assert (live.status, live.attempts, live.claimed_until) == (EmailStatus.SENDING, 0, live_until)
    assert delivery_tasks().get(status="READY").run_after == live_until


def test_a_worker_start_does_not_add_a_run_when_one_is_waiting(
    organization, notice_template, smtp_server, run_db_worker
):
    # Given a retry that waits on a scheduled run
    smtp_server.stop()
    queue_notices(organization=organization, template=notice_template, count=1)
    run_db_worker()
    assert delivery_tasks().filter(status="READY").count() == 1

    # When workers start again
    run_db_worker()
    run_db_worker()

    # Then there is still one scheduled run
    assert delivery_tasks().filter(status="READY").count() == 1


@pytest.mark.parametrize(
    ("max_attempts", "expected_status", "report"),
    [
        (8, EmailStatus.QUEUED, {"sent": 2, "retried": 1, "failed": 0}),
        (1, EmailStatus.FAILED, {"sent": 2, "retried": 0, "failed": 1}),
    ],
)
def test_a_refused_recipient_backs_off_while_the_rest_of_the_batch_is_sent(
    organization,
    notice_template,
    smtp_server,
    run_db_worker,
    settings,
    max_attempts,
    expected_status,
    report,
):
    # Given a batch where the server refuses one recipient
    settings.OUTBOX_MAX_ATTEMPTS = max_attempts
    smtp_server.refuse_recipient("customer1@example.com", "550 5.1.1 No such mailbox")
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker runs
    run_db_worker()

    # Then the others are sent over the same connection
    assert smtp_server.sessions == 1
    assert received_ids(smtp_server) == sorted([emails[0].message_id, emails[2].message_id])
    # and the refused one backs off (or fails when out of attempts)
    refused = OutboundEmail.objects.get(pk=emails[1].pk)
    assert refused.status == expected_status
    assert refused.attempts == 1
    assert "550" in refused.last_error and "No such mailbox" in refused.last_error
    assert refused.next_attempt_at > timezone.now()
    assert delivery_tasks().get(status="SUCCESSFUL").return_value == report
    scheduled = delivery_tasks().filter(status="READY")
    assert scheduled.count() == (1 if expected_status == EmailStatus.QUEUED else 0)


def test_a_dropped_connection_costs_one_attempt_and_the_rest_go_over_a_new_one(
    organization, notice_template, smtp_server, run_db_worker
):
    # Given the server closes the session at the first message ("421")
    smtp_server.reply_to_next_data("421 4.3.2 Service shutting down")
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker runs
    run_db_worker()

    # Then the first one backs off
    first = OutboundEmail.objects.get(pk=emails[0].pk)
    assert (first.status, first.attempts) == (EmailStatus.QUEUED, 1)
    assert "421" in first.last_error
    # and the others were sent over a new connection, not counted as failures
    assert received_ids(smtp_server) == sorted([emails[1].message_id, emails[2].message_id])
    assert smtp_server.sessions == 2
    for email in OutboundEmail.objects.exclude(pk=first.pk):
        assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 1, "")


def test_a_slow_batch_stops_before_its_claim_runs_out_and_the_rest_is_claimed_again(
    organization, notice_template, smtp_server, run_db_worker, settings
):
    # Given a one-second claim and a server that takes longer than half of it
    # for the first message
    settings.OUTBOX_CLAIM_SECONDS = 1
    smtp_server.delay_next_data(0.7)
    emails = queue_notices(organization=organization, template=notice_template, count=3)

    # When the worker runs
    run_db_worker()

    # Then it started no message late in the claim: the rest went in a new batch
    assert smtp_server.sessions == 2
    assert received_ids(smtp_server) == sorted(email.message_id for email in emails)
    for email in OutboundEmail.objects.all():
        assert (email.status, email.attempts) == (EmailStatus.SENT, 1)


def test_a_misconfigured_backend_backs_off_with_the_error_shown(
    organization, notice_template, run_db_worker, settings
):
    # Given an e-mail backend that cannot be loaded
    settings.EMAIL_BACKEND = "portico.mail.tests.no_such_module.EmailBackend"
    queue_notices(organization=organization, template=notice_template, count=1)

    # When the worker runs
    run_db_worker()

    # Then the e-mail backs off with the reason, instead of staying claimed
    email = OutboundEmail.objects.get()
    assert (email.status, email.attempts, email.claimed_until) == (EmailStatus.QUEUED, 1, None)
    assert "no_such_module" in email.last_error
    assert delivery_tasks().filter(status="READY").count() == 1


def test_a_run_that_crashes_still_leaves_a_later_run(
    organization, notice_template, smtp_server, run_db_worker, monkeypatch, settings
):
    # Given a delivery run that crashes (as when the database goes away)
    queue_notices(organization=organization, template=notice_template, count=1)

    def crash(**kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(services, "outbox_deliver_due", crash)

    # When the worker runs it
    run_db_worker()

    # Then the run failed, and another waits, not at once but after a back-off
    assert delivery_tasks().get(status="FAILED").exception_class_path.endswith("ConnectionError")
    follow_up = delivery_tasks().get(status="READY")
    assert follow_up.run_after >= timezone.now() + timedelta(
        seconds=settings.OUTBOX_RETRY_BASE_SECONDS - 5
    )

    # When delivery works again and the run is due
    monkeypatch.undo()
    time_passes(seconds=settings.OUTBOX_RETRY_BASE_SECONDS)
    run_db_worker()

    # Then the e-mail goes out
    assert len(smtp_server.received) == 1


def test_a_failed_email_is_sent_again_when_staff_retry_it(
    organization, notice_template, smtp_server, run_db_worker, settings, staff_client
):
    # Given an e-mail the server refused on every one of its attempts
    settings.OUTBOX_MAX_ATTEMPTS = 2
    smtp_server.refuse_recipient("customer0@example.com", "550 5.7.1 Relaying denied")
    email = queue_notices(organization=organization, template=notice_template, count=1)[0]
    run_db_worker()
    time_passes(seconds=settings.OUTBOX_RETRY_BASE_SECONDS)
    run_db_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 2)
    assert "Relaying denied" in email.last_error
    assert not delivery_tasks().filter(status="READY").exists()  # nothing more is tried

    # When the problem is fixed and staff press "Retry now"
    smtp_server.handler.refused_recipients.clear()
    response = staff_client.post(f"/app/settings/emails/{email.pk}/retry/", follow=True)

    # Then the e-mail is queued again, with a run to send it
    assert response.redirect_chain == [(f"/app/settings/emails/{email.pk}/", 302)]
    assert "The e-mail is queued to be sent again." in response.text
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED
    assert delivery_tasks().filter(status="READY").count() == 1
    # and the worker sends it
    run_db_worker()
    assert received_ids(smtp_server) == [email.message_id]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 3)

    # When staff retry the sent e-mail
    response = staff_client.post(f"/app/settings/emails/{email.pk}/retry/", follow=True)

    # Then it is refused with a message and nothing is sent again
    assert "Only a failed e-mail can be retried." in response.text
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert not delivery_tasks().filter(status="READY").exists()
    run_db_worker()
    assert len(smtp_server.received) == 1


def test_names_in_any_script_arrive_intact(notice_template, smtp_server, run_db_worker):
    # Given an organisation and a recipient whose names need quoting and encoding
    organization = OrganizationFactory(name='Café "Müller", GmbH — 東京')
    with transaction.atomic():
        email = services.email_queue(
            organization=organization,
            kind="tests.notice",
            to_email="jose@example.com",
            to_name="Núñez, José 山田",
            template=notice_template,
            context={"name": "Zoë 山田", "number": 1},
            language="ja",
        )

    # When the worker sends it
    run_db_worker()

    # Then the receiver reads the names and the subject as written
    (message,) = smtp_server.received
    assert message.message["From"].addresses[0].display_name == 'Café "Müller", GmbH — 東京'
    assert message.message["To"].addresses[0].display_name == "Núñez, José 山田"
    assert message.rcpt_tos == ("jose@example.com",)
    assert message.subject == "Notice for Zoë 山田"
    assert "Hello Zoë 山田," in message.body("text/plain")
    # and the outbox keeps them readable for staff, not RFC 2047-encoded
    email.refresh_from_db()
    assert email.from_email == '"Café \\"Müller\\", GmbH — 東京" <no-reply@portico.test>'
    assert email.recipient == '"Núñez, José 山田" <jose@example.com>'
