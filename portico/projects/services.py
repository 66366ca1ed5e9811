"""Projects and time entries: the timesheets customers see, and billing them.

Each function is one complete change in one transaction. Invoiced time is
frozen: it cannot be edited or deleted, so what a customer was billed for
stays what the timesheet shows.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Membership, Organization
from portico.core.errors import PorticoError
from portico.customers.models import Customer
from portico.projects.models import Project, ProjectStatus, TimeEntry
from portico.sales.history import history_record
from portico.sales.models import Invoice, InvoiceLine, InvoiceStatus
from portico.sales.services.common import LineData, SalesError
from portico.sales.services.invoices import InvoiceData, invoice_create

MIN_HOURS = Decimal("0.01")
MAX_HOURS = Decimal(24)


class ProjectError(PorticoError):
    """A project or time-entry change that cannot be made; the message says why."""


@dataclass
class ProjectData:
    customer_id: int
    name: str
    hourly_rate: Decimal
    code: str = ""
    description: str = ""
    status: str = ProjectStatus.ACTIVE


@dataclass
class TimeEntryData:
    date: date
    user_id: int | None
    task: str
    hours: Decimal
    notes: str = ""
    billable: bool = True


# --- projects ------------------------------------------------------------------


def _project_customer(*, organization: Organization, customer_id: int) -> Customer:
    customer = Customer.objects.filter(organization=organization, pk=customer_id).first()
    if customer is None:
        raise ProjectError(_("Choose a customer."), field="customer")
    return customer


def _check_project_data(data: ProjectData) -> None:
    if not data.name.strip():
        raise ProjectError(_("Give the project a name."), field="name")
    if data.hourly_rate is None or data.hourly_rate < 0:
        raise ProjectError(_("The hourly rate cannot be negative."), field="hourly_rate")
    if data.status not in ProjectStatus.values:
        raise ProjectError(_("Choose a status."), field="status")


def project_create(*, organization: Organization, data: ProjectData) -> Project:
    """A project for one customer, its hourly rate in the customer's currency."""
    _check_project_data(data)
    customer = _project_customer(organization=organization, customer_id=data.customer_id)
    return Project.objects.create(
        organization=organization,
        customer=customer,
        name=data.name.strip(),
        code=data.code.strip(),
        description=data.description.strip(),
        hourly_rate=data.hourly_rate,
        currency=customer.currency,
        status=data.status,
    )


def project_update(*, project: Project, data: ProjectData) -> Project:
    """Change a project. Once some of its time is invoiced, it stays with its customer."""
    _check_project_data(data)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if data.customer_id != project.customer_id:
            if project.time_entries.filter(invoiced=True).exists():
                raise ProjectError(
                    _("Time of this project has been invoiced; its customer cannot change."),
                    field="customer",
                )
            customer = _project_customer(
                organization=project.organization, customer_id=data.customer_id
            )
            project.customer = customer
            project.currency = customer.currency
        project.name = data.name.strip()
        project.code = data.code.strip()
        project.description = data.description.strip()
        project.hourly_rate = data.hourly_rate
        project.status = data.status
        project.save()
    return project


def project_delete(*, project: Project) -> None:
    """Delete a project and its time entries, unless some of its time is invoiced."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.time_entries.filter(invoiced=True).exists():
            raise ProjectError(
                _("Time of this project has been invoiced; mark the project completed instead.")
            )
        project.delete()


# --- time entries ----------------------------------------------------------------


def _check_entry_data(
    *, organization: Organization, data: TimeEntryData, kept_user_id: int | None = None
) -> None:
    if not data.task.strip():
        raise ProjectError(_("Say what the time was spent on."), field="task")
    if data.hours is None or not (MIN_HOURS <= data.hours <= MAX_HOURS):
        raise ProjectError(_("Hours must be between 0.01 and 24."), field="hours")
    if data.hours != data.hours.quantize(MIN_HOURS):
        raise ProjectError(_("Hours can have at most two decimals."), field="hours")
    if (
        data.user_id
        and data.user_id != kept_user_id
        and not Membership.objects.filter(organization=organization, user_id=data.user_id).exists()
    ):
        raise ProjectError(_("Choose a member of your organisation."), field="user")


def _check_not_invoiced(entry: TimeEntry) -> None:
    if entry.invoiced:
        raise ProjectError(_("This time has been invoiced; it can no longer be changed."))


def time_entry_create(*, project: Project, data: TimeEntryData) -> TimeEntry:
    """Log time on an active project."""
    _check_entry_data(organization=project.organization, data=data)
    if project.status != ProjectStatus.ACTIVE:
        raise ProjectError(_("This project is completed; reopen it to log time."))
    return TimeEntry.objects.create(
        organization_id=project.organization_id,
        project=project,
        date=data.date,
        user_id=data.user_id,
        task=data.task.strip(),
        hours=data.hours,
        notes=data.notes.strip(),
        billable=data.billable,
    )


def _lock_entry(entry: TimeEntry) -> TimeEntry:
    return TimeEntry.objects.select_for_update().get(pk=entry.pk)


def time_entry_update(*, entry: TimeEntry, data: TimeEntryData) -> TimeEntry:
    with transaction.atomic():
        entry = _lock_entry(entry)
        _check_not_invoiced(entry)
        # Someone who has since left the organisation may stay on their own time.
        _check_entry_data(
            organization=entry.project.organization, data=data, kept_user_id=entry.user_id
        )
        entry.date = data.date
        entry.user_id = data.user_id
        entry.task = data.task.strip()
        entry.hours = data.hours
        entry.notes = data.notes.strip()
        entry.billable = data.billable
        entry.save()
    return entry


def time_entry_delete(*, entry: TimeEntry) -> None:
    with transaction.atomic():
        entry = _lock_entry(entry)
        _check_not_invoiced(entry)
        entry.delete()


def _entries_of(project: Project, entry_ids: list[int]):
    return TimeEntry.objects.filter(
        organization_id=project.organization_id, project=project, pk__in=entry_ids
    )


def time_entries_set_approved(*, project: Project, entry_ids: list[int], approved: bool) -> int:
    """Record that the customer approved (or no longer approves) these entries.

    Staff record an approval given by other means; the portal lets customers
    approve themselves through the same function.
    """
    with transaction.atomic():
        entries = _entries_of(project, entry_ids).select_for_update()
        changed = entries.exclude(approved_by_customer=approved)
        return changed.update(
            approved_by_customer=approved,
            approved_at=timezone.now() if approved else None,
            updated_at=timezone.now(),
        )


def time_entries_set_invoiced(*, project: Project, entry_ids: list[int], invoiced: bool) -> int:
    """Mark entries as invoiced outside Portico (or undo that).

    Time billed by a Portico invoice stays invoiced while that invoice stands;
    it is released only when the invoice is void.
    """
    with transaction.atomic():
        entries = _entries_of(project, entry_ids).select_for_update()
        if invoiced:
            return entries.filter(invoiced=False).update(invoiced=True, updated_at=timezone.now())
        billed = entries.filter(invoiced=True, invoice__isnull=False).exclude(
            invoice__status=InvoiceStatus.VOID
        )
        if billed.exists():
            raise ProjectError(
                _("Some of this time is billed on an invoice that stands; void that invoice first.")
            )
        return entries.filter(invoiced=True).update(
            invoiced=False, invoice=None, updated_at=timezone.now()
        )


# --- billing ---------------------------------------------------------------------


class InvoiceGrouping:
    BY_TASK = "task"
    BY_ENTRY = "entry"
    CHOICES = (BY_TASK, BY_ENTRY)


def project_invoice_unbilled(
    *,
    project: Project,
    actor=None,
    group_by: str = InvoiceGrouping.BY_TASK,
    approved_only: bool = False,
    invoice_date: date | None = None,
) -> Invoice:
    """A draft invoice for the project's billable time not invoiced yet.

    One line per task (hours summed) or per entry, at the project's hourly
    rate; the entries are marked invoiced and linked to the invoice, in the
    same transaction.
    """
    if group_by not in InvoiceGrouping.CHOICES:
        raise ProjectError(_("Choose one line per task or one line per entry."))
    with transaction.atomic():
        project = (
            Project.objects.select_for_update(of=("self",))
            .select_related("customer", "organization")
            .get(pk=project.pk)
        )
        entries = TimeEntry.objects.select_for_update(of=("self",)).filter(
            organization_id=project.organization_id,
            project=project,
            billable=True,
            invoiced=False,
        )
        if approved_only:
            entries = entries.filter(approved_by_customer=True)
        entries = list(entries.select_related("user").order_by("date", "id"))
        if not entries:
            raise ProjectError(
                _("No approved billable time left to invoice.")
                if approved_only
                else _("No billable time left to invoice.")
            )
        lines = _invoice_lines(project, entries, group_by)
        try:
            invoice = invoice_create(
                organization=project.organization,
                data=InvoiceData(
                    customer_id=project.customer_id,
                    currency=project.currency,
                    date=invoice_date or timezone.localdate(),
                    reference=project.code or project.name[:100],
                    lines=lines,
                ),
                actor=actor,
            )
        except SalesError as error:
            raise ProjectError(error.message, field=error.field) from error
        InvoiceLine.objects.filter(document=invoice).update(project=project)
        TimeEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
            invoiced=True, invoice=invoice, updated_at=timezone.now()
        )
        history_record(
            document=invoice,
            kind="created_from",
            actor=actor,
            source=_("project %(name)s") % {"name": project.name},
        )
    return invoice


def _invoice_lines(project: Project, entries: list[TimeEntry], group_by: str) -> list[LineData]:
    heading = f"{project.name} ({project.code})" if project.code else project.name
    if group_by == InvoiceGrouping.BY_ENTRY:
        return [
            LineData(
                description="\n".join(
                    part
                    for part in (
                        entry.task,
                        " · ".join(
                            part
                            for part in (
                                heading,
                                entry.date.isoformat(),
                                entry.user.get_full_name() if entry.user else "",
                            )
                            if part
                        ),
                        entry.notes,
                    )
                    if part
                ),
                quantity=entry.hours,
                unit=_("h"),
                rate=project.hourly_rate,
            )
            for entry in entries
        ]
    by_task: dict[str, list[TimeEntry]] = {}
    for entry in entries:
        by_task.setdefault(entry.task.strip(), []).append(entry)
    lines = []
    for task, task_entries in by_task.items():
        first, last = task_entries[0].date, task_entries[-1].date
        period = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        lines.append(
            LineData(
                description=f"{task}\n{heading} · {period}",
                quantity=sum((entry.hours for entry in task_entries), Decimal(0)),
                unit=_("h"),
                rate=project.hourly_rate,
            )
        )
    return lines
