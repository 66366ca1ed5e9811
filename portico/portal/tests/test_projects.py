"""Projects and timesheets in the portal: hours, time entries, approving time."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.accounts.tests.factories import MembershipFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.projects.models import ProjectStatus, TimeEntry
from portico.projects.tests.factories import ProjectFactory, TimeEntryFactory
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(portal_access):
    PortalSettingsFactory(organization=portal_access.organization)
    return ProjectFactory(customer=portal_access.customer, name="Website relaunch")


@pytest.fixture
def urls(portal_access, portal_reverse, project):
    organization = portal_access.organization
    return {
        "list": portal_reverse(organization, "portal:project_list"),
        "detail": portal_reverse(organization, "portal:project_detail", pk=project.pk),
        "approve": portal_reverse(organization, "portal:project_approve", pk=project.pk),
    }


def test_the_list_shows_each_project_with_logged_billed_and_unbilled_hours(
    portal_client, project, urls
):
    TimeEntryFactory(project=project, hours=Decimal("3.00"))
    TimeEntryFactory(project=project, hours=Decimal("1.50"), invoiced=True)
    TimeEntryFactory(project=project, hours=Decimal("2.00"), billable=False)

    page = portal_client.get(urls["list"]).content.decode()

    row = page.split("Website relaunch", 1)[1].split("</tr>", 1)[0]
    assert row.index("6.5 h") < row.index("1.5 h") < row.index("3 h")


def test_the_list_shows_only_the_customers_projects(portal_client, portal_access, urls):
    other = PortalAccessFactory(
        active=True, contact__customer__organization=portal_access.organization
    )
    ProjectFactory(customer=other.customer, name="Someone else's project")

    page = portal_client.get(urls["list"]).content.decode()

    assert "Website relaunch" in page
    assert "Someone else&#x27;s project" not in page and "Someone else's project" not in page


def test_the_detail_lists_time_entries_with_staff_member_task_and_badges(
    portal_client, portal_access, project, urls, portal_reverse
):
    staff = MembershipFactory(organization=project.organization, user__full_name="Ada Lovelace")
    invoice = InvoiceFactory(customer=project.customer, status=InvoiceStatus.SENT, number="INV-77")
    TimeEntryFactory(project=project, user=staff.user, task="Design review", notes="Homepage")
    TimeEntryFactory(project=project, task="Build", invoiced=True, invoice=invoice)
    TimeEntryFactory(
        project=project, task="Approved already", approved_by_customer=True, date=date(2026, 1, 5)
    )

    page = portal_client.get(urls["detail"]).content.decode()

    assert "Ada Lovelace" in page and "Design review" in page and "Homepage" in page
    assert "Invoiced · INV-77" in page
    assert (
        portal_reverse(portal_access.organization, "portal:invoice_detail", pk=invoice.pk) in page
    )
    assert "Awaiting approval" in page and "Approved" in page


def test_a_draft_invoice_is_not_linked_from_the_timesheet(portal_client, project, urls):
    draft = InvoiceFactory(customer=project.customer, number="INV-DRAFT-9")
    TimeEntryFactory(project=project, task="Build", invoiced=True, invoice=draft)

    page = portal_client.get(urls["detail"]).content.decode()

    assert "INV-DRAFT-9" not in page
    assert "Invoiced" in page


def test_another_customers_project_is_not_found(portal_client, portal_access, portal_reverse):
    other = ProjectFactory(customer__organization=portal_access.organization, name="Not yours")
    organization = portal_access.organization

    assert (
        portal_client.get(
            portal_reverse(organization, "portal:project_detail", pk=other.pk)
        ).status_code
        == 404
    )
    response = portal_client.post(
        portal_reverse(organization, "portal:project_approve", pk=other.pk),
        {"entries": [TimeEntryFactory(project=other).pk]},
    )
    assert response.status_code == 404


def test_projects_are_hidden_from_a_contact_without_the_module(portal_client, portal_access, urls):
    portal_access.modules = [PortalModule.INVOICES]
    portal_access.save()

    assert portal_client.get(urls["list"]).status_code == 404
    assert portal_client.get(urls["detail"]).status_code == 404
    assert portal_client.post(urls["approve"], {"entries": ["1"]}).status_code == 404


def test_approving_ticked_entries_records_the_approval_and_tells_staff(
    portal_client, portal_access, project, urls
):
    MembershipFactory(organization=project.organization, role="owner")
    first = TimeEntryFactory(project=project, hours=Decimal("2.00"))
    second = TimeEntryFactory(project=project, hours=Decimal("1.50"))
    untouched = TimeEntryFactory(project=project)

    response = portal_client.post(urls["approve"], {"entries": [first.pk, second.pk]})

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert first.approved_by_customer and first.approved_at is not None
    assert second.approved_by_customer
    assert not untouched.approved_by_customer
    page = portal_client.get(response["Location"]).content.decode()
    assert "2 time entries approved" in page
    email = OutboundEmail.objects.get(kind="activity.notification")
    assert "approved 2 time entries on project " in email.body_text
    assert f"/app/projects/{project.pk}/" in email.body_text


def test_invoiced_time_cannot_be_approved(portal_client, project, urls):
    open_entry = TimeEntryFactory(project=project)
    invoiced = TimeEntryFactory(project=project, invoiced=True)

    response = portal_client.post(urls["approve"], {"entries": [open_entry.pk, invoiced.pk]})

    assert response.status_code == 422
    assert "Invoiced time cannot be approved" in response.content.decode()
    assert not TimeEntry.objects.filter(approved_by_customer=True).exists()


def test_an_entry_of_another_project_cannot_be_approved(portal_client, project, urls):
    sibling = ProjectFactory(customer=project.customer, organization=project.organization)
    foreign = TimeEntryFactory(project=sibling)
    mine = TimeEntryFactory(project=project)

    response = portal_client.post(urls["approve"], {"entries": [mine.pk, foreign.pk]})

    assert response.status_code == 422
    assert "not of this project" in response.content.decode()
    assert not TimeEntry.objects.filter(approved_by_customer=True).exists()


def test_approving_nothing_or_garbage_is_refused_with_a_message(portal_client, project, urls):
    TimeEntryFactory(project=project)

    nothing = portal_client.post(urls["approve"], {})
    garbage = portal_client.post(urls["approve"], {"entries": ["1; drop table"]})

    assert nothing.status_code == 422
    assert "Tick the time entries to approve." in nothing.content.decode()
    assert garbage.status_code == 422
    assert "Tick time entries from the list." in garbage.content.decode()


def test_the_approve_page_only_accepts_posts(portal_client, urls):
    assert portal_client.get(urls["approve"]).status_code == 405


def _add_rows(portal_access, project, count: int, start: int) -> None:
    for index in range(start, start + count):
        other = ProjectFactory(customer=portal_access.customer, status=ProjectStatus.COMPLETED)
        TimeEntryFactory(project=other)
        TimeEntryFactory(project=project, date=date(2026, 3, 1) - timedelta(days=index))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_project_pages_cost_the_same_queries_for_5_or_200_rows(
    page_cache_off, portal_client, portal_access, urls, project, django_assert_num_queries
):
    # given a session that has entered the portal, and 5 projects and entries
    _add_rows(portal_access, project, 5, 0)
    portal_client.get(urls["list"])
    portal_client.get(urls["detail"])

    # 4 for the session and access; the page and its count
    with django_assert_num_queries(6):
        assert portal_client.get(urls["list"]).status_code == 200
    # the project, its hours, the page of entries and their count (+ the comment thread's)
    detail_with_5 = _queries(portal_client, urls["detail"])

    # when there are 200
    _add_rows(portal_access, project, 195, 5)

    # then the pages cost the same
    with django_assert_num_queries(6):
        assert portal_client.get(urls["list"]).status_code == 200
    with django_assert_num_queries(detail_with_5):
        assert portal_client.get(urls["detail"]).status_code == 200
    assert detail_with_5 <= 10
