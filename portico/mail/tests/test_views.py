import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.mail.models import EmailStatus
from portico.mail.tests.factories import OutboundEmailFactory

pytestmark = pytest.mark.django_db

OUTBOX_URL = "/app/settings/emails/"


def listed(response) -> list[int]:
    return [email.pk for email in response.context["page"].object_list]


def test_the_outbox_lists_the_organisations_emails_newest_first(staff_client, organization):
    # Given e-mails of this organisation and of another one
    older = OutboundEmailFactory(organization=organization, subject="Your quote")
    newer = OutboundEmailFactory(organization=organization, subject="Your invoice")
    OutboundEmailFactory(subject="Someone else's invoice")

    # When staff open the outbox
    response = staff_client.get(OUTBOX_URL)

    # Then they see their own, newest first
    assert response.status_code == 200
    assert listed(response) == [newer.pk, older.pk]
    assert "Your invoice" in response.text
    assert "Someone else" not in response.text


def test_the_outbox_filters_by_status(staff_client, organization):
    # Given e-mails in every state
    by_status = {
        status: OutboundEmailFactory(organization=organization, status=status)
        for status in EmailStatus.values
    }

    for status, email in by_status.items():
        # When staff pick a status
        response = staff_client.get(OUTBOX_URL, {"status": status})
        # Then only those are listed
        assert listed(response) == [email.pk]

    # An unknown status lists everything
    assert len(listed(staff_client.get(OUTBOX_URL, {"status": "bogus"}))) == 4


def test_the_outbox_shows_fifty_emails_a_page(staff_client, organization):
    OutboundEmailFactory.create_batch(55, organization=organization)

    first = staff_client.get(OUTBOX_URL)
    second = staff_client.get(OUTBOX_URL, {"page": 2})

    assert len(listed(first)) == 50
    assert len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    assert "Page 2 of 2" in second.text


def test_the_outbox_query_count_does_not_grow_with_the_emails(
    staff_client, organization, django_assert_num_queries
):
    # Given a few e-mails, the page's queries are counted
    OutboundEmailFactory.create_batch(2, organization=organization, status=EmailStatus.FAILED)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(OUTBOX_URL).status_code == 200

    # When there are many more, in every state
    for status in EmailStatus.values:
        OutboundEmailFactory.create_batch(
            30, organization=organization, status=status, attempts=2, last_error="421 busy"
        )

    # Then the page makes the same queries
    with django_assert_num_queries(len(few)):
        response = staff_client.get(OUTBOX_URL)
    assert len(listed(response)) == 50


def test_the_detail_shows_the_email_and_offers_a_retry_only_when_failed(staff_client, organization):
    failed = OutboundEmailFactory(
        organization=organization,
        to_name="Lovelace, Ada 山田",
        to_email="ada@example.com",
        subject="Your invoice INV-7",
        status=EmailStatus.FAILED,
        last_error="SMTPRecipientsRefused: 550 No such mailbox",
    )
    sent = OutboundEmailFactory(organization=organization, status=EmailStatus.SENT)

    response = staff_client.get(reverse("mail:detail", args=[failed.pk]))

    assert response.status_code == 200
    assert "Your invoice INV-7" in response.text
    assert "&quot;Lovelace, Ada 山田&quot; &lt;ada@example.com&gt;" in response.text
    assert "550 No such mailbox" in response.text
    assert reverse("mail:retry", args=[failed.pk]) in response.text
    assert reverse("mail:html", args=[failed.pk]) in response.text  # the preview frame
    assert (
        reverse("mail:retry", args=[sent.pk])
        not in staff_client.get(reverse("mail:detail", args=[sent.pk])).text
    )


def test_the_html_preview_is_served_with_a_locked_down_policy(staff_client, organization):
    email = OutboundEmailFactory(
        organization=organization, body_html="<p>Hello</p><script>alert(1)</script>"
    )

    response = staff_client.get(reverse("mail:html", args=[email.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == email.body_html
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    ("method", "name"),
    [("get", "mail:detail"), ("get", "mail:html"), ("post", "mail:retry")],
)
def test_another_organisations_email_is_not_found(staff_client, method, name):
    # Given a failed e-mail of another organisation
    other = OutboundEmailFactory(status=EmailStatus.FAILED)

    # When staff reach for it by id
    response = getattr(staff_client, method)(reverse(name, args=[other.pk]))

    # Then it does not exist for them, and is left as it was
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == EmailStatus.FAILED


def test_retry_only_answers_post(staff_client, organization):
    email = OutboundEmailFactory(organization=organization, status=EmailStatus.FAILED)

    response = staff_client.get(reverse("mail:retry", args=[email.pk]))

    assert response.status_code == 405
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED


@pytest.mark.parametrize("name", ["mail:outbox", "mail:detail", "mail:html"])
def test_the_outbox_needs_a_signed_in_member(client, name):
    email = OutboundEmailFactory()
    url = reverse(name) if name == "mail:outbox" else reverse(name, args=[email.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
