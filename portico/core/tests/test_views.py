import pytest
from django.urls import reverse
from django.utils import timezone

from portico.accounts.tests.factories import MembershipFactory
from portico.customers.tests.factories import CustomerFactory
from portico.mail.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")


def make_emails(organization, status: str, count: int) -> None:
    OutboundEmail.objects.bulk_create(
        OutboundEmail(
            organization=organization,
            kind="test",
            to_email=f"to{number}@example.com",
            from_email="Portico <no-reply@portico.test>",
            language="en",
            subject="Hello",
            body_text="Hello",
            message_id=f"<{status}-{number}-{organization.pk}@portico.test>",
            status=status,
            next_attempt_at=timezone.now(),
        )
        for number in range(count)
    )


def test_the_root_sends_visitors_to_sign_in(client):
    assert client.get("/").url == reverse("accounts:login")


def test_the_root_sends_staff_home(staff_client):
    assert staff_client.get("/").url == HOME


def test_home_needs_sign_in(client):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_home_counts_the_organisations_customers_and_emails(staff_client, organization):
    # given
    CustomerFactory.create_batch(3, organization=organization)
    CustomerFactory(organization=organization, is_active=False)
    make_emails(organization, EmailStatus.QUEUED, 2)
    make_emails(organization, EmailStatus.SENDING, 1)
    make_emails(organization, EmailStatus.FAILED, 4)
    make_emails(organization, EmailStatus.SENT, 5)
    other = MembershipFactory().organization  # another organisation's rows do not count
    CustomerFactory.create_batch(2, organization=other)
    make_emails(other, EmailStatus.FAILED, 3)

    # when
    response = staff_client.get(HOME)

    # then
    assert response.status_code == 200
    assert response.context["customers"] == {"total": 4, "active": 3}
    assert response.context["emails"] == {"queued": 3, "failed": 4}


# session, user, membership + organisation, customer counts, e-mail counts,
# today's activity, quotes awaiting (count, latest), invoices viewed unpaid
# (count, latest), latest comments, the organisation switcher's memberships
HOME_QUERIES = 12


@pytest.mark.parametrize("count", [3, 60])
def test_home_needs_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    CustomerFactory.create_batch(count, organization=organization)
    make_emails(organization, EmailStatus.FAILED, count)

    # when / then
    with django_assert_num_queries(HOME_QUERIES):
        staff_client.get(HOME)


def test_healthz_answers_ok_after_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("core:healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
