"""Staff pages for credit notes: list, new/edit, detail, open, apply to
invoices, remove an application, void, PDF."""

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
from portico.core.money import quantize_money
from portico.customers.models import Customer
from portico.payments.forms import InvoiceAmountsForm
from portico.payments.selectors import open_invoices_for_customer
from portico.sales import selectors_credit_notes as selectors
from portico.sales.forms_credit_notes import CreditNoteForm, creditable_invoices
from portico.sales.history import history_of
from portico.sales.models import CreditNote, CreditNoteStatus, Invoice
from portico.sales.selectors import DEFAULT_SORT
from portico.sales.services import credit_notes as services
from portico.sales.services.common import SalesError
from portico.sales.views.document_form import currency_digits, document_form_page

PAGE_SIZE = 50
RESULTS_TARGET = "credit-note-results"


def _get(request, pk: int) -> CreditNote:
    try:
        return selectors.credit_note_get(organization=request.organization, pk=pk)
    except CreditNote.DoesNotExist as error:
        raise Http404 from error


def _list_query(query) -> str:
    kept = {
        name: value
        for name, value in query.items()
        if value and name != "page" and not (name == "sort" and value == DEFAULT_SORT)
    }
    return urlencode(kept)


@staff_view
def credit_note_list(request):
    organization = request.organization
    filters = selectors.credit_note_filters(request.GET)
    credit_notes = selectors.credit_note_list(organization=organization, filters=filters)
    page = Paginator(credit_notes, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "status_choices": CreditNoteStatus.choices,
        "has_credit_notes": bool(page.object_list)
        or selectors.credit_note_exists(organization=organization),
        "filter_customer": Customer.objects.filter(
            organization=organization, pk=filters.customer_id
        ).first()
        if filters.customer_id
        else None,
    }
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        response = render(request, "sales/credit_notes/partials/_credit_note_results.html", context)
        query = _list_query(request.GET)
        return push_url(response, reverse("credit_notes:list") + (f"?{query}" if query else ""))
    return render(request, "sales/credit_notes/credit_note_list.html", context)


def _initial(request, credit_note: CreditNote | None) -> dict:
    if credit_note is not None:
        return {
            "customer": credit_note.customer_id,
            "date": credit_note.date,
            "reference": credit_note.reference,
            "invoice": credit_note.invoice_id,
            "reason": credit_note.reason,
            "notes": credit_note.notes,
            "terms": credit_note.terms,
        }
    initial = {"date": timezone.localdate()}
    # "New credit note" from an invoice or a customer: ?invoice=… or ?customer=…
    invoice_id, customer_id = request.GET.get("invoice", ""), request.GET.get("customer", "")
    invoice = (
        Invoice.objects.filter(organization=request.organization, pk=int(invoice_id)).first()
        if invoice_id.isdigit()
        else None
    )
    if invoice is not None:
        initial.update(customer=invoice.customer_id, invoice=invoice.pk)
    elif customer_id.isdigit():
        initial["customer"] = int(customer_id)
    return initial


def _form_page(request, credit_note: CreditNote | None):
    organization = request.organization
    if credit_note is not None and credit_note.status != CreditNoteStatus.DRAFT:
        messages.error(request, _("Only a draft credit note can be edited."))
        return redirect("credit_notes:detail", pk=credit_note.pk)
    form = CreditNoteForm(
        request.POST or None, initial=_initial(request, credit_note), organization=organization
    )

    def save(lines):
        data = form.credit_note_data(lines)
        if credit_note is None:
            saved = services.credit_note_create(
                organization=organization, data=data, actor=request.user
            )
            return saved, _("Credit note %(number)s created.") % {"number": saved}
        saved = services.credit_note_update(credit_note=credit_note, data=data, actor=request.user)
        return saved, _("Credit note %(number)s saved.") % {"number": saved}

    return document_form_page(
        request,
        document=credit_note,
        form=form,
        save=save,
        template="sales/credit_notes/credit_note_form.html",
        context_name="credit_note",
        detail_url="credit_notes:detail",
    )


@staff_view
def credit_note_create(request):
    return _form_page(request, None)


@staff_view
def credit_note_edit(request, pk: int):
    return _form_page(request, _get(request, pk))


@staff_view
def credit_note_invoice_choices(request):
    """The "Against invoice" options for the customer chosen on the form (htmx)."""
    customer_id = request.GET.get("customer", "")
    customer = (
        Customer.objects.filter(organization=request.organization, pk=int(customer_id)).first()
        if customer_id.isdigit()
        else None
    )
    invoices = creditable_invoices(organization=request.organization, customer=customer)
    return render(
        request, "sales/credit_notes/partials/_invoice_options.html", {"invoices": invoices}
    )


@staff_view
def credit_note_detail(request, pk: int):
    credit_note = _get(request, pk)
    status = credit_note.status
    return render(
        request,
        "sales/credit_notes/credit_note_detail.html",
        {
            "credit_note": credit_note,
            "document": credit_note,
            "applications": list(credit_note.applications.all()),
            "history": history_of(document=credit_note),
            "can_edit": status == CreditNoteStatus.DRAFT,
            "can_open": status == CreditNoteStatus.DRAFT,
            "can_apply": status == CreditNoteStatus.OPEN and credit_note.credits_remaining > 0,
            "can_void": status in (CreditNoteStatus.DRAFT, CreditNoteStatus.OPEN),
        },
    )


def _state_change(request, pk: int, change, success: str):
    credit_note = _get(request, pk)
    try:
        change(credit_note=credit_note, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success % {"number": credit_note.number})
    return redirect("credit_notes:detail", pk=credit_note.pk)


@require_POST
@staff_view
def credit_note_open(request, pk: int):
    return _state_change(
        request,
        pk,
        services.credit_note_open,
        _("Credit note %(number)s is open: its credit can be applied to invoices."),
    )


@require_POST
@staff_view
def credit_note_void(request, pk: int):
    return _state_change(
        request, pk, services.credit_note_void, _("Credit note %(number)s is void.")
    )


@staff_view
def credit_note_apply(request, pk: int):
    """Apply the remaining credit to open invoices of the same customer."""
    credit_note = _get(request, pk)
    if credit_note.status != CreditNoteStatus.OPEN or credit_note.credits_remaining <= 0:
        messages.error(request, _("This credit note has no credit left to apply."))
        return redirect("credit_notes:detail", pk=credit_note.pk)
    invoices = open_invoices_for_customer(
        organization=request.organization,
        customer=credit_note.customer,
        currency=credit_note.currency,
    )
    initial = {}
    # From a credit note raised against an open invoice, offer that invoice first.
    related = next((i for i in invoices if i.pk == credit_note.invoice_id), None)
    if related is not None:
        initial[f"apply_{related.pk}"] = quantize_money(
            min(related.balance_due, credit_note.credits_remaining), credit_note.currency
        )
    form = InvoiceAmountsForm(request.POST or None, initial=initial, invoices=invoices)
    if request.method == "POST" and form.is_valid():
        try:
            services.credit_note_apply(
                credit_note=credit_note, applications=form.applications(), actor=request.user
            )
        except SalesError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Credit from %(number)s applied.") % {"number": credit_note.number}
            )
            return redirect("credit_notes:detail", pk=credit_note.pk)
    return render(
        request,
        "sales/credit_notes/credit_note_apply.html",
        {
            "credit_note": credit_note,
            "amounts_form": form,
            "currency": credit_note.currency,
            "currency_digits": currency_digits(credit_note.currency),
        },
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@staff_view
def credit_application_remove(request, pk: int, application_id: int):
    credit_note = _get(request, pk)
    if not any(application.pk == application_id for application in credit_note.applications.all()):
        raise Http404
    try:
        services.credit_application_remove(
            organization=request.organization, application_id=application_id, actor=request.user
        )
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The credit is no longer applied to that invoice."))
    return redirect("credit_notes:detail", pk=credit_note.pk)


@staff_view
def credit_note_pdf(request, pk: int):
    from portico.core.pdf import pdf_response
    from portico.sales.pdf import document_pdf

    credit_note = _get(request, pk)
    return pdf_response(
        document_pdf(document=credit_note, language=request.LANGUAGE_CODE),
        filename=f"{credit_note.number}.pdf",
    )
