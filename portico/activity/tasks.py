"""Background work of notifications: the digest e-mail at the end of its window."""

from django_tasks import task

from portico.activity import services


@task()
def send_notification_digest(*, recipient_id: int, organization_id: int) -> int:
    """Idempotent: a second run for the same member finds nothing held."""
    return services.notification_digest_send(
        recipient_id=recipient_id, organization_id=organization_id
    )
