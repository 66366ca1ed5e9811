"""The contact's statement of account: choose a period, read it, download the PDF.

The statement is ``portico.payments.selectors.statement_for_customer`` (the
staff side's), for the contact's own customer and organisation only; the PDF is
``portico.sales.pdf.statement_pdf`` in the contact's portal language.
"""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from portico.core.pdf import pdf_response
from portico.payments.forms import StatementForm
from portico.payments.selectors import statement_for_customer
from portico.portal.access import portal_view
from portico.portal.forms_account import PRESET_ALL, PRESETS, preset_period
from portico.portal.selectors_overview import statement_first_date
from portico.portal_access.models import PortalModule
from portico.sales import pdf


def _statement(request):
    """The period asked for (a preset, or from/to dates) and its statement
    (None when the dates are not valid: the form says why)."""
    access = request.portal_access
    preset = request.GET.get("period", "")
    if "date_from" in request.GET or "date_to" in request.GET:
        form = StatementForm(request.GET)
        preset = ""
    else:
        if preset not in dict(PRESETS):
            preset = PRESETS[0][0]
        first_date = statement_first_date(access=access) if preset == PRESET_ALL else None
        start, end = preset_period(preset, first_date=first_date)
        form = StatementForm(initial={"date_from": start, "date_to": end})
    if form.is_bound:
        if not form.is_valid():
            return form, preset, None
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    statement = statement_for_customer(
        organization=request.organization,
        customer=access.customer,
        date_from=start,
        date_to=end,
    )
    return form, preset, statement


@portal_view(module=PortalModule.STATEMENT)
def statement(request, portal_name: str):
    form, preset, statement = _statement(request)
    context = {
        "form": form,
        "preset": preset,
        "presets": PRESETS,
        "statement": statement,
        "pdf_query": urlencode(
            {"date_from": statement.date_from.isoformat(), "date_to": statement.date_to.isoformat()}
        )
        if statement
        else "",
    }
    return render(
        request, "portal/statement/statement.html", context, status=200 if statement else 422
    )


@portal_view(module=PortalModule.STATEMENT)
def statement_pdf(request, portal_name: str):
    form, preset, statement = _statement(request)
    if statement is None:
        url = reverse("portal:statement", kwargs={"portal_name": portal_name})
        return redirect(f"{url}?{request.GET.urlencode()}")
    filename = f"statement-{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}.pdf"
    language = request.portal_access.effective_language
    return pdf_response(
        pdf.statement_pdf(statement=statement, language=language), filename=filename
    )
