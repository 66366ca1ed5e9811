"""``manage.py db_worker``: django-tasks-db's worker, plus outbox recovery.

A worker that was killed mid-batch leaves e-mails claimed but unsent and
retries waiting on a task that may be gone; on start we re-schedule them,
and the Enable portal jobs it was running (``portal_access.bulk``).
"""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from portico.mail.tasks import recover_undelivered
from portico.portal_access.bulk import bulk_invite_recover


class Command(DatabaseWorkerCommand):
    def handle(self, *args, **options):
        recover_undelivered()
        bulk_invite_recover()
        return super().handle(*args, **options)
