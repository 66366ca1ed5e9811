"""``manage.py db_worker``: django-tasks-db's worker, plus outbox recovery.

A worker that was killed mid-batch leaves e-mails claimed but unsent and
retries waiting on a task that may be gone; on start we re-schedule them,
and the Enable portal jobs it was running (``portal_access.bulk``).

Before it waits for tasks it loads what the first task would otherwise load
while someone waits for it (a web server's process does the same on its
first requests): the URLconf, which imports every view (0.25 s; every link
in an e-mail is a ``reverse()``), and each language's translation catalogue
(e-mails go out in the recipient's language).

And an idle worker starts a new task within ``WAKE_CHECK_SECONDS``, not up
to ``--interval`` later (see ``WakingWorker``).
"""

import time

from django.conf import settings
from django.db import close_old_connections
from django.db.utils import OperationalError
from django.urls import get_resolver
from django.utils import translation
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from portico.mail.tasks import recover_undelivered
from portico.portal_access.bulk import bulk_invite_recover

# How often an idle worker looks (a plain read, no lock) whether a task is ready.
WAKE_CHECK_SECONDS = 0.05


def warm_up() -> None:
    """Load the URLconf and every language's catalogue into this process."""
    get_resolver().reverse_dict  # noqa: B018  (populates the resolver)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pass


class WakingWorker(upstream.Worker):
    """django-tasks-db's worker, which after finding no task slept
    ``--interval`` (1 s by default) before claiming again: a task enqueued
    meanwhile waited for it (0.5 s on average; workers started together poll
    together). Here the idle worker looks every ``WAKE_CHECK_SECONDS`` with
    a plain read whether a task is ready, and claims it at once; the claim
    itself (a locking transaction: SQLite's write lock) is still made only
    when there is something to claim, or every ``--interval``.

    ``run`` is django-tasks-db 0.13's loop with that one change.
    """

    def run(self) -> None:
        upstream.logger.info(
            "Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names)
        )
        if self.startup_delay and self.interval:
            # A small random delay before starting, against a thundering herd
            time.sleep(upstream.random.random())  # noqa: S311
        while self.running:
            close_old_connections()  # dropped or expired connections, after waking up
            tasks = self._ready_tasks()
            with exclusive_transaction(tasks.db):
                try:
                    task_result = tasks.get_locked()
                    retrieved_task_result = True
                    if task_result is not None:
                        # "claim" the task, so it isn't run by another worker process
                        task_result.claim(self.worker_id)
                except OperationalError as error:
                    retrieved_task_result = False
                    # A locked database unlocks eventually: keep trying
                    if is_locked_database_exception(error):
                        task_result = None
                    else:
                        raise
            if task_result is not None:
                self.run_task(task_result)
            if self.batch and retrieved_task_result and task_result is None:
                upstream.logger.info(
                    "No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id
                )
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                upstream.logger.info(
                    "Run maximum tasks (%d) on worker=%s - exiting gracefully.",
                    self._run_tasks,
                    self.worker_id,
                )
                return
            close_old_connections()
            # If Ctrl+C has just interrupted a task, self.running was cleared:
            # exit at once rather than wait
            if self.running and not task_result:
                self._wait_for_task()

    def _ready_tasks(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def _wait_for_task(self) -> None:
        """Up to ``interval``, ending as soon as a task is ready."""
        deadline = time.monotonic() + self.interval
        while self.running:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(WAKE_CHECK_SECONDS, remaining))
            if self._ready_tasks().exists():
                return


class Command(upstream.Command):
    def handle(self, *args, **options):
        warm_up()
        recover_undelivered()
        bulk_invite_recover()
        # The upstream command builds its worker from the module's ``Worker``:
        # this process's command builds ours.
        upstream.Worker = WakingWorker
        return super().handle(*args, **options)
