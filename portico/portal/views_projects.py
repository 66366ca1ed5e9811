"""PLACEHOLDER while this area is built (replaced by the real views)."""

from django.http import Http404


def project_list(request, portal_name, **kwargs):
    raise Http404


def project_detail(request, portal_name, **kwargs):
    raise Http404


def time_entries_approve(request, portal_name, **kwargs):
    raise Http404
