"""PLACEHOLDER while this area is built (replaced by the real views)."""

from django.http import Http404


def quote_list(request, portal_name, **kwargs):
    raise Http404


def quote_detail(request, portal_name, **kwargs):
    raise Http404


def quote_pdf(request, portal_name, **kwargs):
    raise Http404


def sales_order_list(request, portal_name, **kwargs):
    raise Http404


def sales_order_detail(request, portal_name, **kwargs):
    raise Http404


def sales_order_pdf(request, portal_name, **kwargs):
    raise Http404


def invoice_list(request, portal_name, **kwargs):
    raise Http404


def invoice_detail(request, portal_name, **kwargs):
    raise Http404


def invoice_pdf(request, portal_name, **kwargs):
    raise Http404


def payment_list(request, portal_name, **kwargs):
    raise Http404


def payment_detail(request, portal_name, **kwargs):
    raise Http404


def payment_pdf(request, portal_name, **kwargs):
    raise Http404


def credit_note_list(request, portal_name, **kwargs):
    raise Http404


def credit_note_detail(request, portal_name, **kwargs):
    raise Http404


def credit_note_pdf(request, portal_name, **kwargs):
    raise Http404
