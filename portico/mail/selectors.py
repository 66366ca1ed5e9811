from django.db.models import QuerySet

from portico.accounts.models import Organization
from portico.mail.models import EmailStatus, OutboundEmail

LIST_COLUMNS = (
    "id",
    "kind",
    "to_email",
    "to_name",
    "subject",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "sent_at",
    "next_attempt_at",
)


def outbox_list(*, organization: Organization, status: str = "") -> QuerySet[OutboundEmail]:
    emails = OutboundEmail.objects.filter(organization=organization).only(*LIST_COLUMNS)
    if status in EmailStatus.values:
        emails = emails.filter(status=status)
    return emails.order_by("-created_at", "-id")


def outbox_get(*, organization: Organization, email_id: int) -> OutboundEmail:
    return OutboundEmail.objects.get(organization=organization, pk=email_id)
