from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.comments.selectors import staff_thread_context
from portico.projects import selectors, services
from portico.projects.forms import InvoiceHoursForm, ProjectForm, TimeEntryForm
from portico.projects.models import Project, ProjectStatus, TimeEntry

PAGE_SIZE = 50


def _get_project(request, project_id: int) -> Project:
    try:
        return selectors.project_get(organization=request.organization, project_id=project_id)
    except Project.DoesNotExist as error:
        raise Http404 from error


def _get_entry(request, project: Project, entry_id: int) -> TimeEntry:
    try:
        return selectors.time_entry_get(project=project, entry_id=entry_id)
    except TimeEntry.DoesNotExist as error:
        raise Http404 from error


def _add_error(form, error: services.ProjectError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


# --- projects ---------------------------------------------------------------------


@staff_view
def project_list(request):
    filters = selectors.ProjectFilters.from_query(request.GET)
    projects = selectors.project_list(organization=request.organization, filters=filters)
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "status_choices": ProjectStatus.choices,
        "filter_customer": selectors.customer_for_filter(
            organization=request.organization, customer_id=filters.customer_id
        ),
        "has_projects": bool(page.object_list)
        or selectors.project_exists(organization=request.organization),
    }
    if request.htmx and request.htmx.target == "project-results":
        response = render(request, "projects/partials/_project_results.html", context)
        query = filters.as_query()
        return push_url(response, reverse("projects:list") + (f"?{query}" if query else ""))
    return render(request, "projects/project_list.html", context)


def _project_form_page(request, project: Project | None):
    initial = {}
    if project is not None:
        initial = {
            "customer": project.customer_id,
            "name": project.name,
            "code": project.code,
            "description": project.description,
            "hourly_rate": project.hourly_rate.normalize(),
            "status": project.status,
        }
    elif request.GET.get("customer", "").isdigit():
        initial = {"customer": int(request.GET["customer"])}
    form = ProjectForm(request.POST or None, initial=initial, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            if project is None:
                project = services.project_create(
                    organization=request.organization, data=form.project_data()
                )
                messages.success(request, _("Project %(name)s created.") % {"name": project.name})
            else:
                project = services.project_update(project=project, data=form.project_data())
                messages.success(request, _("Project %(name)s saved.") % {"name": project.name})
        except services.ProjectError as error:
            _add_error(form, error)
        else:
            return redirect("projects:detail", project_id=project.pk)
    return render(
        request,
        "projects/project_form.html",
        {"form": form, "project": project},
        status=422 if request.method == "POST" else 200,
    )


@staff_view
def project_create(request):
    return _project_form_page(request, None)


@staff_view
def project_edit(request, project_id: int):
    return _project_form_page(request, _get_project(request, project_id))


@require_POST
@staff_view
def project_delete(request, project_id: int):
    project = _get_project(request, project_id)
    try:
        services.project_delete(project=project)
    except services.ProjectError as error:
        messages.error(request, error.message)
        return redirect("projects:detail", project_id=project.pk)
    messages.success(request, _("Project %(name)s deleted.") % {"name": project.name})
    return redirect("projects:list")


@staff_view
def project_detail(request, project_id: int):
    project = _get_project(request, project_id)
    filters = selectors.TimeEntryFilters.from_query(request.GET)
    entries = selectors.time_entry_list(project=project, filters=filters)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "page": page,
        "filters": filters,
        "hours": selectors.project_hours(project=project),
        "members": selectors.staff_members(organization=request.organization),
        **staff_thread_context(request, project),
    }
    if request.htmx and request.htmx.target == "time-entry-results":
        return render(request, "projects/partials/_time_entry_results.html", context)
    return render(request, "projects/project_detail.html", context)


@staff_view
def customer_projects(request, customer_id: int):
    """The "Projects" block of a customer's overview (loaded by htmx)."""
    customer = selectors.customer_for_filter(
        organization=request.organization, customer_id=customer_id
    )
    if customer is None:
        raise Http404
    projects, count = selectors.customer_projects(
        organization=request.organization, customer_id=customer.pk
    )
    return render(
        request,
        "projects/partials/_customer_projects.html",
        {"customer": customer, "projects": projects, "count": count},
    )


# --- time entries ------------------------------------------------------------------


def _entry_form_page(request, project: Project, entry: TimeEntry | None):
    if entry is not None:
        initial = {
            "date": entry.date,
            "user": entry.user_id,
            "task": entry.task,
            "hours": entry.hours.normalize(),
            "notes": entry.notes,
            "billable": entry.billable,
        }
    else:
        initial = {"user": request.user.pk, "billable": True}
    form = TimeEntryForm(
        request.POST or None,
        initial=initial,
        organization=request.organization,
        current_user=entry.user if entry else None,
    )
    if entry is not None and entry.invoiced:
        messages.error(request, _("This time has been invoiced; it can no longer be changed."))
        return redirect("projects:detail", project_id=project.pk)
    if request.method == "POST" and form.is_valid():
        try:
            if entry is None:
                services.time_entry_create(project=project, data=form.entry_data())
                messages.success(request, _("Time logged."))
            else:
                services.time_entry_update(entry=entry, data=form.entry_data())
                messages.success(request, _("Time entry saved."))
        except services.ProjectError as error:
            _add_error(form, error)
        else:
            if entry is None and "save_and_new" in request.POST:
                return redirect("projects:time_create", project_id=project.pk)
            return redirect("projects:detail", project_id=project.pk)
    return render(
        request,
        "projects/time_entry_form.html",
        {"form": form, "project": project, "entry": entry},
        status=422 if request.method == "POST" else 200,
    )


@staff_view
def time_entry_create(request, project_id: int):
    return _entry_form_page(request, _get_project(request, project_id), None)


@staff_view
def time_entry_edit(request, project_id: int, entry_id: int):
    project = _get_project(request, project_id)
    return _entry_form_page(request, project, _get_entry(request, project, entry_id))


@require_POST
@staff_view
def time_entry_delete(request, project_id: int, entry_id: int):
    project = _get_project(request, project_id)
    entry = _get_entry(request, project, entry_id)
    try:
        services.time_entry_delete(entry=entry)
    except services.ProjectError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Time entry deleted."))
    return redirect("projects:detail", project_id=project.pk)


BULK_ACTIONS = {
    "approve": ("approved", True),
    "unapprove": ("approved", False),
    "mark_invoiced": ("invoiced", True),
    "mark_not_invoiced": ("invoiced", False),
}


@require_POST
@staff_view
def time_entries_bulk(request, project_id: int):
    """Approve, or mark as invoiced, the ticked time entries."""
    project = _get_project(request, project_id)
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    action = BULK_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("Choose an action."))
    elif not ids:
        messages.error(request, _("Tick the time entries first."))
    else:
        what, value = action
        try:
            if what == "approved":
                changed = services.time_entries_set_approved(
                    project=project, entry_ids=ids, approved=value
                )
            else:
                changed = services.time_entries_set_invoiced(
                    project=project, entry_ids=ids, invoiced=value
                )
        except services.ProjectError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s time entry updated.", "%(count)s time entries updated.", changed
                )
                % {"count": changed},
            )
    # Back to the same filtered page of entries.
    query = QueryDict(request.POST.get("query", "")[:500]).urlencode()
    url = reverse("projects:detail", args=[project.pk])
    return redirect(url + (f"?{query}" if query else ""))


@staff_view
def project_invoice(request, project_id: int):
    """Create a draft invoice from the project's unbilled hours."""
    project = _get_project(request, project_id)
    form = InvoiceHoursForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.project_invoice_unbilled(
                project=project,
                actor=request.user,
                group_by=form.cleaned_data["group_by"],
                approved_only=form.cleaned_data["approved_only"],
            )
        except services.ProjectError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Draft invoice %(number)s created from the unbilled hours.")
                % {"number": invoice.number},
            )
            try:
                return redirect(reverse("invoices:detail", args=[invoice.pk]))
            except NoReverseMatch:  # pragma: no cover - the invoices app is always there
                return redirect("projects:detail", project_id=project.pk)
    return render(
        request,
        "projects/project_invoice.html",
        {"project": project, "form": form, "hours": selectors.project_hours(project=project)},
        status=422 if request.method == "POST" else 200,
    )
