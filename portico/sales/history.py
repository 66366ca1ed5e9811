"""Document history: recorded by services, described in the reader's language."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext as _

from portico.sales.models import DocumentEvent


def _messages() -> dict[str, str]:
    # Built on each call so each message is translated into the active language.
    return {
        "created": _("Created"),
        "created_from": _("Created from %(source)s"),
        "edited": _("Edited"),
        "revised": _("Edited after sending: revision %(revision)s recorded"),
        "sent": _("Marked as sent"),
        "accepted": _("Marked as accepted"),
        "declined": _("Marked as declined"),
        "accepted_in_portal": _("Accepted in portal by %(name)s"),
        "declined_in_portal": _("Declined in portal by %(name)s: %(reason)s"),
        "converted": _("Converted to %(target)s"),
        "confirmed": _("Confirmed"),
        "fulfilment": _("Fulfilment changed to %(status)s"),
        "fulfilment_not_shipped": _("Marked as not shipped"),
        "fulfilment_partially_shipped": _("Marked as partially shipped"),
        "fulfilment_shipped": _("Marked as shipped"),
        "payment_recorded": _("Payment %(payment)s of %(amount)s recorded"),
        "payment_deleted": _("Payment %(payment)s of %(amount)s deleted"),
        "credit_applied": _("Credit %(credit_note)s of %(amount)s applied"),
        "credit_applied_to": _("%(amount)s applied to %(invoice)s"),
        "payment_received": _("Payment of %(amount)s received"),
        "payment_credit_applied": _("Credit of %(amount)s from payment %(payment)s applied"),
        "paid_online": _("Paid online by %(name)s with %(provider)s (%(reference)s)"),
        "refund_recorded": _("Refund of %(amount)s recorded"),
        "credit_removed": _("Credit %(credit_note)s of %(amount)s removed"),
        "credit_removed_from": _("%(amount)s no longer applied to %(invoice)s"),
        "opened": _("Opened"),
        "voided": _("Voided"),
        "paid": _("Paid in full"),
        "commented_in_portal": _("Comment from %(name)s"),
        "viewed_in_portal": _("Viewed in portal by %(name)s"),
    }


def describe_event(event: DocumentEvent) -> str:
    template = _messages().get(event.kind)
    if template is None:
        return event.kind
    try:
        return template % event.data
    except (KeyError, TypeError, ValueError):
        return template


def history_record(*, document: models.Model, kind: str, actor=None, **data) -> DocumentEvent:
    return DocumentEvent.objects.create(
        organization_id=document.organization_id,
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
        actor=actor,
        kind=kind,
        data={key: str(value) for key, value in data.items()},
    )


def history_of(*, document: models.Model):
    """A document's history, newest first, with each actor in one query."""
    return (
        DocumentEvent.objects.filter(
            organization_id=document.organization_id,
            content_type=ContentType.objects.get_for_model(document),
            object_id=document.pk,
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
