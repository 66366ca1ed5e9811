"""Reading projects and their time entries, always within one organisation."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict

from portico.accounts.models import Membership, Organization
from portico.core.money import quantize_money
from portico.customers.models import Customer
from portico.projects.models import Project, ProjectStatus, TimeEntry

PROJECT_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "customer": ("customer__display_name", "name", "id"),
    "-customer": ("-customer__display_name", "-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
DEFAULT_PROJECT_SORT = "name"
YES_NO = {"yes": True, "no": False}
HOURS = DecimalField(max_digits=12, decimal_places=2)


@dataclass(frozen=True)
class ProjectFilters:
    """What the project list shows; built from the query string."""

    q: str = ""
    status: str = ""  # "" (any) or a ProjectStatus
    customer_id: int | None = None
    sort: str = DEFAULT_PROJECT_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> "ProjectFilters":
        status = query.get("status", "")
        customer = query.get("customer", "")
        sort = query.get("sort", DEFAULT_PROJECT_SORT)
        return cls(
            q=query.get("q", "").strip()[:100],
            status=status if status in ProjectStatus.values else "",
            customer_id=int(customer) if customer.isdigit() else None,
            sort=sort if sort in PROJECT_SORTS else DEFAULT_PROJECT_SORT,
        )

    def as_query(self) -> str:
        query = QueryDict(mutable=True)
        if self.q:
            query["q"] = self.q
        if self.status:
            query["status"] = self.status
        if self.customer_id:
            query["customer"] = str(self.customer_id)
        if self.sort != DEFAULT_PROJECT_SORT:
            query["sort"] = self.sort
        return query.urlencode()


def _hours_subquery(**conditions) -> Subquery:
    """Hours of the outer project's entries matching ``conditions``: per listed
    project, a range of the (organization, project, billable, invoiced, …, hours)
    index, read without touching the time entries themselves."""
    return Coalesce(
        Subquery(
            TimeEntry.objects.filter(
                organization=OuterRef("organization"), project=OuterRef("pk"), **conditions
            )
            .order_by()
            .values("project")
            .annotate(total=Sum("hours"))
            .values("total")[:1],
            output_field=HOURS,
        ),
        Value(Decimal(0)),
        output_field=HOURS,
    )


def project_list(*, organization: Organization, filters: ProjectFilters) -> QuerySet[Project]:
    """Projects with their customer, hours logged and hours not yet invoiced."""
    projects = Project.objects.filter(organization=organization).select_related("customer")
    if filters.q:
        projects = projects.filter(
            Q(name__icontains=filters.q)
            | Q(code__icontains=filters.q)
            | Q(customer__display_name__icontains=filters.q)
        )
    if filters.status:
        projects = projects.filter(status=filters.status)
    if filters.customer_id:
        projects = projects.filter(customer_id=filters.customer_id)
    return projects.annotate(
        hours_logged=_hours_subquery(),
        hours_unbilled=_hours_subquery(billable=True, invoiced=False),
    ).order_by(*PROJECT_SORTS[filters.sort])


def project_exists(*, organization: Organization) -> bool:
    return Project.objects.filter(organization=organization).exists()


def project_get(*, organization: Organization, project_id: int) -> Project:
    """One project of the organisation; DoesNotExist (→ 404) for any other."""
    return Project.objects.select_related("customer").get(organization=organization, pk=project_id)


def customer_for_filter(*, organization: Organization, customer_id: int | None) -> Customer | None:
    if not customer_id:
        return None
    return (
        Customer.objects.filter(organization=organization, pk=customer_id)
        .only("id", "display_name")
        .first()
    )


@dataclass(frozen=True)
class ProjectHours:
    total: Decimal
    billable: Decimal
    non_billable: Decimal
    approved: Decimal
    invoiced: Decimal
    unbilled: Decimal  # billable, not invoiced yet
    unbilled_amount: Decimal  # at the project's hourly rate


def project_hours(*, project: Project) -> ProjectHours:
    """Hours of a project: total, billable, approved, invoiced, unbilled (one query)."""

    def total(condition: Q | None = None):
        return Coalesce(Sum("hours", filter=condition), Value(Decimal(0)), output_field=HOURS)

    figures = TimeEntry.objects.filter(
        organization_id=project.organization_id, project=project
    ).aggregate(
        hours_total=total(),
        hours_billable=total(Q(billable=True)),
        hours_approved=total(Q(approved_by_customer=True)),
        hours_invoiced=total(Q(invoiced=True)),
        hours_unbilled=total(Q(billable=True, invoiced=False)),
    )
    return ProjectHours(
        total=figures["hours_total"],
        billable=figures["hours_billable"],
        non_billable=figures["hours_total"] - figures["hours_billable"],
        approved=figures["hours_approved"],
        invoiced=figures["hours_invoiced"],
        unbilled=figures["hours_unbilled"],
        unbilled_amount=quantize_money(
            figures["hours_unbilled"] * project.hourly_rate, project.currency
        ),
    )


@dataclass(frozen=True)
class TimeEntryFilters:
    """Which of a project's time entries are listed."""

    billable: bool | None = None
    approved: bool | None = None
    invoiced: bool | None = None
    user_id: int | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> "TimeEntryFilters":
        user = query.get("user", "")
        return cls(
            billable=YES_NO.get(query.get("billable", "")),
            approved=YES_NO.get(query.get("approved", "")),
            invoiced=YES_NO.get(query.get("invoiced", "")),
            user_id=int(user) if user.isdigit() else None,
        )

    @property
    def active(self) -> bool:
        return any(
            value is not None
            for value in (self.billable, self.approved, self.invoiced, self.user_id)
        )


def time_entry_list(*, project: Project, filters: TimeEntryFilters) -> QuerySet[TimeEntry]:
    """A project's time entries, newest first, with who logged them."""
    entries = TimeEntry.objects.filter(
        organization_id=project.organization_id, project=project
    ).select_related("user", "invoice")
    if filters.billable is not None:
        entries = entries.filter(billable=filters.billable)
    if filters.approved is not None:
        entries = entries.filter(approved_by_customer=filters.approved)
    if filters.invoiced is not None:
        entries = entries.filter(invoiced=filters.invoiced)
    if filters.user_id:
        entries = entries.filter(user_id=filters.user_id)
    return entries.order_by("-date", "-id")


def time_entry_get(*, project: Project, entry_id: int) -> TimeEntry:
    """One time entry of ``project``; DoesNotExist (→ 404) for any other."""
    return TimeEntry.objects.select_related("user", "invoice").get(
        organization_id=project.organization_id, project=project, pk=entry_id
    )


def staff_members(*, organization: Organization) -> list[Membership]:
    """The organisation's members, who may log time, by name."""
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__full_name", "user__email", "id")
    )


CUSTOMER_PROJECTS_SHOWN = 5


def customer_projects(*, organization: Organization, customer_id: int) -> tuple[list[Project], int]:
    """A customer's most recent projects (for its overview) and how many it has."""
    projects = project_list(
        organization=organization,
        filters=ProjectFilters(customer_id=customer_id, sort="-created"),
    )
    shown = list(projects[:CUSTOMER_PROJECTS_SHOWN])
    count = len(shown) if len(shown) < CUSTOMER_PROJECTS_SHOWN else projects.count()
    return shown, count
