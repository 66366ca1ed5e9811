"""Staff pages for payments received and customers' statements of account."""

from urllib.parse import urlencode

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.core.money import format_money, quantize_money
from portico.customers.models import Customer
from portico.online_payments.provider_links import provider_payment_url
from portico.payments import refund_services, selectors, services
from portico.payments.forms import InvoiceAmountsForm, PaymentForm, RefundForm, StatementForm
from portico.payments.models import Payment, PaymentMode
from portico.sales.history import history_of
from portico.sales.models import Invoice
from portico.sales.selectors import DEFAULT_SORT
from portico.sales.services.common import SalesError

PAGE_SIZE = 50
RESULTS_TARGET = "payment-results"
# Service errors shown under their field; others above the form.
PAYMENT_FIELDS = ("customer", "amount", "date", "mode")


def _get_payment(request, pk: int) -> Payment:
    try:
        return selectors.payment_get(organization=request.organization, payment_id=pk)
    except Payment.DoesNotExist as error:
        raise Http404 from error


def _get_customer(request, customer_id) -> Customer | None:
    if not str(customer_id or "").isdigit():
        return None
    return Customer.objects.filter(organization=request.organization, pk=int(customer_id)).first()


def currency_digits(currency: str) -> int:
    """Decimals the currency's amounts have (JPY 0, EUR 2), for the forms' script."""
    return get_currency_precision(currency) if currency else 2


def _list_query(query) -> str:
    kept = {
        name: value
        for name, value in query.items()
        if value and name != "page" and not (name == "sort" and value == DEFAULT_SORT)
    }
    return urlencode(kept)


@staff_view
def payment_list(request):
    organization = request.organization
    filters = selectors.PaymentFilters.from_query(request.GET)
    payments = selectors.payment_list(organization=organization, filters=filters)
    page = Paginator(payments, PAGE_SIZE).get_page(request.GET.get("page"))
    customer_id = filters.documents.customer_id
    context = {
        "page": page,
        "filters": filters,
        "mode_choices": PaymentMode.choices,
        "has_payments": bool(page.object_list)
        or selectors.payment_exists(organization=organization),
        "filter_customer": _get_customer(request, customer_id) if customer_id else None,
    }
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        response = render(request, "payments/partials/_payment_results.html", context)
        query = _list_query(request.GET)
        return push_url(response, reverse("payments:list") + (f"?{query}" if query else ""))
    return render(request, "payments/payment_list.html", context)


def _open_invoices(request, customer: Customer | None) -> list[Invoice]:
    if customer is None:
        return []
    return selectors.open_invoices_for_customer(
        organization=request.organization, customer=customer
    )


def _query_date(value: str | None):
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _prefill(request, customer: Customer | None, invoices: list[Invoice]) -> tuple[dict, dict]:
    """Initial values from the query string: ``?customer=…&invoice=…`` (from an
    invoice's "Record payment") or the fields of a JavaScript-free reload."""
    query = request.GET
    initial = {
        "date": _query_date(query.get("date")) or timezone.localdate(),
        "mode": query.get("mode") if query.get("mode") in PaymentMode.values else None,
        "reference": query.get("reference", "")[:100],
        "notes": query.get("notes", "")[:2000],
        "amount": query.get("amount") or None,
        "keep_excess_as_credit": bool(query.get("keep_excess_as_credit")),
    }
    if customer is not None:
        initial["customer"] = customer.pk
    amounts = {}
    invoice_id = query.get("invoice", "")
    chosen = next((invoice for invoice in invoices if str(invoice.pk) == invoice_id), None)
    if chosen is not None:
        balance = quantize_money(chosen.balance_due, chosen.currency)
        amounts[f"apply_{chosen.pk}"] = balance
        initial["amount"] = initial["amount"] or balance
    return {name: value for name, value in initial.items() if value is not None}, amounts


@staff_view
def payment_create(request):
    organization = request.organization
    source = request.POST if request.method == "POST" else request.GET
    customer = _get_customer(request, source.get("customer"))
    invoices = _open_invoices(request, customer)
    if request.method == "POST":
        form = PaymentForm(request.POST, organization=organization)
        amounts_form = InvoiceAmountsForm(request.POST, invoices=invoices)
        if form.is_valid() and amounts_form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.payment_record(
                    organization=organization,
                    customer_id=data["customer"].pk,
                    amount=data["amount"],
                    date=data["date"],
                    mode=data["mode"],
                    reference=data["reference"],
                    notes=data["notes"],
                    allocations=amounts_form.applications(),
                    keep_excess_as_credit=data["keep_excess_as_credit"],
                    actor=request.user,
                )
            except SalesError as error:
                if error.field == "invoices":
                    amounts_form.add_error(None, error.message)
                elif error.field in PAYMENT_FIELDS:
                    form.add_error(error.field, error.message)
                else:  # say, the excess needing the credit box: shown on top
                    form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Payment %(number)s of %(amount)s recorded.")
                    % {
                        "number": payment.number,
                        "amount": format_money(payment.amount, payment.currency),
                    },
                )
                return redirect("payments:detail", pk=payment.pk)
        status = 422
    else:
        initial, amounts = _prefill(request, customer, invoices)
        form = PaymentForm(initial=initial, organization=organization)
        amounts_form = InvoiceAmountsForm(initial=amounts, invoices=invoices)
        status = 200
    return render(
        request,
        "payments/payment_form.html",
        {
            "form": form,
            "amounts_form": amounts_form,
            "customer": form.chosen_customer,
            "currency": form.chosen_customer.currency if form.chosen_customer else "",
            "currency_digits": currency_digits(
                form.chosen_customer.currency if form.chosen_customer else ""
            ),
        },
        status=status,
    )


@staff_view
def payment_open_invoices(request):
    """The record-payment form's table of open invoices for the chosen customer (htmx)."""
    customer = _get_customer(request, request.GET.get("customer"))
    invoices = _open_invoices(request, customer)
    return render(
        request,
        "payments/partials/_open_invoices.html",
        {
            "amounts_form": InvoiceAmountsForm(invoices=invoices),
            "customer": customer,
            "currency": customer.currency if customer else "",
            "currency_digits": currency_digits(customer.currency if customer else ""),
        },
    )


@staff_view
def payment_detail(request, pk: int):
    payment = _get_payment(request, pk)
    checkout = getattr(payment, "checkout", None)
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "checkout": checkout,
            "provider_url": provider_payment_url(
                organization=request.organization, payment=payment, checkout=checkout
            )
            if payment.provider
            else "",
            "history": history_of(document=payment),
        },
    )


@staff_view
def payment_pdf(request, pk: int):
    from portico.core.pdf import pdf_response
    from portico.sales.pdf import document_pdf

    payment = _get_payment(request, pk)
    return pdf_response(
        document_pdf(document=payment, language=request.LANGUAGE_CODE),
        filename=f"{payment.number}.pdf",
    )


@require_POST
@staff_view
def payment_delete(request, pk: int):
    payment = _get_payment(request, pk)
    try:
        services.payment_delete(payment=payment, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
        return redirect("payments:detail", pk=payment.pk)
    messages.success(request, _("Payment %(number)s deleted.") % {"number": payment.number})
    return redirect("payments:list")


@staff_view
def payment_apply_credit(request, pk: int):
    """Apply a payment's unused amount to other open invoices of its customer."""
    payment = _get_payment(request, pk)
    if payment.unused_amount <= 0:
        messages.info(request, _("All of this payment is applied to invoices."))
        return redirect("payments:detail", pk=payment.pk)
    invoices = selectors.open_invoices_for_customer(
        organization=request.organization, customer=payment.customer, currency=payment.currency
    )
    form = InvoiceAmountsForm(request.POST or None, invoices=invoices)
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_apply_credit(
                organization=request.organization,
                payment_id=payment.pk,
                allocations=form.applications(),
                actor=request.user,
            )
        except SalesError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Credit applied."))
            return redirect("payments:detail", pk=payment.pk)
    return render(
        request,
        "payments/payment_apply_credit.html",
        {
            "payment": payment,
            "amounts_form": form,
            "currency": payment.currency,
            "currency_digits": currency_digits(payment.currency),
        },
        status=422 if request.method == "POST" else 200,
    )


@staff_view
def payment_refund(request, pk: int):
    """Record a refund out of the payment's unused credit; beyond it, the page
    explains and offers a credit note for each invoice the payment paid."""
    payment = _get_payment(request, pk)
    if request.method == "POST":
        form = RefundForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                refund_services.payment_refund_record(
                    organization=request.organization,
                    payment_id=payment.pk,
                    amount=data["amount"],
                    date=data["date"],
                    reference=data["reference"],
                    notes=data["notes"],
                    actor=request.user,
                )
            except SalesError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Refund recorded."))
                return redirect("payments:detail", pk=payment.pk)
        status = 422
    else:
        initial = {"date": timezone.localdate()}
        if payment.unused_amount > 0:
            initial["amount"] = quantize_money(payment.unused_amount, payment.currency)
        form = RefundForm(initial=initial)
        status = 200
    return render(
        request,
        "payments/payment_refund.html",
        {"payment": payment, "form": form, "currency_digits": currency_digits(payment.currency)},
        status=status,
    )


# --- statement of account ---------------------------------------------------------


def _statement_pdf_function():
    """``portico.sales.pdf.statement_pdf``, when the PDF module provides it."""
    try:
        from portico.sales import pdf
    except ImportError:
        return None
    return getattr(pdf, "statement_pdf", None)


def _statement(request, customer_id: int):
    customer = _get_customer(request, customer_id)
    if customer is None:
        raise Http404
    start, end = StatementForm.this_month()
    form = StatementForm(
        request.GET if "date_from" in request.GET or "date_to" in request.GET else None,
        initial={"date_from": start, "date_to": end},
    )
    statement = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    if not form.is_bound or form.is_valid():
        statement = selectors.statement_for_customer(
            organization=request.organization, customer=customer, date_from=start, date_to=end
        )
    return customer, form, statement


@staff_view
def customer_statement(request, customer_id: int):
    customer, form, statement = _statement(request, customer_id)
    has_pdf = _statement_pdf_function() is not None
    return render(
        request,
        "payments/statement.html",
        {
            "customer": customer,
            "form": form,
            "statement": statement,
            "pdf_query": urlencode({"date_from": statement.date_from, "date_to": statement.date_to})
            if statement and has_pdf
            else "",
        },
        status=200 if statement else 422,
    )


@staff_view
def customer_statement_pdf(request, customer_id: int):
    from portico.core.pdf import pdf_response

    statement_pdf = _statement_pdf_function()
    if statement_pdf is None:
        raise Http404
    customer, form, statement = _statement(request, customer_id)
    if statement is None:
        return redirect(
            reverse("customers:statement", args=[customer.pk]) + "?" + request.GET.urlencode()
        )
    filename = f"statement-{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}.pdf"
    return pdf_response(
        statement_pdf(statement=statement, language=request.LANGUAGE_CODE), filename=filename
    )
