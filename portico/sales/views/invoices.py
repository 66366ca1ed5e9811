"""Staff pages for invoices: list, new/edit, detail, mark as sent, void, PDF."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.comments.selectors import staff_thread_context
from portico.customers.models import Customer
from portico.sales import selectors_invoices
from portico.sales.forms_invoices import InvoiceForm
from portico.sales.history import history_of
from portico.sales.models import OPEN_INVOICE_STATUSES, Invoice, InvoiceStatus
from portico.sales.selectors import DEFAULT_SORT
from portico.sales.services import invoices as services
from portico.sales.services.common import DocumentStateError, SalesError
from portico.sales.views.document_form import document_form_page

PAGE_SIZE = 50
RESULTS_TARGET = "invoice-results"


def _status_choices() -> list[tuple[str, str]]:
    """The list's status filter, in the order an invoice moves through them."""
    return [
        (InvoiceStatus.DRAFT, InvoiceStatus.DRAFT.label),
        (selectors_invoices.UNPAID, _("Unpaid")),
        (InvoiceStatus.OVERDUE, InvoiceStatus.OVERDUE.label),
        (InvoiceStatus.SENT, InvoiceStatus.SENT.label),
        (InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PARTIALLY_PAID.label),
        (InvoiceStatus.PAID, InvoiceStatus.PAID.label),
        (InvoiceStatus.VOID, InvoiceStatus.VOID.label),
    ]


def _get_invoice(request, pk: int) -> Invoice:
    try:
        return selectors_invoices.invoice_get(organization=request.organization, pk=pk)
    except Invoice.DoesNotExist as error:
        raise Http404 from error


def record_payment_url(invoice: Invoice) -> str:
    """The payment form, with this invoice's customer and the invoice chosen."""
    query = urlencode({"customer": invoice.customer_id, "invoice": invoice.pk})
    return f"{reverse('payments:create')}?{query}"


def list_query(query) -> str:
    """The list's query string without empty filters or the default sort."""
    kept = {
        name: value
        for name, value in query.items()
        if value and not (name == "sort" and value == DEFAULT_SORT)
    }
    return urlencode(kept)


@staff_view
def invoice_list(request):
    organization = request.organization
    filters = selectors_invoices.invoice_filters(request.GET)
    invoices = selectors_invoices.invoice_list(organization=organization, filters=filters)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "status_choices": _status_choices(),
        # An empty page says "no invoices yet" or "none match", which differ.
        "has_documents": bool(page.object_list)
        or selectors_invoices.invoice_exists(organization=organization),
        "filter_customer": Customer.objects.filter(
            organization=organization, pk=filters.customer_id
        ).first()
        if filters.customer_id
        else None,
        "today": timezone.localdate(),
    }
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        response = render(request, "sales/invoices/partials/_invoice_results.html", context)
        query = list_query(request.GET)
        return push_url(response, reverse("invoices:list") + (f"?{query}" if query else ""))
    return render(request, "sales/invoices/invoice_list.html", context)


def _initial(invoice: Invoice | None, request) -> dict:
    if invoice is None:
        customer = request.GET.get("customer", "")
        return {
            "date": timezone.localdate(),
            "customer": int(customer) if customer.isdigit() else None,
            "allow_partial_payments": request.organization.allow_partial_payments,
        }
    return {
        "customer": invoice.customer_id,
        "date": invoice.date,
        "reference": invoice.reference,
        "contacts": [contact.pk for contact in invoice.contacts.all()],
        "notes": invoice.notes,
        "terms": invoice.terms,
        "payment_terms": invoice.payment_terms,
        "due_date": invoice.due_date,
        "allow_partial_payments": invoice.allow_partial_payments,
    }


def _form_page(request, invoice: Invoice | None):
    organization = request.organization
    if invoice is not None:
        try:
            services.invoice_check_editable(invoice=invoice)
        except DocumentStateError as error:
            messages.error(request, error.message)
            return redirect("invoices:detail", pk=invoice.pk)
    form = InvoiceForm(
        request.POST or None, initial=_initial(invoice, request), organization=organization
    )

    def save(lines):
        data = form.document_data(lines)
        if invoice is None:
            saved = services.invoice_create(
                organization=organization, data=data, actor=request.user
            )
            return saved, _("Invoice %(number)s created.") % {"number": saved}
        saved = services.invoice_update(invoice=invoice, data=data, actor=request.user)
        return saved, _("Invoice %(number)s saved.") % {"number": saved}

    return document_form_page(
        request,
        document=invoice,
        form=form,
        save=save,
        template="sales/invoices/invoice_form.html",
        context_name="invoice",
        detail_url="invoices:detail",
    )


@staff_view
def invoice_create(request):
    return _form_page(request, None)


@staff_view
def invoice_edit(request, pk: int):
    return _form_page(request, _get_invoice(request, pk))


@staff_view
def invoice_detail(request, pk: int):
    try:
        invoice = selectors_invoices.invoice_detail(organization=request.organization, pk=pk)
    except Invoice.DoesNotExist as error:
        raise Http404 from error
    status = invoice.status
    return render(
        request,
        "sales/invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "document": invoice,
            "payments": invoice.payment_allocations.all(),
            "credits": invoice.credit_applications.all(),
            "history": history_of(document=invoice),
            **staff_thread_context(request, invoice),
            "can_edit": status not in (InvoiceStatus.VOID, InvoiceStatus.PAID),
            "can_send": status == InvoiceStatus.DRAFT,
            "can_void": status != InvoiceStatus.VOID,
            "can_record_payment": status in OPEN_INVOICE_STATUSES and invoice.balance_due > 0,
            "record_payment_url": record_payment_url(invoice),
        },
    )


@require_POST
@staff_view
def invoice_mark_sent(request, pk: int):
    invoice = _get_invoice(request, pk)
    try:
        services.invoice_mark_sent(invoice=invoice, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Invoice %(number)s marked as sent.") % {"number": invoice})
    return redirect("invoices:detail", pk=invoice.pk)


@require_POST
@staff_view
def invoice_void(request, pk: int):
    invoice = _get_invoice(request, pk)
    try:
        services.invoice_void(invoice=invoice, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Invoice %(number)s is void.") % {"number": invoice})
    return redirect("invoices:detail", pk=invoice.pk)


@staff_view
def invoice_pdf(request, pk: int):
    from portico.core.pdf import pdf_response
    from portico.sales.pdf import document_pdf

    invoice = _get_invoice(request, pk)
    return pdf_response(
        document_pdf(document=invoice, language=request.LANGUAGE_CODE),
        filename=f"{invoice.number}.pdf",
    )
