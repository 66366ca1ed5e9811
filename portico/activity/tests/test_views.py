"""The bell, the Notifications page, opening and marking, preferences, document history."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from portico.accounts.tests.factories import MembershipFactory
from portico.activity.models import (
    ActivityEvent,
    Channel,
    EventKind,
    Notification,
    NotificationPreferences,
)
from portico.activity.services import activity_record
from portico.customers.tests.factories import CustomerFactory
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory

pytestmark = pytest.mark.django_db

BELL_COUNT = reverse("notifications:bell_count")
BELL = reverse("notifications:bell")
LIST = reverse("notifications:list")
READ_ALL = reverse("notifications:read_all")
PREFERENCES = reverse("notifications:preferences")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def user(membership):
    return membership.user


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Lind & Sons")


def notify(
    recipient,
    organization,
    *,
    count=1,
    kind=EventKind.QUOTE_ACCEPTED,
    customer=None,
    document=None,
    read=False,
    in_app=True,
    ago=timedelta(0),
):
    """``count`` events and their notifications for ``recipient`` (rows made directly)."""
    now = timezone.now() - ago
    events = ActivityEvent.objects.bulk_create(
        ActivityEvent(
            organization=organization,
            kind=kind,
            customer=customer,
            customer_name=customer.display_name if customer else "",
            actor_name="Ada Contact",
            content_type=ContentType.objects.get_for_model(document) if document else None,
            object_id=document.pk if document else None,
            document_number=document.number if document else "",
            data={"reason": "Too dear", "amount": "€10.00", "count": 2},
            occurred_at=now - timedelta(seconds=number),
        )
        for number in range(count)
    )
    return Notification.objects.bulk_create(
        Notification(
            organization=organization,
            recipient=recipient,
            event=event,
            in_app=in_app,
            created_at=event.occurred_at,
            read_at=now if read else None,
        )
        for event in events
    )


# ---------------------------------------------------------------- the bell


def test_the_staff_layout_has_a_bell_that_polls_without_a_query(staff_client):
    response = staff_client.get(reverse("core:home"))

    html = response.content.decode()
    assert f'hx-get="{BELL_COUNT}"' in html
    assert "every 30s [document.visibilityState === 'visible']" in html
    assert 'hx-trigger="show.bs.dropdown"' in html


def test_the_bell_polls_as_often_as_the_setting_says(staff_client, settings):
    settings.NOTIFICATION_POLL_SECONDS = 5

    response = staff_client.get(reverse("core:home"))

    assert "every 5s [document.visibilityState === 'visible']" in response.content.decode()


def test_the_bell_counts_only_my_unread_in_app_notifications_here(
    staff_client, user, organization, customer
):
    # given
    notify(user, organization, count=3, customer=customer)
    notify(user, organization, count=2, customer=customer, read=True)
    notify(user, organization, count=4, customer=customer, in_app=False)  # e-mail only
    colleague = MembershipFactory(organization=organization).user
    notify(colleague, organization, count=5, customer=customer)
    elsewhere = MembershipFactory(user=user).organization
    notify(user, elsewhere, count=6)

    # when
    response = staff_client.get(BELL_COUNT, **HTMX)

    # then
    assert response.status_code == 200
    assert 'data-unread-count="3"' in response.content.decode()


def test_the_bell_shows_nothing_at_zero_and_99_plus_from_a_hundred(
    staff_client, user, organization
):
    assert "badge" not in staff_client.get(BELL_COUNT, **HTMX).content.decode()

    notify(user, organization, count=120)

    html = staff_client.get(BELL_COUNT, **HTMX).content.decode()
    assert ">99+<" in html


# session, user, membership + organisation, the count
BELL_COUNT_QUERIES = 4


@pytest.mark.parametrize("count", [3, 300])
def test_the_bell_count_takes_the_same_queries_for_few_and_many(
    staff_client, user, organization, django_assert_num_queries, count
):
    notify(user, organization, count=count)

    with django_assert_num_queries(BELL_COUNT_QUERIES):
        staff_client.get(BELL_COUNT, **HTMX)


def test_the_dropdown_lists_the_latest_eight_with_customer_and_unread_dot(
    staff_client, user, organization, customer
):
    # given
    quote = QuoteFactory(customer=customer)
    notify(user, organization, count=10, customer=customer, document=quote, ago=timedelta(hours=2))
    newest = notify(user, organization, customer=customer, kind=EventKind.COMMENT_ADDED)[0]

    # when
    response = staff_client.get(BELL, **HTMX)

    # then
    html = response.content.decode()
    assert html.count("data-notification=") == 8
    assert html.index(f'data-notification="{newest.pk}"') < html.index("accepted")
    assert "Ada Contact (Lind &amp; Sons) accepted quote " + quote.number in html
    assert 'aria-label="Unread"' in html
    assert reverse("notifications:open", args=[newest.pk]) in html
    assert LIST in html
    assert "Mark all read" in html


def test_the_dropdown_names_a_deleted_document(staff_client, user, organization, customer):
    invoice = InvoiceFactory(customer=customer)
    notify(user, organization, customer=customer, document=invoice, kind=EventKind.INVOICE_PAID)
    number = invoice.number
    invoice.delete()

    response = staff_client.get(BELL, **HTMX)

    assert response.status_code == 200
    assert f"invoice {number} (deleted document)" in response.content.decode()


# session, user, membership + organisation, notifications with events and
# content types, the quotes they name
DROPDOWN_QUERIES = 5


@pytest.mark.parametrize("count", [3, 300])
def test_the_dropdown_takes_the_same_queries_for_few_and_many(
    staff_client, user, organization, customer, django_assert_num_queries, count
):
    notify(
        user, organization, count=count, customer=customer, document=QuoteFactory(customer=customer)
    )

    with django_assert_num_queries(DROPDOWN_QUERIES):
        response = staff_client.get(BELL, **HTMX)

    assert response.content.decode().count("data-notification=") == min(count, 8)


# ---------------------------------------------------------------- opening


def test_opening_a_notification_marks_it_read_and_goes_to_the_document(
    staff_client, user, organization, customer
):
    quote = QuoteFactory(customer=customer)
    notification = notify(user, organization, customer=customer, document=quote)[0]

    response = staff_client.get(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response.url == reverse("quotes:detail", kwargs={"pk": quote.pk})
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_a_notification_of_a_deleted_document_goes_to_the_customer(
    staff_client, user, organization, customer
):
    quote = QuoteFactory(customer=customer)
    notification = notify(user, organization, customer=customer, document=quote)[0]
    quote.delete()

    response = staff_client.get(reverse("notifications:open", args=[notification.pk]))

    assert response.url == reverse("customers:detail", kwargs={"customer_id": customer.pk})


def test_another_members_notification_is_not_found(staff_client, organization, customer):
    colleague = MembershipFactory(organization=organization).user
    theirs = notify(colleague, organization, customer=customer)[0]

    assert staff_client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    response = staff_client.post(reverse("notifications:read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


# ---------------------------------------------------------------- the page


def test_the_page_lists_my_notifications_25_to_a_page(staff_client, user, organization, customer):
    notify(user, organization, count=30, customer=customer)
    notify(MembershipFactory(organization=organization).user, organization, count=2)

    first = staff_client.get(LIST)
    second = staff_client.get(LIST, {"page": 2})

    assert first.status_code == 200
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert first.context["page"].paginator.count == 30


def test_the_page_filters_by_type_customer_and_unread(staff_client, user, organization, customer):
    # given
    other = CustomerFactory(organization=organization, display_name="Other Co")
    accepted = notify(user, organization, customer=customer)[0]
    comment = notify(user, organization, customer=other, kind=EventKind.COMMENT_ADDED)[0]
    read = notify(user, organization, customer=customer, kind=EventKind.COMMENT_ADDED, read=True)[0]

    def listed(**query):
        response = staff_client.get(LIST, query)
        return {notification.pk for notification in response.context["page"].object_list}

    # then
    assert listed() == {accepted.pk, comment.pk, read.pk}
    assert listed(kind=EventKind.COMMENT_ADDED) == {comment.pk, read.pk}
    assert listed(customer=customer.pk) == {accepted.pk, read.pk}
    assert listed(unread="on") == {accepted.pk, comment.pk}
    assert listed(kind=EventKind.COMMENT_ADDED, customer=customer.pk, unread="on") == set()
    assert listed(kind="nonsense", customer="x") == {accepted.pk, comment.pk, read.pk}


def test_the_page_answers_htmx_with_the_results_alone(staff_client, user, organization):
    notify(user, organization, count=2)

    response = staff_client.get(LIST, {"unread": "on"}, **HTMX)

    html = response.content.decode()
    assert 'id="notification-results"' in html
    assert "<html" not in html


# session, user, membership + organisation, count, page with events and content
# types, its invoices, the organisation switcher
PAGE_QUERIES = 7


@pytest.mark.parametrize("count", [3, 60])
def test_the_page_takes_the_same_queries_for_few_and_many(
    staff_client, user, organization, customer, django_assert_num_queries, count
):
    invoice = InvoiceFactory(customer=customer)
    notify(user, organization, count=count, customer=customer, document=invoice)

    with django_assert_num_queries(PAGE_QUERIES):
        staff_client.get(LIST)


def test_marking_one_read_and_unread_with_htmx_swaps_its_row(
    staff_client, user, organization, customer
):
    notification = notify(user, organization, customer=customer)[0]

    response = staff_client.post(reverse("notifications:read", args=[notification.pk]), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert "Mark unread" in response.content.decode()
    notification.refresh_from_db()
    assert notification.read_at is not None

    response = staff_client.post(reverse("notifications:unread", args=[notification.pk]), **HTMX)

    assert "Mark read" in response.content.decode()
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_read_without_javascript_goes_back_to_the_page(staff_client, user, organization):
    notification = notify(user, organization)[0]

    response = staff_client.post(
        reverse("notifications:read", args=[notification.pk]),
        {"next": f"{LIST}?unread=on"},
    )

    assert response.url == f"{LIST}?unread=on"
    unsafe = staff_client.post(
        reverse("notifications:unread", args=[notification.pk]), {"next": "https://evil.example/"}
    )
    assert unsafe.url == LIST


def test_marking_needs_a_post(staff_client, user, organization):
    notification = notify(user, organization)[0]

    assert (
        staff_client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405
    )
    assert staff_client.get(READ_ALL).status_code == 405


def test_mark_all_read_marks_only_mine_in_this_organisation(staff_client, user, organization):
    mine = notify(user, organization, count=3)
    colleague = MembershipFactory(organization=organization).user
    theirs = notify(colleague, organization, count=2)
    elsewhere = notify(user, MembershipFactory(user=user).organization, count=2)

    response = staff_client.post(READ_ALL, {"next": LIST})

    assert response.url == LIST
    assert (
        Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).count() == 0
    )
    assert (
        Notification.objects.filter(
            pk__in=[n.pk for n in theirs + elsewhere], read_at__isnull=True
        ).count()
        == 4
    )


def test_mark_all_read_from_the_bell_answers_with_the_dropdown(staff_client, user, organization):
    notify(user, organization, count=2)

    response = staff_client.post(READ_ALL, {"from": "bell"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    html = response.content.decode()
    assert html.count("data-notification=") == 2
    assert 'aria-label="Unread"' not in html


# ---------------------------------------------------------------- preferences


def test_preferences_start_at_the_organisations_default(staff_client, organization):
    PortalSettingsFactory(organization=organization, notify_in_app=True, notify_by_email=False)

    response = staff_client.get(PREFERENCES)

    assert response.status_code == 200
    form = response.context["form"]
    assert form[f"channel_{EventKind.QUOTE_ACCEPTED}"].value() == Channel.IN_APP
    html = response.content.decode()
    assert "organisation default" in html
    assert "turned off notifications by e-mail" in html
    assert reverse("portal_access:settings") in html


def test_saving_preferences_keeps_only_what_differs_from_the_default(
    staff_client, user, organization
):
    # given: in the app and by e-mail by default
    data = {f"channel_{kind}": Channel.BOTH for kind in EventKind.values}
    data[f"channel_{EventKind.DOCUMENT_VIEWED}"] = Channel.NONE
    data[f"channel_{EventKind.QUOTE_ACCEPTED}"] = Channel.EMAIL
    data["only_my_customers"] = "on"

    # when
    response = staff_client.post(PREFERENCES, data)

    # then
    assert response.status_code == 302
    saved = NotificationPreferences.objects.get(user=user, organization=organization)
    assert saved.channels == {
        EventKind.DOCUMENT_VIEWED: Channel.NONE,
        EventKind.QUOTE_ACCEPTED: Channel.EMAIL,
    }
    assert saved.only_my_customers is True
    form = staff_client.get(PREFERENCES).context["form"]
    assert form[f"channel_{EventKind.QUOTE_ACCEPTED}"].value() == Channel.EMAIL
    assert form["only_my_customers"].value() is True


def test_an_invalid_channel_is_refused(staff_client, user):
    response = staff_client.post(PREFERENCES, {f"channel_{EventKind.SIGNED_UP}": "pigeon"})

    assert response.status_code == 422
    assert not NotificationPreferences.objects.filter(user=user).exists()


def test_saved_preferences_decide_who_hears_about_an_event(staff_client, user, organization):
    # given: I turn accepted quotes off
    data = {f"channel_{kind}": Channel.BOTH for kind in EventKind.values}
    data[f"channel_{EventKind.QUOTE_ACCEPTED}"] = Channel.NONE
    staff_client.post(PREFERENCES, data)
    access = PortalAccessFactory(active=True, contact__customer__organization=organization)

    # when
    accepted = activity_record(
        organization=organization,
        kind=EventKind.QUOTE_ACCEPTED,
        customer=access.customer,
        contact=access.contact,
        actor=access.user,
        document=QuoteFactory(customer=access.customer),
    )
    commented = activity_record(
        organization=organization,
        kind=EventKind.COMMENT_ADDED,
        customer=access.customer,
        contact=access.contact,
        actor=access.user,
        document=QuoteFactory(customer=access.customer),
    )

    # then
    assert not Notification.objects.filter(event=accepted, recipient=user).exists()
    assert Notification.objects.filter(event=commented, recipient=user, in_app=True).exists()
    assert 'data-unread-count="1"' in staff_client.get(BELL_COUNT, **HTMX).content.decode()


# ---------------------------------------------------------------- document history


def test_a_quotes_page_lists_its_portal_activity_newest_first(staff_client, organization, customer):
    quote = QuoteFactory(customer=customer)
    access = PortalAccessFactory(active=True, contact__customer=customer)
    for kind in (EventKind.DOCUMENT_VIEWED, EventKind.QUOTE_ACCEPTED):
        activity_record(
            organization=organization,
            kind=kind,
            customer=customer,
            contact=access.contact,
            actor=access.user,
            document=quote,
        )

    response = staff_client.get(reverse("quotes:detail", kwargs={"pk": quote.pk}))

    html = response.content.decode()
    assert "Portal activity" in html
    name = access.contact.full_name
    viewed = html.index(f"{name} (Lind &amp; Sons) viewed quote {quote.number}")
    accepted = html.index(f"{name} (Lind &amp; Sons) accepted quote {quote.number}")
    assert accepted < viewed


# ---------------------------------------------------------------- customer owner


def test_the_customer_form_saves_a_member_as_customer_owner(staff_client, organization):
    colleague = MembershipFactory(organization=organization, user__full_name="Cleo Owner").user
    outsider = MembershipFactory().user

    page = staff_client.get(reverse("customers:create"))
    assert "Customer owner" in page.content.decode()
    assert "Cleo Owner" in page.content.decode()
    assert outsider.email not in page.content.decode()

    data = {
        "customer_type": "business",
        "display_name": "Owned Ltd",
        "currency": "EUR",
        "payment_terms": "30",
        "portal_language": "en",
        "owner": colleague.pk,
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
    }
    response = staff_client.post(reverse("customers:create"), data)

    assert response.status_code == 302
    assert CustomerFactory._meta.model.objects.get(display_name="Owned Ltd").owner == colleague

    refused = staff_client.post(reverse("customers:create"), {**data, "owner": outsider.pk})
    assert refused.status_code == 422
