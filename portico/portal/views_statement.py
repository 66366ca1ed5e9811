"""PLACEHOLDER while this area is built (replaced by the real views)."""

from django.http import Http404


def statement(request, portal_name, **kwargs):
    raise Http404


def statement_pdf(request, portal_name, **kwargs):
    raise Http404
