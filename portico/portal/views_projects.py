"""The customer's projects and timesheets, and approving time in the portal.

Projects come through ``portal_documents(model=Project)`` (the contact's
customer and organisation only); another customer's project is a 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portico.portal import views_comments
from portico.portal.access import portal_view
from portico.portal.account_services import TimeApprovalError, portal_time_entries_approve
from portico.portal.forms_account import TimeApprovalForm
from portico.portal.selectors import portal_document_get, show_void_documents
from portico.portal.selectors_overview import portal_project_list, portal_time_entries
from portico.portal_access.models import PortalModule
from portico.projects.models import Project
from portico.projects.selectors import project_hours

PAGE_SIZE = 25


def _project(request, pk: int) -> Project:
    try:
        return portal_document_get(access=request.portal_access, model=Project, pk=pk)
    except Project.DoesNotExist as error:
        raise Http404("No such project.") from error


@portal_view(module=PortalModule.PROJECTS)
def project_list(request, portal_name: str):
    page = Paginator(portal_project_list(access=request.portal_access), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/projects/project_list.html", {"page": page})


def _detail_context(request, project: Project, *, form: TimeApprovalForm | None = None) -> dict:
    page = Paginator(portal_time_entries(project=project), PAGE_SIZE).get_page(
        request.GET.get("page") or request.POST.get("page")
    )
    entries = list(page.object_list)
    show_void = show_void_documents(request.portal_access)
    invoices_shown = PortalModule.INVOICES in request.portal_modules
    for entry in entries:
        invoice = entry.invoice if entry.invoice_id else None
        entry.portal_invoice = (
            invoice
            if invoices_shown
            and invoice is not None
            and invoice.status != "draft"
            and (show_void or invoice.status != "void")
            else None
        )
    return {
        "project": project,
        "hours": project_hours(project=project),
        "page": page,
        "entries": entries,
        "approvable": [entry.pk for entry in entries if not entry.invoiced],
        "pending_approval": [
            entry.pk for entry in entries if not entry.invoiced and not entry.approved_by_customer
        ],
        "form": form or TimeApprovalForm(),
        **views_comments.comments_context(request=request, document=project),
    }


@portal_view(module=PortalModule.PROJECTS)
def project_detail(request, portal_name: str, pk: int):
    project = _project(request, pk)
    return render(request, "portal/projects/project_detail.html", _detail_context(request, project))


@require_POST
@portal_view(module=PortalModule.PROJECTS)
def time_entries_approve(request, portal_name: str, pk: int):
    project = _project(request, pk)
    form = TimeApprovalForm(request.POST)
    if form.is_valid():
        try:
            changed = portal_time_entries_approve(
                access=request.portal_access,
                project=project,
                entry_ids=form.cleaned_data["entries"],
            )
        except TimeApprovalError as error:
            form.add_error("entries", error.message)
        else:
            if changed:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s time entry approved. Thank you!",
                        "%(count)s time entries approved. Thank you!",
                        changed,
                    )
                    % {"count": changed},
                )
            else:
                messages.info(request, _("These time entries were approved already."))
            url = reverse("portal:project_detail", kwargs={"portal_name": portal_name, "pk": pk})
            page = request.POST.get("page", "")
            return redirect(f"{url}?page={page}" if page.isdigit() else url)
    return render(
        request,
        "portal/projects/project_detail.html",
        _detail_context(request, project, form=form),
        status=422,
    )
