"""Enable portal delivers its own invitations: each chunk's e-mails are
inserted claimed by the job, sent from memory after the chunk commits, over
one SMTP connection for the whole run, and marked sent by their claim. The
outbox's guarantees still hold: a worker killed between the commit and the
send loses nothing, a server that is down or a refused recipient backs off as
in normal delivery, nothing is sent twice, two runs of one job keep its
counters right. The SMTP server is aiosmtpd on a socket."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)
from portico.customers.selectors import CustomerFilters
from portico.mail import services as mail_services
from portico.mail.models import EmailStatus, OutboundEmail
from portico.mail.tasks import deliver_outbox
from portico.mail.tests.conftest import run_db_worker  # noqa: F401  (a fixture)
from portico.mail.tests.test_delivery import received_ids, time_passes
from portico.portal_access import bulk
from portico.portal_access.models import BulkInvite, BulkInviteStatus
from portico.portal_access.tests.test_bulk import (
    bulk_tasks,
    customer_with_primary,
    invitations_per_contact,
    run_job,
)


def start_job(organization, membership, customers) -> BulkInvite:
    """Customers → More → Enable portal for ``customers`` (the request's part)."""
    return bulk.bulk_invite_start(
        organization=organization,
        actor=membership.user,
        ids=[customer.pk for customer in customers],
        all_matching=False,
        filters=CustomerFilters(),
    )


def primary_emails(customers) -> list[str]:
    return sorted(customer.contacts.get(is_primary=True).email for customer in customers)


def received_recipients(smtp_server) -> list[str]:  # noqa: F811
    return sorted(message.rcpt_tos[0] for message in smtp_server.received)


def sent_markings(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if query["sql"].startswith("UPDATE") and "'sent'" in query["sql"]
    ]


@pytest.mark.django_db
def test_the_job_sends_each_chunk_after_its_commit_over_one_connection(
    organization,
    membership,
    smtp_server,  # noqa: F811
):
    # Given five customers, invited two per chunk (three chunks)
    customers = [customer_with_primary(organization) for _ in range(5)]
    job = start_job(organization, membership, customers)

    # When the worker runs the job
    with CaptureQueriesContext(connection) as queries:
        job = run_job(job.pk, chunk_size=2)

    # Then every primary contact received one invitation with its link, all
    # over one SMTP connection
    assert (job.status, job.invited) == (BulkInviteStatus.DONE, 5)
    assert received_recipients(smtp_server) == primary_emails(customers)
    assert smtp_server.sessions == 1
    for message in smtp_server.received:
        assert "/accept/" in message.body("text/plain")
    # and the rows are marked sent, one UPDATE per chunk, links wiped
    assert len(sent_markings(queries.captured_queries)) == 3
    for email in OutboundEmail.objects.all():
        assert (email.status, email.attempts, email.secret_values) == (EmailStatus.SENT, 1, {})
        assert email.claimed_until is None and email.sent_at is not None
    assert received_ids(smtp_server) == sorted(
        OutboundEmail.objects.values_list("message_id", flat=True)
    )
    # and no delivery run is needed now (one waits for the claims to run out)
    assert not DBTaskResult.objects.ready().filter(task_path=deliver_outbox.module_path).exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_commit_and_send_loses_nothing_and_sends_nothing_twice(
    organization,
    membership,
    monkeypatch,
    settings,
    smtp_server,  # noqa: F811
    run_db_worker,  # noqa: F811
):
    # Given a job whose worker died right after its first chunk committed:
    # two invitations stored, their e-mails claimed by the job, none sent
    customers = [customer_with_primary(organization) for _ in range(5)]
    job = start_job(organization, membership, customers)

    def killed(self, claim):
        raise KeyboardInterrupt  # not an Exception: nothing marks the job failed

    monkeypatch.setattr(mail_services.OutboxSender, "send", killed)
    with pytest.raises(KeyboardInterrupt):
        run_job(job.pk, chunk_size=2)
    monkeypatch.undo()
    bulk_tasks().delete()  # the dead worker's tasks are gone with it
    claimed = list(OutboundEmail.objects.all())
    assert len(claimed) == 2
    assert {email.status for email in claimed} == {EmailStatus.SENDING}
    assert all(email.claimed_until > timezone.now() for email in claimed)
    assert smtp_server.received == []

    # When a worker runs before the claim runs out
    run_db_worker()
    # Then it leaves the rows alone
    assert smtp_server.received == []

    # When the claim has run out, and later the job is found stale
    time_passes(seconds=settings.OUTBOX_CLAIM_SECONDS)
    run_db_worker()
    # Then the normal delivery sent the two e-mails, once
    assert received_ids(smtp_server) == sorted(email.message_id for email in claimed)
    BulkInvite.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - bulk.STALE_AFTER - timedelta(seconds=1)
    )
    run_db_worker()

    # Then the job finished too, and everyone received exactly one invitation
    job.refresh_from_db()
    assert (job.status, job.processed, job.invited) == (BulkInviteStatus.DONE, 5, 5)
    assert received_recipients(smtp_server) == primary_emails(customers)
    assert sorted(invitations_per_contact().values()) == [1] * 5
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_with_the_server_down_the_job_finishes_and_its_emails_go_out_when_it_is_back(
    organization,
    membership,
    settings,
    smtp_server,  # noqa: F811
    run_db_worker,  # noqa: F811
):
    # Given the SMTP server is down
    smtp_server.stop()
    customers = [customer_with_primary(organization) for _ in range(5)]
    job = start_job(organization, membership, customers)

    # When the worker runs the job
    before = timezone.now()
    job = run_job(job.pk, chunk_size=2)

    # Then the job is done: the invitations are stored; the first chunk's
    # e-mails back off as the normal delivery's do, the later ones are queued
    # for the normal delivery (the job stopped trying)
    assert (job.status, job.invited) == (BulkInviteStatus.DONE, 5)
    first, later = [], []
    for email in OutboundEmail.objects.order_by("id"):
        (first if email.attempts else later).append(email)
        assert (email.status, email.claimed_until) == (EmailStatus.QUEUED, None)
    assert len(first) == 2
    for email in first:
        assert "ConnectionRefusedError" in email.last_error
        assert email.next_attempt_at >= before + timedelta(
            seconds=settings.OUTBOX_RETRY_BASE_SECONDS
        )
    assert len(later) == 3

    # When the server is back and the retries are due
    smtp_server.start()
    time_passes(seconds=settings.OUTBOX_RETRY_BASE_SECONDS)
    run_db_worker()

    # Then every invitation arrived once
    assert received_recipients(smtp_server) == primary_emails(customers)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_a_refused_recipient_is_retried_later_and_the_rest_are_sent(
    organization,
    membership,
    settings,
    smtp_server,  # noqa: F811
    run_db_worker,  # noqa: F811
):
    # Given a job whose second contact's mailbox the server refuses today
    customers = [customer_with_primary(organization) for _ in range(4)]
    refused = customers[1].contacts.get().email
    smtp_server.refuse_recipient(refused, "450 4.2.1 Mailbox busy, try later")
    job = start_job(organization, membership, customers)

    # When the worker runs the job
    run_job(job.pk, chunk_size=2)

    # Then the others received their invitation; the refused one backs off
    assert received_recipients(smtp_server) == sorted(
        email for email in primary_emails(customers) if email != refused
    )
    retried = OutboundEmail.objects.get(to_email=refused)
    assert (retried.status, retried.attempts) == (EmailStatus.QUEUED, 1)
    assert "450" in retried.last_error
    assert OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == 3
    # and a delivery run waits for its retry
    assert (
        DBTaskResult.objects.filter(
            task_path=deliver_outbox.module_path, status="READY", run_after=retried.next_attempt_at
        ).count()
        == 1
    )

    # When the mailbox accepts again and the retry is due
    smtp_server.handler.refused_recipients.clear()
    time_passes(seconds=settings.OUTBOX_RETRY_BASE_SECONDS)
    run_db_worker()

    # Then it arrived too, once
    assert received_recipients(smtp_server) == primary_emails(customers)
    retried.refresh_from_db()
    assert (retried.status, retried.attempts) == (EmailStatus.SENT, 2)


@pytest.mark.django_db
def test_running_enable_portal_twice_delivers_nothing_twice(
    organization,
    membership,
    smtp_server,  # noqa: F811
):
    # Given customers whose portal was enabled, their invitations delivered
    customers = [customer_with_primary(organization) for _ in range(3)]
    run_job(start_job(organization, membership, customers).pk)
    assert len(smtp_server.received) == 3

    # When staff enable it again
    second = run_job(start_job(organization, membership, customers).pk)

    # Then nothing more went out
    assert (second.invited, second.skipped_already) == (0, 3)
    assert len(smtp_server.received) == 3
    assert received_recipients(smtp_server) == primary_emails(customers)


@pytest.mark.django_db(transaction=True)
def test_a_job_of_many_chunks_runs_on_two_workers_with_its_counters_right(
    organization,
    membership,
    smtp_server,  # noqa: F811
    run_db_worker,  # noqa: F811
):
    # Given a job of seven customers (and one without a primary contact),
    # worth more than two chunks of two
    customers = [customer_with_primary(organization) for _ in range(7)]
    lonely = customer_with_primary(organization)
    lonely.contacts.all().delete()
    job = start_job(organization, membership, [*customers, lonely])

    # When the worker starts it, it enqueues a second run of it
    first = bulk._begin(job.pk, chunk_size=2)
    assert first.status == BulkInviteStatus.RUNNING
    assert bulk_tasks().filter(status="READY").count() == 2
    # and the runs finish it (one after the other in a test)
    run_db_worker()

    # Then the counters add up and everyone received one invitation
    job.refresh_from_db()
    assert (job.status, job.processed, job.invited, job.skipped_no_contact) == (
        BulkInviteStatus.DONE,
        8,
        7,
        1,
    )
    assert received_recipients(smtp_server) == primary_emails(customers)
    assert sorted(invitations_per_contact().values()) == [1] * 7


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_every_invitation_once(
    organization,
    membership,
    smtp_server,  # noqa: F811
):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the in-memory test database locks tables instead of waiting for writers")
    # Given a job of twelve customers, two per chunk
    customers = [customer_with_primary(organization) for _ in range(12)]
    job = start_job(organization, membership, customers)
    bulk._begin(job.pk, chunk_size=2)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait(timeout=10)
            run_job(job.pk, chunk_size=2)
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    # When two workers run it at the same time
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then they shared the chunks: counters right, one invitation each, sent once
    assert not errors, errors
    job.refresh_from_db()
    assert (job.status, job.processed, job.invited) == (BulkInviteStatus.DONE, 12, 12)
    assert sorted(invitations_per_contact().values()) == [1] * 12
    assert received_recipients(smtp_server) == primary_emails(customers)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
