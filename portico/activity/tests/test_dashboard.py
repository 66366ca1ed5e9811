"""Staff home: today's portal activity, quotes awaiting customers, invoices viewed
but unpaid, the latest comments — in a fixed number of queries."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from portico.accounts.tests.factories import MembershipFactory
from portico.activity.models import ActivityEvent, EventKind
from portico.comments.models import Comment
from portico.customers.tests.factories import CustomerFactory
from portico.sales.models import InvoiceStatus, QuoteStatus
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")


@pytest.fixture(autouse=True)
def midday(monkeypatch):
    """The clock stands at noon today: "today's activity" from minutes ago
    must not fall into yesterday when the suite runs just after midnight."""
    noon = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    monkeypatch.setattr(timezone, "now", lambda: noon)
    return noon


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Lind & Sons")


def event(organization, customer, document, *, kind=EventKind.DOCUMENT_VIEWED, ago=timedelta(0)):
    return ActivityEvent.objects.create(
        organization=organization,
        kind=kind,
        customer=customer,
        customer_name=customer.display_name,
        actor_name="Ada Contact",
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
        document_number=document.number,
        occurred_at=timezone.now() - ago,
    )


def comment(document, *, body, from_customer, internal=False, ago=timedelta(0)):
    return Comment.objects.create(
        organization_id=document.organization_id,
        customer=document.customer,
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
        author_name="Ada Contact" if from_customer else "Sam Staff",
        body=body,
        from_customer=from_customer,
        internal=internal,
        created_at=timezone.now() - ago,
    )


def test_home_shows_todays_portal_activity_latest_first(staff_client, organization, customer):
    quote = QuoteFactory(customer=customer, status=QuoteStatus.SENT)
    event(organization, customer, quote, ago=timedelta(minutes=5))
    event(organization, customer, quote, kind=EventKind.QUOTE_ACCEPTED)
    event(organization, customer, quote, kind=EventKind.COMMENT_ADDED, ago=timedelta(days=2))
    other = CustomerFactory()
    event(other.organization, other, QuoteFactory(customer=other))

    response = staff_client.get(HOME)

    events = response.context["dashboard"].activity_today
    assert [e.kind for e in events] == [EventKind.QUOTE_ACCEPTED, EventKind.DOCUMENT_VIEWED]
    html = response.content.decode()
    assert f"Ada Contact (Lind &amp; Sons) accepted quote {quote.number}" in html
    assert reverse("notifications:list") in html


def test_home_keeps_ten_events_of_today(staff_client, organization, customer):
    quote = QuoteFactory(customer=customer)
    for minutes in range(12):
        event(organization, customer, quote, ago=timedelta(minutes=minutes))

    response = staff_client.get(HOME)

    assert len(response.context["dashboard"].activity_today) == 10


def test_home_counts_quotes_awaiting_customers(staff_client, organization, customer):
    today = timezone.localdate()
    waiting = [
        QuoteFactory(customer=customer, status=QuoteStatus.SENT, date=today - timedelta(days=n))
        for n in range(7)
    ]
    QuoteFactory(customer=customer, status=QuoteStatus.SENT, expiry_date=None)  # never expires
    QuoteFactory(customer=customer, status=QuoteStatus.SENT, expiry_date=today - timedelta(days=1))
    QuoteFactory(customer=customer, status=QuoteStatus.DRAFT)
    QuoteFactory(customer=customer, status=QuoteStatus.ACCEPTED)
    QuoteFactory(status=QuoteStatus.SENT)  # another organisation's

    response = staff_client.get(HOME)

    block = response.context["dashboard"].quotes_awaiting
    assert block.count == 8
    assert len(block.latest) == 5
    assert waiting[0] in block.latest
    assert waiting[6] not in block.latest
    assert waiting[0].number in response.content.decode()


def test_home_lists_invoices_viewed_but_unpaid(staff_client, organization, customer):
    now = timezone.now()
    viewed = InvoiceFactory(customer=customer, status=InvoiceStatus.SENT, portal_viewed_at=now)
    partly = InvoiceFactory(
        customer=customer,
        status=InvoiceStatus.PARTIALLY_PAID,
        portal_viewed_at=now - timedelta(hours=1),
    )
    InvoiceFactory(customer=customer, status=InvoiceStatus.SENT)  # not viewed
    InvoiceFactory(customer=customer, status=InvoiceStatus.PAID, portal_viewed_at=now)
    InvoiceFactory(status=InvoiceStatus.SENT, portal_viewed_at=now)  # another organisation's

    response = staff_client.get(HOME)

    block = response.context["dashboard"].invoices_viewed_unpaid
    assert block.count == 2
    assert block.latest == [viewed, partly]


def test_home_lists_the_latest_comments_customers_first(staff_client, organization, customer):
    quote = QuoteFactory(customer=customer)
    invoice = InvoiceFactory(customer=customer)
    comment(quote, body="Can you do it cheaper?", from_customer=True, ago=timedelta(hours=3))
    comment(invoice, body="Paid yesterday", from_customer=True, ago=timedelta(hours=2))
    comment(quote, body="We can talk", from_customer=False)
    comment(quote, body="Internal: no discount", from_customer=False, internal=True)

    response = staff_client.get(HOME)

    items = response.context["dashboard"].latest_comments
    assert [item.comment.body for item in items] == [
        "Paid yesterday",
        "Can you do it cheaper?",
        "We can talk",
    ]
    assert items[0].url == reverse("invoices:detail", kwargs={"pk": invoice.pk})
    html = response.content.decode()
    assert f"Invoice {invoice.number}" in html
    assert "Internal: no discount" not in html


def test_home_shows_a_comment_on_a_deleted_document(staff_client, organization, customer):
    quote = QuoteFactory(customer=customer)
    comment(quote, body="Hello", from_customer=True)
    quote.delete()

    response = staff_client.get(HOME)

    assert response.status_code == 200
    assert response.context["dashboard"].latest_comments[0].url == ""
    assert "deleted document" in response.content.decode()


def test_home_keeps_the_customer_and_e_mail_counts(staff_client, organization):
    CustomerFactory.create_batch(2, organization=organization)
    MembershipFactory()

    response = staff_client.get(HOME)

    assert response.context["customers"] == {"total": 2, "active": 2}


# session, user, membership + organisation, customer counts, e-mail counts,
# today's events + their quotes, quotes awaiting (count, latest), invoices
# viewed unpaid (count, latest), comments + their quotes, the organisation
# switcher
DASHBOARD_QUERIES = 14


@pytest.mark.parametrize("count", [3, 30])
def test_the_dashboard_takes_the_same_queries_for_few_and_many(
    staff_client, organization, customer, django_assert_num_queries, count
):
    # given
    for number in range(count):
        quote = QuoteFactory(customer=customer, status=QuoteStatus.SENT)
        event(organization, customer, quote, ago=timedelta(seconds=number))
        comment(quote, body=f"Comment {number}", from_customer=number % 2 == 0)
        InvoiceFactory(
            customer=customer, status=InvoiceStatus.SENT, portal_viewed_at=timezone.now()
        )

    # when / then
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = staff_client.get(HOME)
    assert response.status_code == 200
