from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.urls import reverse

from portico.accounts.tests.factories import MembershipFactory
from portico.customers.tests.factories import CustomerFactory
from portico.projects.models import Project, ProjectStatus, TimeEntry
from portico.projects.tests.factories import ProjectFactory, TimeEntryFactory
from portico.sales.models import Invoice

pytestmark = pytest.mark.django_db

LIST = reverse("projects:list")
CREATE = reverse("projects:create")
HTMX_PROJECTS = {"HX-Request": "true", "HX-Target": "project-results"}
HTMX_ENTRIES = {"HX-Request": "true", "HX-Target": "time-entry-results"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response) -> list[str]:
    return [project.name for project in response.context["page"].object_list]


def detail_url(project) -> str:
    return reverse("projects:detail", args=[project.pk])


# --- project list -----------------------------------------------------------------


def test_project_list_shows_the_organisations_projects_with_their_hours(staff_client, organization):
    # given
    project = ProjectFactory(customer__organization=organization, name="Relaunch")
    TimeEntryFactory(project=project, hours=Decimal("2.5"))
    TimeEntryFactory(project=project, hours=Decimal("1"), invoiced=True)
    ProjectFactory(name="Someone else's")

    # when
    response = staff_client.get(LIST)

    # then
    assert response.status_code == 200
    assert listed(response) == ["Relaunch"]
    shown = response.context["page"].object_list[0]
    assert (shown.hours_logged, shown.hours_unbilled) == (Decimal("3.5"), Decimal("2.5"))
    assert "Relaunch" in response.text
    assert 'href="/app/projects/"' in response.text  # the menu entry


def test_project_list_searches_and_filters(staff_client, organization):
    # given
    acme = CustomerFactory(organization=organization, display_name="Acme")
    ProjectFactory(customer=acme, name="Website", code="WEB")
    ProjectFactory(customer=acme, name="Archive", status=ProjectStatus.COMPLETED)
    ProjectFactory(customer__organization=organization, name="Mobile app")

    # then
    assert listed(staff_client.get(LIST, {"q": "web"})) == ["Website"]
    assert listed(staff_client.get(LIST, {"q": "acme"})) == ["Archive", "Website"]
    assert listed(staff_client.get(LIST, {"status": "completed"})) == ["Archive"]
    response = staff_client.get(LIST, {"customer": acme.pk, "sort": "-name"})
    assert listed(response) == ["Website", "Archive"]
    assert response.context["filter_customer"] == acme
    # nonsense filters are ignored, not errors
    assert staff_client.get(LIST, {"status": "x", "sort": "y", "customer": "z"}).status_code == 200


def test_project_list_htmx_answers_with_the_results_only(staff_client, organization):
    # given
    ProjectFactory(customer__organization=organization, name="Website")

    # when
    response = staff_client.get(LIST, {"q": "web"}, headers=HTMX_PROJECTS)

    # then
    assert "<html" not in response.text
    assert "Website" in response.text
    assert response["HX-Push-Url"] == "/app/projects/?q=web"


def make_projects(organization, count: int) -> None:
    customers = CustomerFactory.create_batch(3, organization=organization)
    for index in range(count):
        project = ProjectFactory(customer=customers[index % 3])
        TimeEntryFactory.create_batch(2, project=project)


# session, user, membership; count; page (with hours); the organisation switcher
LIST_QUERIES = 6


@pytest.mark.parametrize("count", [5, 500])
def test_project_list_query_count_is_constant(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_projects(organization, count)

    # when / then
    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(LIST, {"q": "project"})
    assert len(listed(response)) == min(count, 50)
    with django_assert_num_queries(LIST_QUERIES - 1):
        staff_client.get(LIST, {"q": "project"}, headers=HTMX_PROJECTS)


# --- create and edit ----------------------------------------------------------------


def project_form(customer, **fields) -> dict:
    return {
        "customer": customer.pk,
        "name": "Website relaunch",
        "code": "WEB",
        "description": "",
        "hourly_rate": "95.5",
        "status": "active",
        **fields,
    }


def test_project_create(staff_client, organization):
    # given
    customer = CustomerFactory(organization=organization, currency="EUR")

    # when
    response = staff_client.post(CREATE, project_form(customer))

    # then
    project = Project.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(project)
    assert (project.organization, project.currency, project.hourly_rate) == (
        organization,
        "EUR",
        Decimal("95.5"),
    )
    assert messages_of(response) == ["Project Website relaunch created."]


def test_project_form_preselects_the_customer_it_came_from(staff_client, organization):
    customer = CustomerFactory(organization=organization, display_name="Acme")
    response = staff_client.get(CREATE, {"customer": customer.pk})
    assert f'<option value="{customer.pk}" selected>Acme (USD)</option>' in response.text


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"hourly_rate": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"name": ""}, "This field is required."),
        ({"status": "paused"}, "Select a valid choice."),
    ],
)
def test_project_create_refuses_bad_input(staff_client, organization, fields, error):
    # given
    customer = CustomerFactory(organization=organization)

    # when
    response = staff_client.post(CREATE, project_form(customer, **fields))

    # then
    assert response.status_code == 422
    assert error in response.text
    assert not Project.objects.exists()


def test_project_create_refuses_another_organisations_customer(staff_client):
    # when
    response = staff_client.post(CREATE, project_form(CustomerFactory()))

    # then
    assert response.status_code == 422
    assert not Project.objects.exists()


def test_project_edit(staff_client, organization):
    # given
    project = ProjectFactory(customer__organization=organization)

    # when
    response = staff_client.post(
        reverse("projects:edit", args=[project.pk]),
        project_form(project.customer, name="Renamed", status="completed"),
    )

    # then
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.status) == ("Renamed", ProjectStatus.COMPLETED)


def test_project_edit_shows_a_service_refusal_on_the_form(staff_client, organization):
    # given time already invoiced
    project = ProjectFactory(customer__organization=organization)
    TimeEntryFactory(project=project, invoiced=True)
    other = CustomerFactory(organization=organization)

    # when
    response = staff_client.post(reverse("projects:edit", args=[project.pk]), project_form(other))

    # then
    assert response.status_code == 422
    assert "its customer cannot change" in response.text


def test_project_delete(staff_client, organization):
    project = ProjectFactory(customer__organization=organization)
    response = staff_client.post(reverse("projects:delete", args=[project.pk]))
    assert response.url == LIST
    assert not Project.objects.exists()


def test_project_delete_refused_with_invoiced_time(staff_client, organization):
    project = ProjectFactory(customer__organization=organization)
    TimeEntryFactory(project=project, invoiced=True)
    response = staff_client.post(reverse("projects:delete", args=[project.pk]))
    assert response.url == detail_url(project)
    assert "mark the project completed instead" in messages_of(response)[0]
    assert Project.objects.exists()


# --- detail and time entries ----------------------------------------------------------


def test_project_detail_shows_entries_and_hour_totals(staff_client, membership):
    # given
    project = ProjectFactory(customer__organization=membership.organization)
    TimeEntryFactory(project=project, user=membership.user, task="Design", hours=Decimal("2"))
    TimeEntryFactory(project=project, task="Build", hours=Decimal("3"), approved_by_customer=True)
    TimeEntryFactory(project=project, task="Chat", hours=Decimal("1"), billable=False)
    TimeEntryFactory(project=project, task="Old", hours=Decimal("4"), invoiced=True)

    # when
    response = staff_client.get(detail_url(project))

    # then
    assert response.status_code == 200
    hours = response.context["hours"]
    assert (hours.total, hours.billable, hours.approved, hours.invoiced, hours.unbilled) == (
        Decimal("10"),
        Decimal("9"),
        Decimal("3"),
        Decimal("4"),
        Decimal("5"),
    )
    for task in ("Design", "Build", "Chat", "Old"):
        assert task in response.text
    assert reverse("projects:invoice", args=[project.pk]) in response.text


@pytest.mark.parametrize(
    ("query", "tasks"),
    [
        ({"billable": "no"}, {"Chat"}),
        ({"approved": "yes"}, {"Build"}),
        ({"invoiced": "yes"}, {"Old"}),
        ({"invoiced": "no", "billable": "yes"}, {"Design", "Build"}),
    ],
)
def test_project_detail_filters_entries(staff_client, organization, query, tasks):
    # given
    project = ProjectFactory(customer__organization=organization)
    TimeEntryFactory(project=project, task="Design")
    TimeEntryFactory(project=project, task="Build", approved_by_customer=True)
    TimeEntryFactory(project=project, task="Chat", billable=False)
    TimeEntryFactory(project=project, task="Old", invoiced=True)

    # when
    response = staff_client.get(detail_url(project), query, headers=HTMX_ENTRIES)

    # then
    assert {entry.task for entry in response.context["page"].object_list} == tasks
    assert "<html" not in response.text


# session, user, membership; project; hours; members; count; page; the comment thread
DETAIL_QUERIES = 10


@pytest.mark.parametrize("count", [5, 60])
def test_project_detail_query_count_is_constant(
    staff_client, membership, django_assert_num_queries, count
):
    # given entries by several people, some invoiced
    project = ProjectFactory(customer__organization=membership.organization)
    colleague = MembershipFactory(organization=membership.organization).user
    for index in range(count):
        TimeEntryFactory(
            project=project,
            user=colleague if index % 2 else membership.user,
            invoiced=index % 3 == 0,
        )

    ContentType.objects.get_for_model(Project)  # cached for the life of the process

    # when / then
    with django_assert_num_queries(DETAIL_QUERIES):
        response = staff_client.get(detail_url(project))
    assert len(response.context["page"].object_list) == min(count, 50)


def test_another_organisations_project_is_not_found(staff_client):
    # given
    foreign = ProjectFactory()
    entry = TimeEntryFactory(project=foreign)

    # then
    for url in [
        detail_url(foreign),
        reverse("projects:edit", args=[foreign.pk]),
        reverse("projects:time_create", args=[foreign.pk]),
        reverse("projects:time_edit", args=[foreign.pk, entry.pk]),
        reverse("projects:invoice", args=[foreign.pk]),
        reverse("projects:customer_projects", args=[foreign.customer_id]),
    ]:
        assert staff_client.get(url).status_code == 404, url
    for url in [
        reverse("projects:delete", args=[foreign.pk]),
        reverse("projects:time_delete", args=[foreign.pk, entry.pk]),
        reverse("projects:time_bulk", args=[foreign.pk]),
    ]:
        assert staff_client.post(url, {"ids": [entry.pk], "action": "approve"}).status_code == 404
    entry.refresh_from_db()
    assert not entry.approved_by_customer
    assert Project.objects.filter(pk=foreign.pk).exists()


def test_an_entry_of_another_project_is_not_found(staff_client, organization):
    # given two projects of the same organisation
    project = ProjectFactory(customer__organization=organization)
    other_entry = TimeEntryFactory(project__customer__organization=organization)

    # then
    url = reverse("projects:time_edit", args=[project.pk, other_entry.pk])
    assert staff_client.get(url).status_code == 404
    url = reverse("projects:time_delete", args=[project.pk, other_entry.pk])
    assert staff_client.post(url).status_code == 404


def time_form(user, **fields) -> dict:
    return {
        "date": "2026-03-02",
        "user": user.pk,
        "task": "Design",
        "hours": "1.5",
        "notes": "",
        "billable": "on",
        **fields,
    }


def test_log_time(staff_client, membership):
    # given
    project = ProjectFactory(customer__organization=membership.organization)

    # when hours are given as hours and minutes
    response = staff_client.post(
        reverse("projects:time_create", args=[project.pk]), time_form(membership.user, hours="1:45")
    )

    # then
    assert response.url == detail_url(project)
    entry = TimeEntry.objects.get()
    assert (entry.hours, entry.user, entry.billable) == (Decimal("1.75"), membership.user, True)
    assert messages_of(response) == ["Time logged."]


def test_log_time_and_more(staff_client, membership):
    project = ProjectFactory(customer__organization=membership.organization)
    url = reverse("projects:time_create", args=[project.pk])
    response = staff_client.post(url, time_form(membership.user, save_and_new="1"))
    assert response.url == url


@pytest.mark.parametrize(
    ("hours", "error"),
    [
        ("0", "Hours must be between 0.01 and 24."),
        ("25", "Hours must be between 0.01 and 24."),
        ("-2", "Hours must be between 0.01 and 24."),
        ("1.234", "Ensure that there are no more than 2 decimal places."),
        ("lots", "Enter a number."),
    ],
)
def test_log_time_refuses_bad_hours(staff_client, membership, hours, error):
    # given
    project = ProjectFactory(customer__organization=membership.organization)

    # when
    response = staff_client.post(
        reverse("projects:time_create", args=[project.pk]), time_form(membership.user, hours=hours)
    )

    # then
    assert response.status_code == 422
    assert error in response.text
    assert not TimeEntry.objects.exists()


def test_log_time_refuses_another_organisations_user(staff_client, membership):
    project = ProjectFactory(customer__organization=membership.organization)
    outsider = MembershipFactory().user
    response = staff_client.post(
        reverse("projects:time_create", args=[project.pk]), time_form(outsider)
    )
    assert response.status_code == 422
    assert not TimeEntry.objects.exists()


def test_log_time_on_a_completed_project_is_refused(staff_client, membership):
    project = ProjectFactory(
        customer__organization=membership.organization, status=ProjectStatus.COMPLETED
    )
    response = staff_client.post(
        reverse("projects:time_create", args=[project.pk]), time_form(membership.user)
    )
    assert response.status_code == 422
    assert "reopen it to log time" in response.text


def test_edit_time_entry(staff_client, membership):
    # given
    entry = TimeEntryFactory(project__customer__organization=membership.organization)
    url = reverse("projects:time_edit", args=[entry.project_id, entry.pk])

    # when
    form = staff_client.get(url)
    response = staff_client.post(url, time_form(membership.user, hours="4", billable=""))

    # then
    assert form.status_code == 200
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.hours, entry.billable) == (Decimal("4"), False)


def test_invoiced_time_entry_cannot_be_edited_or_deleted(staff_client, membership):
    # given
    entry = TimeEntryFactory(project__customer__organization=membership.organization, invoiced=True)
    project_url = detail_url(entry.project)

    # when
    edit = staff_client.post(
        reverse("projects:time_edit", args=[entry.project_id, entry.pk]),
        time_form(membership.user, hours="9"),
    )
    delete = staff_client.post(reverse("projects:time_delete", args=[entry.project_id, entry.pk]))

    # then
    assert edit.url == project_url and delete.url == project_url
    assert "invoiced" in messages_of(delete)[-1]
    entry.refresh_from_db()
    assert entry.hours == Decimal("2")


def test_delete_time_entry(staff_client, organization):
    entry = TimeEntryFactory(project__customer__organization=organization)
    response = staff_client.post(reverse("projects:time_delete", args=[entry.project_id, entry.pk]))
    assert response.status_code == 302
    assert not TimeEntry.objects.exists()


def test_bulk_approve_keeps_the_filters(staff_client, organization):
    # given
    project = ProjectFactory(customer__organization=organization)
    entries = TimeEntryFactory.create_batch(3, project=project)

    # when
    response = staff_client.post(
        reverse("projects:time_bulk", args=[project.pk]),
        {"ids": [entries[0].pk, entries[1].pk], "action": "approve", "query": "billable=yes"},
    )

    # then
    assert response.url == detail_url(project) + "?billable=yes"
    assert messages_of(response) == ["2 time entries updated."]
    assert project.time_entries.filter(approved_by_customer=True).count() == 2


def test_bulk_action_needs_an_action_and_entries(staff_client, organization):
    project = ProjectFactory(customer__organization=organization)
    entry = TimeEntryFactory(project=project)
    url = reverse("projects:time_bulk", args=[project.pk])
    assert messages_of(staff_client.post(url, {"ids": [entry.pk], "action": "x"})) == [
        "Choose an action."
    ]
    assert messages_of(staff_client.post(url, {"action": "approve"}))[-1] == (
        "Tick the time entries first."
    )


def test_invoice_unbilled_hours(staff_client, membership):
    # given
    project = ProjectFactory(
        customer__organization=membership.organization, hourly_rate=Decimal("80")
    )
    TimeEntryFactory(project=project, hours=Decimal("2.5"))
    url = reverse("projects:invoice", args=[project.pk])

    # when
    page = staff_client.get(url)
    response = staff_client.post(url, {"group_by": "task"})

    # then
    assert page.status_code == 200
    invoice = Invoice.objects.get()
    assert response.url == reverse("invoices:detail", args=[invoice.pk])
    assert invoice.total == Decimal("200")
    assert project.time_entries.get().invoice == invoice


def test_invoice_unbilled_hours_with_nothing_to_bill(staff_client, organization):
    project = ProjectFactory(customer__organization=organization)
    response = staff_client.post(
        reverse("projects:invoice", args=[project.pk]), {"group_by": "task"}
    )
    assert response.status_code == 422
    assert "No billable time left to invoice." in response.text
    assert not Invoice.objects.exists()


def test_customer_overview_block_lists_the_customers_projects(staff_client, organization):
    # given
    customer = CustomerFactory(organization=organization)
    ProjectFactory.create_batch(6, customer=customer)
    ProjectFactory(customer__organization=organization, name="Not theirs")

    # when
    overview = staff_client.get(reverse("customers:detail", args=[customer.pk]))
    block = staff_client.get(reverse("projects:customer_projects", args=[customer.pk]))

    # then
    assert reverse("projects:customer_projects", args=[customer.pk]) in overview.text
    assert block.status_code == 200
    assert len(block.context["projects"]) == 5
    assert block.context["count"] == 6
    assert "Not theirs" not in block.text
    assert "All 6 projects" in block.text
