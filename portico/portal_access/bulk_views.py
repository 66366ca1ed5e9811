"""Customers → More → Enable portal: start the job, show its progress."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portico.accounts.decorators import staff_view
from portico.customers.selectors import CustomerFilters
from portico.portal_access import bulk
from portico.portal_access.bulk_selectors import bulk_invite_get
from portico.portal_access.models import BulkInvite, BulkInviteStatus


def enable_portal_for_selection(
    request, *, ids: list[int], all_matching: bool, filters: CustomerFilters
):
    """The customer list's bulk action "enable_portal" (called by
    ``customers.views.customer_bulk_action``, which checked staff and POST):
    records the job and answers at once with its progress page."""
    try:
        job = bulk.bulk_invite_start(
            organization=request.organization,
            actor=request.user,
            ids=ids,
            all_matching=all_matching,
            filters=filters,
        )
    except bulk.BulkInviteError as error:
        messages.error(request, error.message)
        query = filters.as_query()
        return redirect(reverse("customers:list") + (f"?{query}" if query else ""))
    return redirect("portal_access:bulk_progress", bulk_invite_id=job.pk)


def _get_job(request, bulk_invite_id: int) -> BulkInvite:
    try:
        return bulk_invite_get(organization=request.organization, bulk_invite_id=bulk_invite_id)
    except BulkInvite.DoesNotExist as error:
        raise Http404 from error


@staff_view
def bulk_invite_progress(request, bulk_invite_id: int):
    """Processed / total until done, then the result; htmx polls the partial
    every second, without JavaScript the page refreshes itself."""
    job = _get_job(request, bulk_invite_id)
    context = {
        "job": job,
        "finished": job.status in {BulkInviteStatus.DONE, BulkInviteStatus.FAILED},
        "percent": int(job.processed * 100 / job.total) if job.total else 100,
    }
    if request.htmx:
        return render(request, "portal_access/partials/_bulk_progress.html", context)
    return render(request, "portal_access/bulk_progress.html", context)


@require_POST
@staff_view
def bulk_invite_resume(request, bulk_invite_id: int):
    job = _get_job(request, bulk_invite_id)
    try:
        bulk.bulk_invite_resume(organization=request.organization, bulk_invite_id=job.pk)
    except bulk.BulkInviteError as error:
        messages.error(request, error.message)
    return redirect("portal_access:bulk_progress", bulk_invite_id=job.pk)
