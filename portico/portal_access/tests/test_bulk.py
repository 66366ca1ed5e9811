"""Customers → More → Enable portal: the job, its worker task and its progress page."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portico.accounts.tests.factories import MembershipFactory
from portico.core.testing.smtp import smtp_server  # noqa: F401  (a fixture)
from portico.customers.selectors import CustomerFilters
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import EmailStatus, OutboundEmail
from portico.mail.tests.conftest import run_db_worker  # noqa: F401  (a fixture)
from portico.portal_access import bulk
from portico.portal_access.models import (
    AccessStatus,
    BulkInvite,
    BulkInviteStatus,
    PortalAccess,
    PortalInvitation,
)
from portico.portal_access.services import portal_access_invite
from portico.portal_access.tasks import bulk_invite_run
from portico.portal_access.tests.factories import PortalAccessFactory, PortalInvitationFactory

RESULT = (
    "{invited} invited; skipped: {no_contact} without a primary contact, "
    "{no_email} without an e-mail, {already} already had access."
)


def customer_with_primary(organization, **contact):
    customer = CustomerFactory(organization=organization)
    ContactPersonFactory(customer=customer, is_primary=True, **contact)
    return customer


def enable_portal(client, *, follow: bool = False, **data):
    """Customers list → More → Enable portal."""
    return client.post("/app/customers/bulk/", {"action": "enable_portal", **data}, follow=follow)


def run_job(job_id: int, **options) -> BulkInvite:
    """What the worker's task does."""
    return bulk.bulk_invite_process(bulk_invite_id=job_id, **options)


def bulk_tasks():
    return DBTaskResult.objects.filter(task_path=bulk_invite_run.module_path)


def invitations_per_contact() -> dict[int, int]:
    return dict(
        PortalInvitation.objects.values_list("access__contact_id")
        .annotate(n=Count("id"))
        .order_by()
    )


@pytest.fixture
def mixed_customers(organization):
    """One customer of each kind Enable portal tells apart."""
    now = timezone.now()
    fresh = customer_with_primary(organization)
    no_contacts = CustomerFactory(organization=organization)
    only_secondary = CustomerFactory(organization=organization)
    ContactPersonFactory(customer=only_secondary, is_primary=False)
    no_email = customer_with_primary(organization, email="")
    active = PortalAccessFactory(
        active=True,
        contact=ContactPersonFactory(
            customer=CustomerFactory(organization=organization), is_primary=True
        ),
    ).customer
    invited = PortalInvitationFactory(
        access__contact=ContactPersonFactory(
            customer=CustomerFactory(organization=organization), is_primary=True
        )
    ).access.customer
    expired_access = PortalAccessFactory(
        expired=True,
        contact=ContactPersonFactory(
            customer=CustomerFactory(organization=organization), is_primary=True
        ),
    )
    expired_invitation = PortalInvitationFactory(
        access=expired_access, expires_at=now - timedelta(days=1)
    )
    disabled = PortalAccessFactory(
        disabled=True,
        contact=ContactPersonFactory(
            customer=CustomerFactory(organization=organization), is_primary=True
        ),
    ).customer
    return {
        "fresh": fresh,
        "no_contacts": no_contacts,
        "only_secondary": only_secondary,
        "no_email": no_email,
        "active": active,
        "invited": invited,
        "expired": expired_access.customer,
        "expired_invitation": expired_invitation,
        "disabled": disabled,
    }


# -- Starting: the request only records the job -----------------------------------


@pytest.mark.django_db
def test_enable_portal_records_a_job_and_answers_with_its_progress_page(
    staff_client, organization, membership, mixed_customers
):
    # Given ticked customers
    ids = [customer.pk for key, customer in mixed_customers.items() if key != "expired_invitation"]

    # When staff choose More → Enable portal
    response = enable_portal(staff_client, ids=ids)

    # Then a job waits for the worker, with its task, and nothing is sent yet
    job = BulkInvite.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/app/settings/portal/bulk/{job.pk}/"
    assert (job.status, job.total, job.all_matching) == (BulkInviteStatus.QUEUED, 8, False)
    assert job.customer_ids == sorted(ids)
    assert job.requested_by == membership.user
    assert job.organization == organization
    (task,) = bulk_tasks()
    assert task.args_kwargs["kwargs"] == {"bulk_invite_id": job.pk}
    assert OutboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_enable_portal_without_a_selection_says_so_and_records_nothing(staff_client):
    response = enable_portal(staff_client, ids=[], follow=True)

    assert "Select the customers whose portal to enable." in response.text
    assert not BulkInvite.objects.exists()
    assert not bulk_tasks().exists()


# -- The worker: who is invited, who is skipped ----------------------------------


@pytest.mark.django_db
def test_each_primary_contact_is_invited_and_the_others_are_counted(
    staff_client, organization, mixed_customers
):
    # Given a job for one customer of each kind
    ids = [customer.pk for key, customer in mixed_customers.items() if key != "expired_invitation"]
    enable_portal(staff_client, ids=ids)
    job = BulkInvite.objects.get()

    # When the worker runs it
    job = run_job(job.pk)

    # Then the fresh, the expired and the disabled contacts are invited; the
    # others are skipped and counted
    assert job.status == BulkInviteStatus.DONE
    assert job.finished_at is not None
    assert (job.processed, job.invited) == (8, 3)
    assert (job.skipped_no_contact, job.skipped_no_email, job.skipped_already) == (2, 1, 2)
    invited = {mixed_customers[key].pk for key in ("fresh", "expired", "disabled")}
    emails = OutboundEmail.objects.filter(kind="portal_access.invitation")
    assert sorted(email.to_email for email in emails) == sorted(
        mixed_customers[key].contacts.get(is_primary=True).email
        for key in ("fresh", "expired", "disabled")
    )
    for customer_id in invited:
        access = PortalAccess.objects.get(customer_id=customer_id)
        assert access.status == AccessStatus.INVITED
        assert access.invitation_expires_at > timezone.now() + timedelta(days=6)
        assert access.disabled_at is None
        # exactly one usable token, the earlier ones superseded
        usable = access.invitations.filter(used_at=None, superseded_at=None)
        assert usable.count() == 1
    mixed_customers["expired_invitation"].refresh_from_db()
    assert mixed_customers["expired_invitation"].superseded_at is not None
    # the active and the still-invited contacts are left alone
    assert PortalAccess.objects.get(customer=mixed_customers["active"]).status == "active"
    assert PortalInvitation.objects.filter(access__customer=mixed_customers["invited"]).count() == 1


@pytest.mark.django_db
def test_running_enable_portal_twice_sends_nothing_twice(staff_client, organization):
    # Given customers whose portal was enabled
    customers = [customer_with_primary(organization) for _ in range(3)]
    ids = [customer.pk for customer in customers]
    enable_portal(staff_client, ids=ids)
    run_job(BulkInvite.objects.get().pk)
    assert OutboundEmail.objects.count() == 3

    # When staff enable it again for the same customers
    enable_portal(staff_client, ids=ids)
    second = run_job(BulkInvite.objects.latest("id").pk)

    # Then nobody gets a second invitation: they already have access
    assert (second.invited, second.skipped_already) == (0, 3)
    assert OutboundEmail.objects.count() == 3
    assert set(invitations_per_contact().values()) == {1}


@pytest.mark.django_db
def test_all_matching_invites_the_customers_the_filters_match(staff_client, organization):
    # Given euro and dollar customers, one euro customer inactive
    euro = [customer_with_primary(organization) for _ in range(3)]
    for customer in euro:
        customer.currency = "EUR"
        customer.save()
    euro[2].is_active = False
    euro[2].save()
    dollars = customer_with_primary(organization)

    # When staff select all customers matching "EUR, active" (the default status)
    response = enable_portal(staff_client, all_matching="1", currency="EUR", ids=[dollars.pk])
    job = BulkInvite.objects.get()
    assert response.status_code == 302
    assert (job.all_matching, job.total, job.customer_ids) == (True, 2, [])
    assert job.filters["currency"] == "EUR"
    job = run_job(job.pk)

    # Then the two active euro customers are invited, not the others
    assert (job.total, job.processed, job.invited) == (2, 2, 2)
    assert set(PortalAccess.objects.values_list("customer_id", flat=True)) == {
        euro[0].pk,
        euro[1].pk,
    }


@pytest.mark.django_db
def test_another_organisations_customers_are_never_touched(staff_client, organization):
    # Given a customer of ours and one of another organisation
    ours = customer_with_primary(organization)
    theirs = customer_with_primary(CustomerFactory().organization)

    # When staff post both ids (a tampered form), and then all matching
    enable_portal(staff_client, ids=[ours.pk, theirs.pk])
    enable_portal(staff_client, all_matching="1", status="all")
    for job in BulkInvite.objects.all():
        run_job(job.pk)

    # Then only ours was counted and invited
    assert list(BulkInvite.objects.values_list("total", flat=True)) == [1, 1]
    assert list(PortalAccess.objects.values_list("customer_id", flat=True)) == [ours.pk]
    assert not OutboundEmail.objects.filter(organization=theirs.organization).exists()


@pytest.mark.django_db
def test_another_organisations_job_is_not_found(client, organization):
    # Given a job of another organisation
    theirs = BulkInvite.objects.create(
        organization=CustomerFactory().organization, total=1, status=BulkInviteStatus.FAILED
    )
    client.force_login(MembershipFactory(organization=organization).user)

    # When staff open or resume it
    # Then it does not exist for them
    assert client.get(f"/app/settings/portal/bulk/{theirs.pk}/").status_code == 404
    assert client.post(f"/app/settings/portal/bulk/{theirs.pk}/resume/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == BulkInviteStatus.FAILED


# -- Resuming ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_that_stopped_on_an_error_goes_on_where_it_was(
    staff_client, organization, monkeypatch
):
    # Given a job of five customers, two per chunk, whose second chunk fails
    customers = [customer_with_primary(organization) for _ in range(5)]
    enable_portal(staff_client, ids=[customer.pk for customer in customers])
    job = BulkInvite.objects.get()
    real_invite = bulk._Inviter.invite
    calls = []

    def failing_invite(self, invitees, **options):
        calls.append(len(invitees))
        if len(calls) == 2:
            raise ConnectionError("database went away")
        return real_invite(self, invitees, **options)

    monkeypatch.setattr(bulk._Inviter, "invite", failing_invite)
    with pytest.raises(ConnectionError):
        run_job(job.pk, chunk_size=2)

    # Then the job stopped after its first chunk, which is kept
    job.refresh_from_db()
    assert (job.status, job.processed, job.invited) == (BulkInviteStatus.FAILED, 2, 2)
    assert "database went away" in job.error
    page = staff_client.get(f"/app/settings/portal/bulk/{job.pk}/")
    assert "Enabling the portal stopped after 2 of 5 customers (2 invited)." in page.text
    assert "Try again" in page.text

    # When staff press Try again and the worker runs the job
    monkeypatch.setattr(bulk._Inviter, "invite", real_invite)
    tasks_before = bulk_tasks().count()
    response = staff_client.post(f"/app/settings/portal/bulk/{job.pk}/resume/")
    assert response.status_code == 302
    assert bulk_tasks().count() == tasks_before + 1
    job = run_job(job.pk, chunk_size=2)

    # Then it finishes, and nobody was invited twice
    assert (job.status, job.processed, job.invited, job.skipped_already) == ("done", 5, 5, 0)
    assert job.error == ""
    assert sorted(invitations_per_contact().values()) == [1] * 5
    assert OutboundEmail.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_was_killed_is_finished_by_the_next_worker(
    organization,
    membership,
    monkeypatch,
    run_db_worker,  # noqa: F811
):
    # Given a job whose worker died in its second chunk (the chunk's
    # transaction is lost; the job stays "running"), some minutes ago
    customers = [customer_with_primary(organization) for _ in range(5)]
    job = bulk.bulk_invite_start(
        organization=organization,
        actor=membership.user,
        ids=[customer.pk for customer in customers],
        all_matching=False,
        filters=CustomerFilters(),
    )
    real_invite = bulk._Inviter.invite
    calls = []

    def killed(self, invitees, **options):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # not an Exception: nothing marks the job failed
        return real_invite(self, invitees, **options)

    monkeypatch.setattr(bulk._Inviter, "invite", killed)
    with pytest.raises(KeyboardInterrupt):
        run_job(job.pk, chunk_size=2)
    monkeypatch.setattr(bulk._Inviter, "invite", real_invite)
    bulk_tasks().delete()  # the dead worker's task is gone with it
    BulkInvite.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - bulk.STALE_AFTER - timedelta(seconds=1)
    )
    job.refresh_from_db()
    assert (job.status, job.processed) == (BulkInviteStatus.RUNNING, 2)

    # When a worker starts
    run_db_worker()

    # Then it finishes the job from the third customer on
    job.refresh_from_db()
    assert (job.status, job.processed, job.invited) == (BulkInviteStatus.DONE, 5, 5)
    assert sorted(invitations_per_contact().values()) == [1] * 5


@pytest.mark.django_db
def test_a_running_job_is_not_run_again_at_worker_start(organization):
    # Given a job whose worker is alive (its row changed a moment ago)
    job = BulkInvite.objects.create(organization=organization, status="running", total=1)

    # When a worker starts
    # Then it leaves the job to its worker
    assert bulk.bulk_invite_recover() == 0
    assert bulk.bulk_invite_recover(now=job.updated_at + bulk.STALE_AFTER) == 1


@pytest.mark.django_db
def test_only_a_failed_job_can_be_tried_again(staff_client, organization):
    job = BulkInvite.objects.create(organization=organization, status="done", total=1)

    response = staff_client.post(f"/app/settings/portal/bulk/{job.pk}/resume/", follow=True)

    assert "Only a job that stopped on an error can be tried again." in response.text
    job.refresh_from_db()
    assert job.status == BulkInviteStatus.DONE


# -- The worker, for real ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_carries_out_the_job_and_the_invitations_are_delivered(
    client,
    membership,
    organization,
    smtp_server,  # noqa: F811
    run_db_worker,  # noqa: F811
):
    # Given two customers; staff enable the portal for all matching
    customers = [customer_with_primary(organization) for _ in range(2)]
    client.force_login(membership.user)
    response = enable_portal(client, all_matching="1")

    # When the worker runs
    run_db_worker()

    # Then each primary contact received one invitation with a working link
    progress = client.get(response["Location"])
    assert RESULT.format(invited=2, no_contact=0, no_email=0, already=0) in progress.text
    received = sorted(message.rcpt_tos[0] for message in smtp_server.received)
    assert received == sorted(customer.contacts.get().email for customer in customers)
    for message in smtp_server.received:
        assert "/accept/" in message.body("text/plain")
        assert "Accept invitation" in message.body("text/html")


# -- The e-mail is the one a single invitation sends ---------------------------------


@pytest.mark.django_db
def test_the_bulk_invitation_email_is_the_single_invitation_email(
    staff_client, organization, mailoutbox
):
    # Given a contact whose name and company need escaping in HTML, invited once
    customer = CustomerFactory(organization=organization, display_name="Smith & Sons <Ltd>")
    contact = ContactPersonFactory(customer=customer, is_primary=True, first_name='Zoë "O\'Neil"')
    customer.portal_language = "de"
    customer.save()
    portal_access_invite(contact=contact, actor=None)
    single = OutboundEmail.objects.get()
    PortalAccess.objects.update(invitation_expires_at=timezone.now() - timedelta(seconds=1))

    # When Enable portal invites them again
    enable_portal(staff_client, ids=[customer.pk])
    run_job(BulkInvite.objects.get().pk)

    # Then the e-mail is the same, but for its own link (sent by the job)
    again = OutboundEmail.objects.exclude(pk=single.pk).get()
    for name in ("subject", "body_text", "body_html", "from_email", "reply_to", "language"):
        assert getattr(again, name) == getattr(single, name), name
    assert (again.to_email, again.to_name) == (single.to_email, single.to_name)
    assert again.status == EmailStatus.SENT
    (sent,) = mailoutbox
    assert "/accept/" in sent.body
    assert single.secret_values["accept_url"] not in sent.body
    assert "Smith &amp; Sons &lt;Ltd&gt;" in again.body_html
    assert "Zoë &quot;O&#x27;Neil&quot;" in again.body_html


# -- The progress page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_progress_page_shows_the_count_until_done_then_the_result(
    staff_client, organization, mixed_customers
):
    # Given a job the worker has not finished
    ids = [customer.pk for key, customer in mixed_customers.items() if key != "expired_invitation"]
    enable_portal(staff_client, ids=ids)
    job = BulkInvite.objects.get()
    url = f"/app/settings/portal/bulk/{job.pk}/"

    # When staff look before the worker started
    page = staff_client.get(url)
    # Then the page waits, polling with htmx, refreshing itself without JavaScript
    assert page.status_code == 200
    assert "Waiting for the worker to start" in page.text
    assert 'hx-trigger="every 1s"' in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text

    # When the worker is part-way
    BulkInvite.objects.filter(pk=job.pk).update(status="running", processed=3)
    partial = staff_client.get(url, headers={"HX-Request": "true"})
    # Then the htmx partial (no layout) shows the count and keeps polling
    assert "<html" not in partial.text
    assert "Inviting primary contacts: 3 of 8 customers done" in partial.text
    assert 'aria-valuenow="37"' in partial.text
    assert 'hx-trigger="every 1s"' in partial.text

    # When it is done
    BulkInvite.objects.filter(pk=job.pk).update(status="queued", processed=0)
    run_job(job.pk)
    partial = staff_client.get(url, headers={"HX-Request": "true"})
    page = staff_client.get(url)
    # Then both show the result and stop polling
    result = RESULT.format(invited=3, no_contact=2, no_email=1, already=2)
    for response in (partial, page):
        assert result in response.text
        assert 'hx-trigger="every 1s"' not in response.text  # the progress stops polling
        assert "http-equiv" not in response.text
    assert "running Enable portal again sends nobody a second invitation" in page.text
    assert '<a href="/app/settings/emails/">Settings → E-mails</a> shows each one.' in page.text


@pytest.mark.django_db
def test_the_progress_page_runs_the_same_queries_for_any_size_of_job(
    staff_client, organization, django_assert_num_queries
):
    # Given a job of 5 customers and one of 50,000
    small = BulkInvite.objects.create(
        organization=organization, total=5, customer_ids=list(range(5)), status="running"
    )
    large = BulkInvite.objects.create(
        organization=organization,
        total=50_000,
        customer_ids=list(range(50_000)),
        status="running",
    )
    staff_client.get(f"/app/settings/portal/bulk/{small.pk}/")  # session, caches

    # When htmx polls either job, or staff open its page
    # Then the queries are the same few: session, user, membership and the
    # job (and the page's organisation switcher), whatever the job's size
    for job in (small, large):
        with django_assert_num_queries(4):
            response = staff_client.get(
                f"/app/settings/portal/bulk/{job.pk}/", headers={"HX-Request": "true"}
            )
        assert response.status_code == 200
        with django_assert_num_queries(5):
            assert staff_client.get(f"/app/settings/portal/bulk/{job.pk}/").status_code == 200


@pytest.mark.django_db
def test_the_customer_list_offers_enable_portal(staff_client, organization):
    CustomerFactory(organization=organization)

    page = staff_client.get("/app/customers/")

    assert 'name="action" value="enable_portal"' in page.text
    assert "Enable portal" in page.text
