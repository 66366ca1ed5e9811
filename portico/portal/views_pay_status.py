"""PLACEHOLDER while online payment is built (replaced by the real views)."""

from django.http import Http404


def checkout_status(request, portal_name, **kwargs):
    raise Http404


def checkout_cancel(request, portal_name, **kwargs):
    raise Http404
