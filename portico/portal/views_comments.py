"""PLACEHOLDER while this area is built (replaced by the real views)."""

from django.http import Http404


def quote_comment(request, portal_name, **kwargs):
    raise Http404


def sales_order_comment(request, portal_name, **kwargs):
    raise Http404


def invoice_comment(request, portal_name, **kwargs):
    raise Http404


def project_comment(request, portal_name, **kwargs):
    raise Http404


def attachment_download(request, portal_name, **kwargs):
    raise Http404


def comments_context(*, request, document) -> dict:
    """Context for portal/comments/_thread.html on a document's or project's page."""
    return {}
