"""The portal's documents: quotes, sales orders, invoices, payments and credit notes.

Each kind has a list (25 a page, newest first, search and filters), a detail
page rendering the document as the business issued it, and its PDF in the
contact's language. Every document is read through the scoped selectors
(``portico.portal.selectors``): another customer's id is a 404. Opening the
detail page of a quote, sales order, invoice or credit note records the view
(``document_view_record``); lists and PDFs do not.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from portico.core.pdf import pdf_response
from portico.payments.models import Payment
from portico.portal import views_comments, views_quotes
from portico.portal.access import portal_view
from portico.portal.selectors import show_void_documents
from portico.portal.selectors_documents import (
    PortalListFilters,
    portal_document_detail,
    portal_document_exists,
    portal_document_list,
    portal_invoices_of_order,
    portal_status_choices,
)
from portico.portal.services import document_view_record, document_view_repeat_record
from portico.portal_access.models import PortalModule
from portico.sales.models import (
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Quote,
    SalesOrder,
    SalesOrderStatus,
)
from portico.sales.pdf import document_pdf

PAGE_SIZE = 25


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document in the portal: its model, module, URL and template names."""

    model: type[Model]
    module: str
    name: str  # portal:<name>_list, portal:<name>_detail, portal:<name>_pdf
    title: object  # the list's heading
    empty: object  # the list when the customer has none

    @property
    def results_template(self) -> str:
        return f"portal/documents/partials/_{self.name}_results.html"

    @property
    def detail_template(self) -> str:
        return f"portal/documents/{self.name}_detail.html"


QUOTES = DocumentKind(Quote, PortalModule.QUOTES, "quote", _("Quotes"), _("No quotes yet."))
SALES_ORDERS = DocumentKind(
    SalesOrder,
    PortalModule.SALES_ORDERS,
    "sales_order",
    _("Sales orders"),
    _("No sales orders yet."),
)
INVOICES = DocumentKind(
    Invoice, PortalModule.INVOICES, "invoice", _("Invoices"), _("No invoices yet.")
)
PAYMENTS = DocumentKind(
    Payment, PortalModule.PAYMENTS, "payment", _("Payments"), _("No payments yet.")
)
CREDIT_NOTES = DocumentKind(
    CreditNote,
    PortalModule.CREDIT_NOTES,
    "credit_note",
    _("Credit notes"),
    _("No credit notes yet."),
)

# Statuses a document the portal never shows can have (drafts; void unless shown).
_HIDDEN_STATUSES = {
    Invoice: (InvoiceStatus.DRAFT, InvoiceStatus.VOID),
    SalesOrder: (SalesOrderStatus.DRAFT, SalesOrderStatus.VOID),
    CreditNote: (CreditNoteStatus.DRAFT, CreditNoteStatus.VOID),
}


def _linkable(request, document, module: str) -> bool:
    """Whether a related document (an order's invoice, a payment's invoice …)
    may be linked: its module is shown to the contact and the portal shows it."""
    if document is None or module not in request.portal_modules:
        return False
    draft, void = _HIDDEN_STATUSES[type(document)]
    if document.status == draft:
        return False
    return document.status != void or show_void_documents(request.portal_access)


def _list_page(request, kind: DocumentKind):
    access = request.portal_access
    show_void = show_void_documents(access)
    filters = PortalListFilters.from_query(request.GET)
    documents = portal_document_list(
        access=access, model=kind.model, filters=filters, show_void=show_void
    )
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    if kind.model is Payment:
        for payment in page.object_list:
            for allocation in payment.allocations.all():
                allocation.linkable = _linkable(request, allocation.invoice, PortalModule.INVOICES)
    context = {
        "kind": kind,
        "page": page,
        "filters": filters,
        "status_choices": portal_status_choices(model=kind.model, show_void=show_void),
        # An empty page says "no invoices yet" or "none match", which differ.
        "has_documents": bool(page.object_list)
        or (filters.active and portal_document_exists(access=access, model=kind.model)),
        "list_url": request.path,
    }
    if request.htmx:
        return render(request, kind.results_template, context)
    return render(request, "portal/documents/list.html", context)


def _count_repeat_view(kind: DocumentKind):
    """``on_cache_hit`` of a document page: count the view without rendering."""

    def on_cache_hit(request, visit, pk: int) -> bool:
        return document_view_repeat_record(
            visit=visit, organization_id=request.organization.pk, model=kind.model, pk=pk
        )

    return on_cache_hit


def _get_document(request, kind: DocumentKind, pk: int) -> Model:
    try:
        return portal_document_detail(access=request.portal_access, model=kind.model, pk=pk)
    except kind.model.DoesNotExist as error:
        raise Http404("No such document.") from error


def _detail_context(request, kind: DocumentKind, document) -> dict:
    if request.method == "GET":
        document_view_record(access=request.portal_access, document=document)
    return {"kind": kind, "document": document, "organization": request.organization}


def _pdf(request, kind: DocumentKind, pk: int):
    document = _get_document(request, kind, pk)
    return pdf_response(
        document_pdf(document=document, language=request.portal_access.effective_language),
        filename=f"{document.number}.pdf",
    )


# --- quotes -------------------------------------------------------------------------


@portal_view(module=PortalModule.QUOTES, cache_page=True)
def quote_list(request, portal_name: str):
    return _list_page(request, QUOTES)


@portal_view(module=PortalModule.QUOTES, cache_page=True, on_cache_hit=_count_repeat_view(QUOTES))
def quote_detail(request, portal_name: str, pk: int):
    quote = _get_document(request, QUOTES, pk)
    context = _detail_context(request, QUOTES, quote)
    context["quote"] = quote
    context.update(views_quotes.decision_panel_context(request=request, quote=quote))
    context.update(views_comments.comments_context(request=request, document=quote))
    return render(request, QUOTES.detail_template, context)


@portal_view(module=PortalModule.QUOTES)
def quote_pdf(request, portal_name: str, pk: int):
    return _pdf(request, QUOTES, pk)


# --- sales orders ---------------------------------------------------------------------


@portal_view(module=PortalModule.SALES_ORDERS, cache_page=True)
def sales_order_list(request, portal_name: str):
    return _list_page(request, SALES_ORDERS)


@portal_view(
    module=PortalModule.SALES_ORDERS, cache_page=True, on_cache_hit=_count_repeat_view(SALES_ORDERS)
)
def sales_order_detail(request, portal_name: str, pk: int):
    order = _get_document(request, SALES_ORDERS, pk)
    context = _detail_context(request, SALES_ORDERS, order)
    context["invoice_kind"] = INVOICES
    context["invoices"] = (
        portal_invoices_of_order(access=request.portal_access, order=order)
        if PortalModule.INVOICES in request.portal_modules
        else []
    )
    context.update(views_comments.comments_context(request=request, document=order))
    return render(request, SALES_ORDERS.detail_template, context)


@portal_view(module=PortalModule.SALES_ORDERS)
def sales_order_pdf(request, portal_name: str, pk: int):
    return _pdf(request, SALES_ORDERS, pk)


# --- invoices -------------------------------------------------------------------------


@portal_view(module=PortalModule.INVOICES, cache_page=True)
def invoice_list(request, portal_name: str):
    return _list_page(request, INVOICES)


@portal_view(
    module=PortalModule.INVOICES, cache_page=True, on_cache_hit=_count_repeat_view(INVOICES)
)
def invoice_detail(request, portal_name: str, pk: int):
    invoice = _get_document(request, INVOICES, pk)
    context = _detail_context(request, INVOICES, invoice)
    context.update(
        payments=invoice.payment_allocations.all(),
        credits=invoice.credit_applications.all(),
        payments_linked=PortalModule.PAYMENTS in request.portal_modules,
    )
    for application in context["credits"]:
        application.linkable = _linkable(
            request, application.credit_note, PortalModule.CREDIT_NOTES
        )
    context.update(views_comments.comments_context(request=request, document=invoice))
    return render(request, INVOICES.detail_template, context)


@portal_view(module=PortalModule.INVOICES)
def invoice_pdf(request, portal_name: str, pk: int):
    return _pdf(request, INVOICES, pk)


# --- payments -------------------------------------------------------------------------


@portal_view(module=PortalModule.PAYMENTS, cache_page=True)
def payment_list(request, portal_name: str):
    return _list_page(request, PAYMENTS)


@portal_view(module=PortalModule.PAYMENTS, cache_page=True)
def payment_detail(request, portal_name: str, pk: int):
    payment = _get_document(request, PAYMENTS, pk)
    allocations = payment.allocations.all()
    for allocation in allocations:
        allocation.linkable = _linkable(request, allocation.invoice, PortalModule.INVOICES)
    context = {"kind": PAYMENTS, "document": payment, "allocations": allocations}
    return render(request, PAYMENTS.detail_template, context)


@portal_view(module=PortalModule.PAYMENTS)
def payment_pdf(request, portal_name: str, pk: int):
    return _pdf(request, PAYMENTS, pk)


# --- credit notes ---------------------------------------------------------------------


@portal_view(module=PortalModule.CREDIT_NOTES, cache_page=True)
def credit_note_list(request, portal_name: str):
    return _list_page(request, CREDIT_NOTES)


@portal_view(
    module=PortalModule.CREDIT_NOTES, cache_page=True, on_cache_hit=_count_repeat_view(CREDIT_NOTES)
)
def credit_note_detail(request, portal_name: str, pk: int):
    credit_note = _get_document(request, CREDIT_NOTES, pk)
    context = _detail_context(request, CREDIT_NOTES, credit_note)
    applications = credit_note.applications.all()
    for application in applications:
        application.linkable = _linkable(request, application.invoice, PortalModule.INVOICES)
    context.update(
        applications=applications,
        invoice_linkable=_linkable(request, credit_note.invoice, PortalModule.INVOICES),
    )
    return render(request, CREDIT_NOTES.detail_template, context)


@portal_view(module=PortalModule.CREDIT_NOTES)
def credit_note_pdf(request, portal_name: str, pk: int):
    return _pdf(request, CREDIT_NOTES, pk)
