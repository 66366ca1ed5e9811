"""Staff pages for quotes: list, new/edit, detail, status actions, PDF."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.comments.selectors import staff_thread_context
from portico.core.pdf import pdf_response
from portico.customers.models import Customer
from portico.sales import selectors_quotes
from portico.sales.forms_quotes import QuoteForm
from portico.sales.history import history_of
from portico.sales.models import Quote, QuoteDecisionKind, QuoteStatus
from portico.sales.selectors import DocumentFilters
from portico.sales.services import quotes as services
from portico.sales.services.common import SalesError
from portico.sales.services.quote_decisions import quote_decision_latest
from portico.sales.views.document_form import document_form_page

PAGE_SIZE = 50
DEFAULT_VALIDITY_DAYS = 30
# The list's status filter, in the order a quote moves through them.
FILTER_STATUSES = [
    QuoteStatus.DRAFT,
    QuoteStatus.SENT,
    QuoteStatus.EXPIRED,
    QuoteStatus.ACCEPTED,
    QuoteStatus.DECLINED,
    QuoteStatus.INVOICED,
]


def _get_quote(request, pk: int) -> Quote:
    try:
        return selectors_quotes.quote_get(organization=request.organization, pk=pk)
    except Quote.DoesNotExist as error:
        raise Http404 from error


def _filters_query(filters: DocumentFilters) -> str:
    """The list's address: only the filters that differ from the defaults."""
    values = {
        "q": filters.q,
        "status": filters.status,
        "customer": filters.customer_id or "",
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
        "sort": "" if filters.sort == "-date" else filters.sort,
        "viewed": filters.viewed,
    }
    return urlencode({name: value for name, value in values.items() if value})


@staff_view
def quote_list(request):
    organization = request.organization
    filters = DocumentFilters.from_query(request.GET)
    quotes = selectors_quotes.quote_list(organization=organization, filters=filters)
    page = Paginator(quotes, PAGE_SIZE).get_page(request.GET.get("page"))
    filter_customer = None
    if filters.customer_id:
        filter_customer = Customer.objects.filter(
            organization=organization, pk=filters.customer_id
        ).first()
    context = {
        "page": page,
        "filters": filters,
        "filter_customer": filter_customer,
        "status_choices": [(status.value, status.label) for status in FILTER_STATUSES],
        # An empty page says "no quotes yet" or "none match", which differ.
        "has_quotes": bool(page.object_list)
        or selectors_quotes.quote_exists(organization=organization),
        "filtered": bool(
            filters.q
            or filters.status
            or filters.customer_id
            or filters.date_from
            or filters.date_to
            or filters.viewed
        ),
    }
    if request.htmx and request.htmx.target == "quote-results":
        response = render(request, "sales/quotes/partials/_quote_results.html", context)
        query = _filters_query(filters)
        return push_url(response, reverse("quotes:list") + (f"?{query}" if query else ""))
    return render(request, "sales/quotes/quote_list.html", context)


def _initial(request, quote: Quote | None) -> dict:
    if quote is not None:
        return {
            "customer": quote.customer_id,
            "date": quote.date,
            "expiry_date": quote.expiry_date,
            "reference": quote.reference,
            "notes": quote.notes,
            "terms": quote.terms,
            "contacts": [contact.pk for contact in quote.contacts.all()],
        }
    today = timezone.localdate()
    initial = {"date": today, "expiry_date": today + timedelta(days=DEFAULT_VALIDITY_DAYS)}
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        initial["customer"] = int(customer_id)
    return initial


def _quote_form_page(request, quote: Quote | None):
    organization = request.organization
    if quote is not None and quote.status not in services.EDITABLE_STATUSES:
        messages.error(request, services.quote_state_message(quote))
        return redirect("quotes:detail", pk=quote.pk)
    form = QuoteForm(
        request.POST or None, initial=_initial(request, quote), organization=organization
    )
    if quote is None and not form.is_bound:
        # A customer chosen up front: its primary contact receives the quote.
        form.initial["contacts"] = [
            contact.pk for contact in form.contact_choices if contact.is_primary and contact.email
        ]

    def save(lines):
        data = form.document_data(lines)
        expiry_date = form.cleaned_data.get("expiry_date")
        if quote is None:
            saved = services.quote_create(
                organization=organization, data=data, expiry_date=expiry_date, actor=request.user
            )
            return saved, _("Quote %(number)s created.") % {"number": saved.number}
        revision = quote.revision
        saved = services.quote_update(
            quote=quote, data=data, expiry_date=expiry_date, actor=request.user
        )
        if saved.revision != revision:
            return saved, _("Quote %(number)s saved as revision %(revision)s.") % {
                "number": saved.number,
                "revision": saved.revision,
            }
        return saved, _("Quote %(number)s saved.") % {"number": saved.number}

    return document_form_page(
        request,
        document=quote,
        form=form,
        save=save,
        template="sales/quotes/quote_form.html",
        context_name="quote",
        detail_url="quotes:detail",
    )


@staff_view
def quote_create(request):
    return _quote_form_page(request, None)


@staff_view
def quote_edit(request, pk: int):
    return _quote_form_page(request, _get_quote(request, pk))


@staff_view
def quote_detail(request, pk: int):
    try:
        quote = selectors_quotes.quote_detail(organization=request.organization, pk=pk)
    except Quote.DoesNotExist as error:
        raise Http404 from error
    return render(
        request,
        "sales/quotes/quote_detail.html",
        {
            "quote": quote,
            "document": quote,
            "history": history_of(document=quote),
            "customer_decision": quote_decision_latest(quote=quote),
            **staff_thread_context(request, quote),
            "editable": quote.status in services.EDITABLE_STATUSES,
            "decidable": quote.status in services.DECIDABLE_STATUSES,
            "convertible": quote.status in services.CONVERTIBLE_STATUSES,
        },
    )


def _quote_action(request, pk: int, action: Callable, success: str):
    """Run one status change on the quote and say how it went."""
    quote = _get_quote(request, pk)
    try:
        action(quote=quote, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success % {"number": quote.number})
    return redirect("quotes:detail", pk=quote.pk)


@require_POST
@staff_view
def quote_mark_sent(request, pk: int):
    return _quote_action(
        request, pk, services.quote_mark_sent, _("Quote %(number)s marked as sent.")
    )


@require_POST
@staff_view
def quote_mark_accepted(request, pk: int):
    return _quote_action(
        request, pk, services.quote_mark_accepted, _("Quote %(number)s marked as accepted.")
    )


@require_POST
@staff_view
def quote_mark_declined(request, pk: int):
    return _quote_action(
        request, pk, services.quote_mark_declined, _("Quote %(number)s marked as declined.")
    )


@require_POST
@staff_view
def quote_convert_to_sales_order(request, pk: int):
    quote = _get_quote(request, pk)
    try:
        order = services.quote_convert_to_sales_order(quote=quote, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
        return redirect("quotes:detail", pk=quote.pk)
    messages.success(
        request,
        _("Quote %(number)s converted to sales order %(order)s.")
        % {"number": quote.number, "order": order.number},
    )
    return redirect("sales_orders:detail", pk=order.pk)


@require_POST
@staff_view
def quote_convert_to_invoice(request, pk: int):
    quote = _get_quote(request, pk)
    try:
        invoice = services.quote_convert_to_invoice(quote=quote, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
        return redirect("quotes:detail", pk=quote.pk)
    messages.success(
        request,
        _("Quote %(number)s converted to invoice %(invoice)s.")
        % {"number": quote.number, "invoice": invoice.number},
    )
    return redirect("invoices:detail", pk=invoice.pk)


@require_POST
@staff_view
def quote_delete(request, pk: int):
    quote = _get_quote(request, pk)
    try:
        services.quote_delete(quote=quote)
    except SalesError as error:
        messages.error(request, error.message)
        return redirect("quotes:detail", pk=quote.pk)
    messages.success(request, _("Quote %(number)s deleted.") % {"number": quote.number})
    return redirect("quotes:list")


@staff_view
def quote_pdf(request, pk: int):
    from portico.sales.pdf import document_pdf

    try:
        quote = selectors_quotes.quote_detail(organization=request.organization, pk=pk)
    except Quote.DoesNotExist as error:
        raise Http404 from error
    return pdf_response(
        document_pdf(document=quote, language=request.LANGUAGE_CODE), filename=f"{quote.number}.pdf"
    )


@staff_view
def quote_certificate(request, pk: int):
    """The certificate of acceptance of a quote the customer accepted in the portal."""
    from portico.sales.pdf import certificate_pdf

    quote = _get_quote(request, pk)
    decision = quote_decision_latest(quote=quote)
    if decision is None or decision.kind != QuoteDecisionKind.ACCEPTED:
        raise Http404("This quote was not accepted in the portal.")
    return pdf_response(
        certificate_pdf(quote=quote, decision=decision, language=request.LANGUAGE_CODE),
        filename=f"{quote.number}-certificate.pdf",
    )
