"""Background work of online payments (django-tasks, database backend)."""

from django_tasks import task

from portico.online_payments import services


@task()
def expire_checkouts() -> int:
    """Expire the pending checkouts past their time (releasing their invoices'
    duplicate-payment lock). Enqueued for each checkout's expiry by
    ``checkout_prepare``; safe to run twice or concurrently."""
    return services.checkout_expire_due()
