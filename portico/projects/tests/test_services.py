from datetime import date
from decimal import Decimal

import pytest

from portico.accounts.tests.factories import MembershipFactory, UserFactory
from portico.customers.tests.factories import CustomerFactory
from portico.projects import services
from portico.projects.models import Project, ProjectStatus, TimeEntry
from portico.projects.services import ProjectData, ProjectError, TimeEntryData
from portico.projects.tests.factories import ProjectFactory, TimeEntryFactory
from portico.sales.models import InvoiceLine, InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def project_data(customer, **changes) -> ProjectData:
    return ProjectData(
        **{
            "customer_id": customer.pk,
            "name": "Website relaunch",
            "code": "WEB",
            "hourly_rate": Decimal("95.50"),
            **changes,
        }
    )


def entry_data(user, **changes) -> TimeEntryData:
    return TimeEntryData(
        **{
            "date": date(2026, 3, 2),
            "user_id": user.pk if user else None,
            "task": "Design",
            "hours": Decimal("1.5"),
            **changes,
        }
    )


# --- projects ---------------------------------------------------------------------


def test_project_create_bills_in_the_customers_currency(organization):
    # given
    customer = CustomerFactory(organization=organization, currency="JPY")

    # when
    project = services.project_create(organization=organization, data=project_data(customer))

    # then
    assert project.currency == "JPY"
    assert project.customer == customer
    assert project.status == ProjectStatus.ACTIVE
    assert project.hourly_rate == Decimal("95.50")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hourly_rate": Decimal("-1")}, "hourly_rate"),
        ({"name": "   "}, "name"),
        ({"status": "paused"}, "status"),
    ],
)
def test_project_create_refuses_bad_input(organization, changes, field):
    # given
    customer = CustomerFactory(organization=organization)

    # when / then
    with pytest.raises(ProjectError) as error:
        services.project_create(organization=organization, data=project_data(customer, **changes))
    assert error.value.field == field
    assert not Project.objects.exists()


def test_project_create_refuses_another_organisations_customer(organization):
    # given
    foreign = CustomerFactory()

    # when / then
    with pytest.raises(ProjectError, match="Choose a customer"):
        services.project_create(organization=organization, data=project_data(foreign))


def test_project_update_moves_an_unbilled_project_to_another_customer(organization):
    # given
    project = ProjectFactory(customer__organization=organization)
    other = CustomerFactory(organization=organization, currency="EUR")
    TimeEntryFactory(project=project)

    # when
    project = services.project_update(
        project=project, data=project_data(other, status=ProjectStatus.COMPLETED)
    )

    # then
    project.refresh_from_db()
    assert (project.customer, project.currency, project.status) == (
        other,
        "EUR",
        ProjectStatus.COMPLETED,
    )


def test_project_with_invoiced_time_keeps_its_customer_and_cannot_be_deleted(organization):
    # given
    project = ProjectFactory(customer__organization=organization)
    TimeEntryFactory(project=project, invoiced=True)
    other = CustomerFactory(organization=organization)

    # when / then
    with pytest.raises(ProjectError, match="cannot change"):
        services.project_update(project=project, data=project_data(other))
    with pytest.raises(ProjectError, match="invoiced"):
        services.project_delete(project=project)
    project.refresh_from_db()
    assert project.customer_id != other.pk


def test_project_delete_removes_its_time(organization):
    # given
    project = ProjectFactory(customer__organization=organization)
    TimeEntryFactory.create_batch(3, project=project)

    # when
    services.project_delete(project=project)

    # then
    assert not Project.objects.exists()
    assert not TimeEntry.objects.exists()


# --- time entries -----------------------------------------------------------------


def test_time_entry_create(membership):
    # given
    project = ProjectFactory(customer__organization=membership.organization)

    # when
    entry = services.time_entry_create(
        project=project, data=entry_data(membership.user, notes=" Mock-ups ", billable=False)
    )

    # then
    assert entry.organization_id == project.organization_id
    assert (entry.hours, entry.task, entry.notes, entry.billable) == (
        Decimal("1.5"),
        "Design",
        "Mock-ups",
        False,
    )
    assert not entry.approved_by_customer and not entry.invoiced


@pytest.mark.parametrize("hours", ["0", "-1", "24.01", "100", "0.001"])
def test_time_entry_hours_must_be_between_a_minute_and_a_day(membership, hours):
    # given
    project = ProjectFactory(customer__organization=membership.organization)

    # when / then
    with pytest.raises(ProjectError) as error:
        services.time_entry_create(
            project=project, data=entry_data(membership.user, hours=Decimal(hours))
        )
    assert error.value.field == "hours"
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize("hours", ["0.01", "24"])
def test_time_entry_hours_limits_are_allowed(membership, hours):
    project = ProjectFactory(customer__organization=membership.organization)
    entry = services.time_entry_create(
        project=project, data=entry_data(membership.user, hours=Decimal(hours))
    )
    assert entry.hours == Decimal(hours)


def test_time_entry_refuses_another_organisations_user(membership):
    # given someone who is staff elsewhere only
    project = ProjectFactory(customer__organization=membership.organization)
    outsider = MembershipFactory().user

    # when / then
    with pytest.raises(ProjectError) as error:
        services.time_entry_create(project=project, data=entry_data(outsider))
    assert error.value.field == "user"


def test_time_entry_refuses_a_completed_project(membership):
    project = ProjectFactory(
        customer__organization=membership.organization, status=ProjectStatus.COMPLETED
    )
    with pytest.raises(ProjectError, match="completed"):
        services.time_entry_create(project=project, data=entry_data(membership.user))


def test_time_entry_update_keeps_a_former_member_on_their_own_time(membership):
    # given an entry of someone who has since left
    former = UserFactory()
    entry = TimeEntryFactory(project__customer__organization=membership.organization, user=former)

    # when
    services.time_entry_update(entry=entry, data=entry_data(former, hours=Decimal("3")))

    # then
    entry.refresh_from_db()
    assert (entry.user, entry.hours) == (former, Decimal("3"))


def test_invoiced_time_cannot_be_edited_or_deleted(membership):
    # given
    entry = TimeEntryFactory(project__customer__organization=membership.organization, invoiced=True)

    # when / then
    with pytest.raises(ProjectError, match="invoiced"):
        services.time_entry_update(entry=entry, data=entry_data(membership.user))
    with pytest.raises(ProjectError, match="invoiced"):
        services.time_entry_delete(entry=entry)
    entry.refresh_from_db()
    assert entry.hours == Decimal("2.00")


def test_time_entries_set_approved_touches_only_the_projects_entries(organization):
    # given
    project = ProjectFactory(customer__organization=organization)
    mine = TimeEntryFactory.create_batch(2, project=project)
    other_project_entry = TimeEntryFactory(project__customer__organization=organization)

    # when
    changed = services.time_entries_set_approved(
        project=project,
        entry_ids=[entry.pk for entry in mine] + [other_project_entry.pk],
        approved=True,
    )

    # then
    assert changed == 2
    assert all(e.approved_by_customer and e.approved_at for e in project.time_entries.all())
    other_project_entry.refresh_from_db()
    assert not other_project_entry.approved_by_customer

    # and undoing it clears the time of approval
    services.time_entries_set_approved(project=project, entry_ids=[mine[0].pk], approved=False)
    mine[0].refresh_from_db()
    assert (mine[0].approved_by_customer, mine[0].approved_at) == (False, None)


def test_time_billed_on_a_standing_invoice_stays_invoiced(organization):
    # given time billed by an invoice, and time marked invoiced by hand
    project = ProjectFactory(customer__organization=organization)
    invoice = InvoiceFactory(customer=project.customer, status=InvoiceStatus.SENT)
    billed = TimeEntryFactory(project=project, invoiced=True, invoice=invoice)
    by_hand = TimeEntryFactory(project=project)
    services.time_entries_set_invoiced(project=project, entry_ids=[by_hand.pk], invoiced=True)

    # when / then: the billed one cannot be released while the invoice stands
    with pytest.raises(ProjectError, match="void"):
        services.time_entries_set_invoiced(
            project=project, entry_ids=[billed.pk, by_hand.pk], invoiced=False
        )
    by_hand.refresh_from_db()
    assert by_hand.invoiced

    # once the invoice is void, both are released
    invoice.status = InvoiceStatus.VOID
    invoice.save()
    changed = services.time_entries_set_invoiced(
        project=project, entry_ids=[billed.pk, by_hand.pk], invoiced=False
    )
    assert changed == 2
    billed.refresh_from_db()
    assert (billed.invoiced, billed.invoice) == (False, None)


# --- invoicing unbilled hours ------------------------------------------------------


@pytest.fixture
def billable_project(membership):
    project = ProjectFactory(
        customer__organization=membership.organization,
        name="Website relaunch",
        code="WEB",
        hourly_rate=Decimal("100"),
    )
    user = membership.user
    TimeEntryFactory(project=project, user=user, task="Design", hours=Decimal("1.5"))
    TimeEntryFactory(
        project=project, user=user, task="Design", hours=Decimal("2"), date=date(2026, 3, 4)
    )
    TimeEntryFactory(
        project=project, user=user, task="Build", hours=Decimal("3"), approved_by_customer=True
    )
    TimeEntryFactory(project=project, user=user, task="Chat", hours=Decimal("5"), billable=False)
    TimeEntryFactory(project=project, user=user, task="Old", hours=Decimal("7"), invoiced=True)
    return project


def test_invoice_unbilled_hours_one_line_per_task(billable_project, membership):
    # when
    invoice = services.project_invoice_unbilled(
        project=billable_project, actor=membership.user, invoice_date=date(2026, 3, 31)
    )

    # then a draft invoice bills the 6.5 billable, unbilled hours
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.customer == billable_project.customer
    assert invoice.number.startswith("INV-")
    assert invoice.reference == "WEB"
    assert invoice.total == Decimal("650.00") == invoice.balance_due
    lines = list(invoice.lines.order_by("position"))
    assert [(line.quantity, line.rate, line.amount) for line in lines] == [
        (Decimal("3.5"), Decimal("100"), Decimal("350")),
        (Decimal("3"), Decimal("100"), Decimal("300")),
    ]
    assert lines[0].description == "Design\nWebsite relaunch (WEB) · 2026-03-02 – 2026-03-04"
    assert all(line.project_id == billable_project.pk for line in lines)
    # and those entries are now invoiced, linked to it; the others are not
    assert set(
        billable_project.time_entries.filter(invoice=invoice).values_list("task", flat=True)
    ) == {"Design", "Build"}
    assert billable_project.time_entries.filter(invoiced=False).get().task == "Chat"


def test_invoice_unbilled_hours_one_line_per_entry_approved_only(billable_project, membership):
    # when
    invoice = services.project_invoice_unbilled(
        project=billable_project, actor=membership.user, group_by="entry", approved_only=True
    )

    # then
    line = invoice.lines.get()
    assert line.description.startswith("Build\nWebsite relaunch (WEB) · 2026-03-02 · ")
    assert line.quantity == Decimal("3")
    assert billable_project.time_entries.filter(task="Design", invoiced=False).count() == 2


def test_invoice_unbilled_hours_twice_finds_nothing_left(billable_project, membership):
    # given
    services.project_invoice_unbilled(project=billable_project, actor=membership.user)

    # when / then
    with pytest.raises(ProjectError, match="No billable time"):
        services.project_invoice_unbilled(project=billable_project, actor=membership.user)
    assert InvoiceLine.objects.count() == 2


def test_invoice_unbilled_hours_in_a_currency_the_customer_no_longer_uses(billable_project):
    # given the customer's currency changed after the project was set up
    customer = billable_project.customer
    customer.currency = "EUR"
    customer.save()

    # when / then nothing is half-made
    with pytest.raises(ProjectError, match="billed in EUR"):
        services.project_invoice_unbilled(project=billable_project)
    assert not billable_project.time_entries.filter(invoice__isnull=False).exists()
    assert not InvoiceLine.objects.exists()
