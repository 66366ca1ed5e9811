"""The new/edit page every sales document shares: header form + lines.

Each document type's view checks that the document may be edited, builds
its form, and passes a ``save`` callable that calls its service and returns
the saved document with the message to show.
"""

from collections.abc import Callable

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from portico.sales.forms import DocumentForm, line_formset
from portico.sales.services.common import LineData, SalesError


def currency_digits(currency: str) -> int:
    """Decimal places the lines' live totals show (2 before a customer is chosen)."""
    return get_currency_precision(currency) if currency else 2


def document_form_page(
    request,
    *,
    document,
    form: DocumentForm,
    save: Callable[[list[LineData]], tuple[object, str]],
    template: str,
    context_name: str,
    detail_url: str,
) -> HttpResponse:
    """Validate header and lines, save through ``save`` (which raises SalesError
    for what only the service can check), then go to the document; otherwise
    show the page again with the errors (422)."""
    posted = request.method == "POST"
    formset = line_formset(
        request.POST if posted else None, organization=request.organization, document=document
    )
    if posted and form.is_valid() and formset.is_valid():
        try:
            document, message = save(formset.lines())
        except SalesError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, message)
            return redirect(detail_url, pk=document.pk)
    currency = document.currency if document else getattr(form.chosen_customer, "currency", "")
    return render(
        request,
        template,
        {
            "form": form,
            "formset": formset,
            context_name: document,
            "currency_digits": currency_digits(currency),
        },
        status=422 if posted else 200,
    )
