import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portico.mail import services
from portico.mail.models import EmailStatus, OutboundEmail
from portico.mail.tasks import deliver_outbox
from portico.mail.tests.factories import OutboundEmailFactory


def queue_notice(*, organization, template: str, number: int = 0) -> OutboundEmail:
    return services.email_queue(
        organization=organization,
        kind="tests.notice",
        to_email=f"customer{number}@example.com",
        template=template,
        context={"name": "Ada", "number": number},
        language="en",
    )


def delivery_tasks():
    return DBTaskResult.objects.filter(task_path=deliver_outbox.module_path)


class Rollback(Exception):
    pass


# -- Queueing in the caller's transaction ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_neither_email_nor_task(organization, notice_template):
    # When e-mails are queued in a transaction that rolls back
    with pytest.raises(Rollback), transaction.atomic():
        queue_notice(organization=organization, template=notice_template, number=1)
        queue_notice(organization=organization, template=notice_template, number=2)
        raise Rollback

    # Then nothing is left behind
    assert OutboundEmail.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_one_transaction_enqueues_one_delivery_task(organization, notice_template):
    # When a transaction queues many e-mails, and another queues one more
    with transaction.atomic():
        for number in range(20):
            queue_notice(organization=organization, template=notice_template, number=number)
    with transaction.atomic():
        queue_notice(organization=organization, template=notice_template, number=99)

    # Then each transaction enqueued one task
    assert OutboundEmail.objects.count() == 21
    assert delivery_tasks().filter(status="READY").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_does_not_swallow_the_task_of_later_emails(
    organization, notice_template
):
    # Given a transaction where a savepoint queueing an e-mail rolls back
    with transaction.atomic():
        with pytest.raises(Rollback), transaction.atomic():
            queue_notice(organization=organization, template=notice_template, number=1)
            raise Rollback
        # When another e-mail is queued after it
        kept = queue_notice(organization=organization, template=notice_template, number=2)

    # Then that e-mail and exactly one task are committed
    assert list(OutboundEmail.objects.all()) == [kept]
    assert delivery_tasks().count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_email_queued_outside_a_transaction_gets_its_task(organization, notice_template):
    # When an e-mail is queued in autocommit mode
    queue_notice(organization=organization, template=notice_template)

    # Then it is committed with a task
    assert OutboundEmail.objects.count() == 1
    assert delivery_tasks().count() == 1


@pytest.mark.django_db
def test_email_queue_renders_the_templates_in_the_email_language(organization, notice_template):
    # When an e-mail is queued
    email = queue_notice(organization=organization, template=notice_template, number=7)

    # Then the row holds everything needed to send it later
    assert email.subject == "Notice for Ada"
    assert "This is notice 7." in email.body_text
    assert "This is notice <strong>7</strong>." in email.body_html
    assert email.from_email == f"{organization.name} <no-reply@portico.test>"
    assert email.reply_to == organization.email
    assert email.message_id.startswith("<") and email.message_id.endswith("@portico.test>")
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 0)
    assert email.next_attempt_at <= timezone.now()


# -- Claiming ---------------------------------------------------------------------


@pytest.mark.django_db
def test_claimed_rows_are_not_claimed_again_until_the_claim_runs_out(settings):
    # Given due e-mails claimed by one worker
    emails = OutboundEmailFactory.create_batch(3)
    now = timezone.now()
    first = services._claim_batch(now=now, batch_size=10)
    assert {email.pk for email in first.emails} == {email.pk for email in emails}

    # When another worker looks while the claim runs
    # Then it gets nothing
    assert services._claim_batch(now=now, batch_size=10).emails == []

    # When the claim has run out (the first worker died)
    later = now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    second = services._claim_batch(now=later, batch_size=10)

    # Then another worker takes the rows over
    assert len(second.emails) == 3
    # and an outcome the dead worker records late does not undo the new claim
    report = services.DeliveryReport()
    services._record_failure(first.emails[0], OSError("late"), first, report)
    row = OutboundEmail.objects.get(pk=first.emails[0].pk)
    assert (row.status, row.attempts, row.claimed_until) == (
        EmailStatus.SENDING,
        0,
        second.until,
    )
    assert report == services.DeliveryReport()


@pytest.mark.django_db
def test_only_due_rows_are_claimed_oldest_first():
    # Given rows due earlier and later, failed and sent ones
    now = timezone.now()
    late = OutboundEmailFactory(next_attempt_at=now - timedelta(minutes=1))
    early = OutboundEmailFactory(next_attempt_at=now - timedelta(minutes=5))
    OutboundEmailFactory(next_attempt_at=now + timedelta(minutes=1))
    OutboundEmailFactory(status=EmailStatus.FAILED, next_attempt_at=now - timedelta(hours=1))
    OutboundEmailFactory(status=EmailStatus.SENT, next_attempt_at=now - timedelta(hours=1))

    # When a worker claims
    claim = services._claim_batch(now=now, batch_size=10)

    # Then it gets the due queued rows, the longest waiting first
    assert [email.pk for email in claim.emails] == [early.pk, late.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_disjoint_batches_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite serialises writers instead")
    # Given four due rows
    OutboundEmailFactory.create_batch(4)
    now = timezone.now()
    claimed_by_first: list[int] = []
    first_has_locked = threading.Event()
    first_may_commit = threading.Event()

    def first_worker() -> None:
        try:
            # the outer transaction keeps the claim's row locks until we say so
            with transaction.atomic():
                claim = services._claim_batch(now=now, batch_size=2)
                claimed_by_first.extend(email.pk for email in claim.emails)
                first_has_locked.set()
                first_may_commit.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert first_has_locked.wait(timeout=10)
        # When a second worker claims while the first holds its rows locked
        second = services._claim_batch(now=now, batch_size=10)
    finally:
        first_may_commit.set()
        thread.join(timeout=10)

    # Then it skipped the locked rows and took the others
    assert len(claimed_by_first) == 2
    assert len(second.emails) == 2
    assert not {email.pk for email in second.emails} & set(claimed_by_first)
    # and once the first committed, nothing is left to claim
    assert services._claim_batch(now=now, batch_size=10).emails == []
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENDING}


# -- Back-off and retry -----------------------------------------------------------


def test_retry_delay_doubles_from_the_base_up_to_the_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600

    delays = [services.retry_delay(attempts).total_seconds() for attempts in range(1, 10)]

    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.django_db
def test_outbox_retry_requeues_a_failed_email(organization):
    # Given a failed e-mail
    email = OutboundEmailFactory(
        organization=organization, status=EmailStatus.FAILED, attempts=8, last_error="550 …"
    )

    # When staff retry it
    services.outbox_retry(organization=organization, email_id=email.pk)

    # Then it is due now
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED
    assert email.next_attempt_at <= timezone.now()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [EmailStatus.SENT, EmailStatus.QUEUED, EmailStatus.SENDING])
def test_outbox_retry_refuses_an_email_that_has_not_failed(organization, status):
    email = OutboundEmailFactory(organization=organization, status=status)

    with pytest.raises(services.OutboxError, match="Only a failed e-mail can be retried"):
        services.outbox_retry(organization=organization, email_id=email.pk)

    email.refresh_from_db()
    assert email.status == status


@pytest.mark.django_db
def test_outbox_retry_cannot_reach_another_organisations_email(organization):
    other = OutboundEmailFactory(status=EmailStatus.FAILED)

    with pytest.raises(OutboundEmail.DoesNotExist):
        services.outbox_retry(organization=organization, email_id=other.pk)

    other.refresh_from_db()
    assert other.status == EmailStatus.FAILED


@pytest.mark.django_db
def test_plain_text_parts_are_not_html_escaped(organization):
    organization.name = "Lind & Sons"
    organization.save()

    email = services.email_queue(
        organization=organization,
        kind="tests.escape",
        to_email="someone@example.com",
        template="accounts/email/staff_invitation",
        context={"inviter": organization, "role": "Staff", "expires_at": None},
        language="en",
    )

    assert "Lind & Sons" in email.subject
    assert "Lind & Sons" in email.body_text
    assert "Lind &amp; Sons" in email.body_html
