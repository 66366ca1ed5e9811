"""An event in a sentence, in the reader's language (built when shown)."""

import contextlib
from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from portico.activity.models import ActivityEvent, EventKind
from portico.core.money import format_money

# Staff page of each kind of document an event may name: (URL name, its kwarg).
_STAFF_PAGES = {
    "quote": ("quotes:detail", "pk"),
    "salesorder": ("sales_orders:detail", "pk"),
    "invoice": ("invoices:detail", "pk"),
    "creditnote": ("credit_notes:detail", "pk"),
    "payment": ("payments:detail", "pk"),
    "project": ("projects:detail", "project_id"),
}


def _document_label(event: ActivityEvent) -> str:
    model = event.content_type.model if event.content_type_id else ""
    labels = {
        "quote": _("quote %(number)s"),
        "salesorder": _("sales order %(number)s"),
        "invoice": _("invoice %(number)s"),
        "creditnote": _("credit note %(number)s"),
        "payment": _("payment %(number)s"),
        "project": _("project %(number)s"),
    }
    label = labels.get(model, "%(number)s") % {"number": event.document_number}
    if event.content_type_id and document_is_gone(event):
        return _("%(document)s (deleted document)") % {"document": label}
    return label


def document_is_gone(event: ActivityEvent) -> bool:
    """True when the event named a document that no longer exists.

    Reads ``event.document`` (one query per event unless the caller
    prefetched ``document``, as every list does)."""
    return bool(event.content_type_id) and event.document is None


def event_summary(event: ActivityEvent) -> str:
    values = {
        "actor": event.actor_name or _("A customer"),
        "customer": event.customer_name,
        "document": _document_label(event),
        **{key: value for key, value in event.data.items() if isinstance(value, str | int)},
    }
    if "amount_value" in event.data and "currency" in event.data:
        # Money in the reader's locale ("amount" is its English text).
        with contextlib.suppress(ArithmeticError, ValueError):
            values["amount"] = format_money(
                Decimal(str(event.data["amount_value"])), str(event.data["currency"])
            )
    templates = {
        EventKind.INVITATION_ACCEPTED: _("%(actor)s (%(customer)s) accepted the portal invitation"),
        EventKind.SIGNED_UP: _("%(actor)s signed up for the portal as %(customer)s"),
        EventKind.DOCUMENT_VIEWED: _("%(actor)s (%(customer)s) viewed %(document)s"),
        EventKind.QUOTE_ACCEPTED: _("%(actor)s (%(customer)s) accepted %(document)s"),
        EventKind.QUOTE_DECLINED: _("%(actor)s (%(customer)s) declined %(document)s: %(reason)s"),
        EventKind.COMMENT_ADDED: _("%(actor)s (%(customer)s) commented on %(document)s"),
        EventKind.INVOICE_PAID: _("%(actor)s (%(customer)s) paid %(amount)s on %(document)s"),
        EventKind.TIME_APPROVED: _(
            "%(actor)s (%(customer)s) approved %(count)s time entries on %(document)s"
        ),
        EventKind.DETAILS_UPDATED: _("%(actor)s updated the details of %(customer)s"),
        EventKind.ACCESS_DISABLED: _("Portal access of %(actor)s (%(customer)s) was disabled"),
    }
    template = templates.get(event.kind, "%(actor)s: " + event.kind)
    try:
        text = template % values
    except (KeyError, TypeError, ValueError):
        text = str(EventKind(event.kind).label) if event.kind in EventKind.values else event.kind
    if event.kind == EventKind.DOCUMENT_VIEWED and event.repeat_count > 1:
        text += " " + _("(%(count)s times)") % {"count": event.repeat_count}
    return text


def event_changes(event: ActivityEvent) -> list[dict]:
    """``data["changes"]`` (what a customer changed) with each label in the
    active language: the stored ``label_parts`` are translated when shown."""
    changes = []
    for change in event.data.get("changes") or []:
        if not isinstance(change, dict):
            continue
        parts = [part for part in change.get("label_parts") or [] if part]
        label = capfirst(": ".join(_(part) for part in parts) or str(change.get("label", "")))
        if change.get("person"):
            label = f"{change['person']}: {label}"
        changes.append({"label": label, "old": change.get("old", ""), "new": change.get("new", "")})
    return changes


def event_staff_url(event: ActivityEvent) -> str:
    """The staff page the event links to: its document, else its customer, else ""."""
    model = event.content_type.model if event.content_type_id else ""
    if model in _STAFF_PAGES and not document_is_gone(event):
        url_name, kwarg = _STAFF_PAGES[model]
        try:
            url = reverse(url_name, kwargs={kwarg: event.object_id})
        except NoReverseMatch:
            return ""
        return url + "#comments" if event.kind == EventKind.COMMENT_ADDED else url
    if event.customer_id:
        return reverse("customers:detail", kwargs={"customer_id": event.customer_id})
    return ""
