"""PLACEHOLDER while this area is built (replaced by the real views)."""

from django.http import Http404


def details(request, portal_name, **kwargs):
    raise Http404


def details_edit(request, portal_name, **kwargs):
    raise Http404


def contact_create(request, portal_name, **kwargs):
    raise Http404


def contact_edit(request, portal_name, **kwargs):
    raise Http404


def security(request, portal_name, **kwargs):
    raise Http404


def sign_out_everywhere(request, portal_name, **kwargs):
    raise Http404


def language_set(request, portal_name, **kwargs):
    raise Http404
