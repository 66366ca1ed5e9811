"""PLACEHOLDER while online payment is built (replaced by the real views)."""

from django.http import Http404


def card(request, portal_name, **kwargs):
    raise Http404
