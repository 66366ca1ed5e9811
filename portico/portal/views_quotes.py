"""PLACEHOLDER while this area is built (replaced by the real views)."""

from django.http import Http404


def quote_accept(request, portal_name, **kwargs):
    raise Http404


def quote_decline(request, portal_name, **kwargs):
    raise Http404


def quote_certificate(request, portal_name, **kwargs):
    raise Http404


def decision_panel_context(*, request, quote) -> dict:
    """Context for portal/quotes/_decision.html on the quote's page (views_documents)."""
    return {}
