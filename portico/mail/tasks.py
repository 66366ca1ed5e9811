"""Background delivery of the outbox (django-tasks, database backend)."""

from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from portico.mail import services


@task()
def deliver_outbox() -> dict:
    """Deliver due e-mails, then make sure a later run exists for retries.

    Safe to run twice or concurrently: rows are claimed before sending.
    """
    try:
        report = services.outbox_deliver_due()
    except Exception:
        # Whatever stopped this run (the database went away, a bug), the rows
        # it leaves behind still need a later run; not at once, or a run that
        # fails every time would spin.
        _enqueue_follow_up(not_before=timezone.now() + services.retry_delay(1))
        raise
    _enqueue_follow_up()
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


def _enqueue_follow_up(*, not_before: datetime | None = None) -> None:
    next_due = services.outbox_next_due_at()
    if next_due is not None:
        enqueue_delivery(when=max(next_due, not_before) if not_before else next_due)


def enqueue_delivery(*, when: datetime | None = None) -> None:
    """Enqueue ``deliver_outbox`` (at ``when``) unless a run that early already waits."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    waiting = DBTaskResult.objects.filter(task_path=deliver_outbox.module_path, status="READY")
    due_now = when is None or when <= now
    already = Q(run_after=get_date_max()) | Q(run_after__lte=now if due_now else when)
    if waiting.filter(already).exists():
        return
    if due_now:
        deliver_outbox.enqueue()
    else:
        deliver_outbox.using(run_after=when).enqueue()


def recover_undelivered() -> None:
    """At worker start: schedule delivery of whatever a dead worker left behind."""
    next_due = services.outbox_next_due_at()
    if next_due is not None:
        enqueue_delivery(when=next_due)
