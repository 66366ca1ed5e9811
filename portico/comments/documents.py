"""The kinds of things a comment thread hangs on, and their addresses.

A thread belongs to a quote, a sales order, an invoice or a project. Each
kind has a short name used in URLs (``/app/comments/<kind>/<pk>/``), a staff
page, a portal page and a portal module.
"""

from dataclasses import dataclass

from django.db.models import Model
from django.urls import reverse
from django.utils.translation import gettext as _

from portico.portal_access.models import PortalModule
from portico.projects.models import Project
from portico.sales.models import Invoice, Quote, SalesOrder


@dataclass(frozen=True)
class CommentableKind:
    name: str  # "quote", "sales_order", "invoice", "project"
    model: type[Model]
    module: str  # the PortalModule the portal page belongs to
    staff_url_name: str
    staff_url_kwarg: str
    # Whether the document has a history (DocumentEvent) to record comments in.
    has_history: bool


KINDS: dict[str, CommentableKind] = {
    kind.name: kind
    for kind in (
        CommentableKind("quote", Quote, PortalModule.QUOTES, "quotes:detail", "pk", True),
        CommentableKind(
            "sales_order", SalesOrder, PortalModule.SALES_ORDERS, "sales_orders:detail", "pk", True
        ),
        CommentableKind("invoice", Invoice, PortalModule.INVOICES, "invoices:detail", "pk", True),
        CommentableKind(
            "project", Project, PortalModule.PROJECTS, "projects:detail", "project_id", False
        ),
    )
}


def kind_of(document: Model) -> CommentableKind:
    """The kind of ``document``; ``LookupError`` for anything that has no thread."""
    for kind in KINDS.values():
        if type(document) is kind.model:
            return kind
    raise LookupError(f"{type(document).__name__} has no comment thread")


def document_label(document: Model) -> str:
    """ "Quote QT-00012", "Project Website redesign" … in the active language."""
    labels = {
        "quote": _("Quote %(name)s"),
        "sales_order": _("Sales order %(name)s"),
        "invoice": _("Invoice %(name)s"),
        "project": _("Project %(name)s"),
    }
    kind = kind_of(document)
    name = document.name if kind.name == "project" else document.number
    return labels[kind.name] % {"name": name}


def staff_document_url(document: Model) -> str:
    kind = kind_of(document)
    return reverse(kind.staff_url_name, kwargs={kind.staff_url_kwarg: document.pk})


def portal_document_path(document: Model, portal_name: str) -> str:
    return reverse(
        f"portal:{kind_of(document).name}_detail",
        kwargs={"portal_name": portal_name, "pk": document.pk},
    )


def portal_comment_path(document: Model, portal_name: str) -> str:
    return reverse(
        f"portal:{kind_of(document).name}_comment",
        kwargs={"portal_name": portal_name, "pk": document.pk},
    )


def staff_comment_path(document: Model) -> str:
    return reverse("comments:post", kwargs={"kind": kind_of(document).name, "pk": document.pk})
