"""Background work of portal access (django-tasks, database backend)."""

from django_tasks import task

from portico.portal_access import bulk


@task()
def bulk_invite_run(*, bulk_invite_id: int) -> dict:
    """Customers → More → Enable portal: invite the job's customers' primary
    contacts. Safe to run twice or concurrently (see ``bulk``)."""
    job = bulk.bulk_invite_process(bulk_invite_id=bulk_invite_id)
    return {
        "status": job.status,
        "processed": job.processed,
        "invited": job.invited,
        "skipped_no_contact": job.skipped_no_contact,
        "skipped_no_email": job.skipped_no_email,
        "skipped_already": job.skipped_already,
    }
