"""Quote decisions in the portal: accept (full name + terms), decline (reason),
and the certificate of acceptance.

The panel on the quote's page (``portal/quotes/_decision.html``) gets its
context from ``decision_panel_context``; the quote page itself lives in
``views_documents``. The form carries the SHA-256 of the revision the page
shows, so an acceptance is bound to what the contact read.
"""

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from portico.core.pdf import pdf_response
from portico.portal.access import portal_view
from portico.portal.selectors import portal_document_get
from portico.portal_access.models import PortalModule
from portico.sales.models import Quote, QuoteDecision, QuoteDecisionKind, QuoteStatus
from portico.sales.services.quote_decisions import (
    REASON_MAX_LENGTH,
    SIGNER_NAME_MAX_LENGTH,
    QuoteDecisionError,
    QuoteNotDecidableError,
    QuoteRevisionChangedError,
    quote_accept_in_portal,
    quote_current_content_hash,
    quote_decision_latest,
    quote_decline_in_portal,
    quote_not_decidable_message,
)

# What the contact typed when a decision was refused for a field, kept for one
# page view so the form shows it again with the error.
SESSION_FORM_KEY = "portal_quote_decision_form"
# Kept so the contact can shorten what they typed; anything longer is cut.
KEPT_INPUT_LENGTH = 10_000


def _quote_or_404(request, pk: int) -> Quote:
    try:
        return portal_document_get(access=request.portal_access, model=Quote, pk=pk)
    except Quote.DoesNotExist as error:
        raise Http404("No such quote.") from error


def _quote_url(request, quote_id: int, anchor: str = "") -> str:
    url = reverse(
        "portal:quote_detail",
        kwargs={"portal_name": request.organization.portal_name, "pk": quote_id},
    )
    return f"{url}#{anchor}" if anchor else url


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]


def _keep_form(request, *, quote_id: int, form: str, values: dict, error: QuoteDecisionError):
    request.session[SESSION_FORM_KEY] = {
        "quote": quote_id,
        "form": form,
        "values": values,
        "errors": {error.field: error.message},
    }


def _pop_kept_form(request, quote_id: int) -> dict:
    kept = request.session.get(SESSION_FORM_KEY)
    if not kept:
        return {}
    del request.session[SESSION_FORM_KEY]
    if kept.get("quote") != quote_id:
        return {}
    return kept


def decision_panel_context(*, request, quote) -> dict:
    """Context for portal/quotes/_decision.html on the quote's page (views_documents).

    ``decision_state`` is "open" (the forms), "accepted" / "declined" (a
    decision made in the portal), or "closed" (decided by staff, invoiced or
    expired: ``decision_closed_message`` says which).
    """
    portal_name = request.organization.portal_name
    kept_form = _pop_kept_form(request, quote.pk)
    decision = quote_decision_latest(quote=quote) if quote.status != QuoteStatus.SENT else None
    context = {
        "decision_quote": quote,
        "decision": decision,
        "decision_closed_message": "",
        "decision_form": {},
        "decision_name_max_length": SIGNER_NAME_MAX_LENGTH,
        "decision_reason_max_length": REASON_MAX_LENGTH,
    }
    if decision is not None:
        context["decision_state"] = decision.kind
        if decision.kind == QuoteDecisionKind.ACCEPTED:
            context["decision_certificate_url"] = reverse(
                "portal:quote_certificate", kwargs={"portal_name": portal_name, "pk": quote.pk}
            )
        if quote.status == QuoteStatus.INVOICED:
            context["decision_closed_message"] = _("This quote has since been invoiced.")
        return context
    refusal = quote_not_decidable_message(quote)
    if refusal is not None:
        context["decision_state"] = "closed"
        context["decision_closed_message"] = refusal
        context["decision_expired"] = quote.display_status == QuoteStatus.EXPIRED
        return context
    context.update(
        decision_state="open",
        decision_content_hash=quote_current_content_hash(quote=quote),
        decision_revision=max(quote.revision, 1),
        decision_accept_url=reverse(
            "portal:quote_accept", kwargs={"portal_name": portal_name, "pk": quote.pk}
        ),
        decision_decline_url=reverse(
            "portal:quote_decline", kwargs={"portal_name": portal_name, "pk": quote.pk}
        ),
        decision_form=kept_form,
    )
    return context


def _decide(request, pk: int, *, form: str):
    """Run the accept or decline service for the quote and say how it went."""
    quote = _quote_or_404(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    content_hash = request.POST.get("content_hash", "")
    try:
        if form == "accept":
            values = {
                "signer_name": request.POST.get("signer_name", "")[:KEPT_INPUT_LENGTH],
                "terms_accepted": request.POST.get("terms_accepted") in ("on", "1", "true", "yes"),
            }
            quote_accept_in_portal(
                access=request.portal_access,
                quote_id=quote.pk,
                content_hash=content_hash,
                ip_address=_client_ip(request),
                user_agent=_user_agent(request),
                **values,
            )
            messages.success(
                request,
                _(
                    "Thank you: you accepted quote %(number)s. "
                    "Your certificate of acceptance is ready to download."
                )
                % {"number": quote.number},
            )
        else:
            values = {"reason": request.POST.get("reason", "")[:KEPT_INPUT_LENGTH]}
            quote_decline_in_portal(
                access=request.portal_access,
                quote_id=quote.pk,
                content_hash=content_hash,
                ip_address=_client_ip(request),
                user_agent=_user_agent(request),
                **values,
            )
            messages.success(
                request,
                _("You declined quote %(number)s. %(organization)s has been told why.")
                % {"number": quote.number, "organization": request.organization.name},
            )
    except Quote.DoesNotExist as error:
        raise Http404("No such quote.") from error
    except QuoteRevisionChangedError as error:
        messages.warning(request, error.message)
        return redirect(_quote_url(request, quote.pk))
    except QuoteNotDecidableError as error:
        messages.error(request, error.message)
        return redirect(_quote_url(request, quote.pk))
    except QuoteDecisionError as error:
        if error.field:
            _keep_form(request, quote_id=quote.pk, form=form, values=values, error=error)
            messages.error(request, error.message)
            return redirect(_quote_url(request, quote.pk, anchor="decision"))
        messages.error(request, error.message)
        return redirect(_quote_url(request, quote.pk))
    return redirect(_quote_url(request, quote.pk))


@portal_view(module=PortalModule.QUOTES)
def quote_accept(request, portal_name, pk: int):
    return _decide(request, pk, form="accept")


@portal_view(module=PortalModule.QUOTES)
def quote_decline(request, portal_name, pk: int):
    return _decide(request, pk, form="decline")


@portal_view(module=PortalModule.QUOTES)
def quote_certificate(request, portal_name, pk: int):
    """The certificate of acceptance of a quote accepted in the portal (404 otherwise)."""
    from portico.sales.pdf import certificate_pdf

    quote = _quote_or_404(request, pk)
    decision = (
        QuoteDecision.objects.filter(quote_id=quote.pk, kind=QuoteDecisionKind.ACCEPTED)
        .select_related("contact")
        .order_by("-decided_at", "-id")
        .first()
    )
    if decision is None:
        raise Http404("This quote was not accepted in the portal.")
    pdf = certificate_pdf(
        quote=quote, decision=decision, language=request.portal_access.effective_language
    )
    return pdf_response(pdf, filename=f"{quote.number}-certificate.pdf")
