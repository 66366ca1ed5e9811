"""Viewed tracking: a contact opening a document in the portal is recorded (per
contact: first, last, how many), shown to staff as a Viewed eye in lists and
on the document's page, filterable, and once in the document's history."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.accounts.tests.factories import MembershipFactory
from portico.portal import services
from portico.portal.models import DocumentView
from portico.portal.services import document_view_record
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.history import history_of
from portico.sales.models import (
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    QuoteFactory,
    SalesOrderFactory,
)

pytestmark = pytest.mark.django_db

TRACKED = {
    "quote": (QuoteFactory, QuoteStatus.SENT, "quotes"),
    "sales_order": (SalesOrderFactory, SalesOrderStatus.CONFIRMED, "sales_orders"),
    "invoice": (InvoiceFactory, InvoiceStatus.SENT, "invoices"),
    "credit_note": (CreditNoteFactory, CreditNoteStatus.OPEN, "credit_notes"),
}
MODELS = {"quote": Quote, "sales_order": SalesOrder, "invoice": Invoice, "credit_note": CreditNote}


def make(kind: str, customer, **fields):
    factory, status, _namespace = TRACKED[kind]
    return factory(customer=customer, status=fields.pop("status", status), **fields)


def view_row(document, contact) -> DocumentView:
    return DocumentView.objects.get(
        content_type=ContentType.objects.get_for_model(document),
        object_id=document.pk,
        contact=contact,
    )


def viewed_events(document) -> list[str]:
    return [
        event.text for event in history_of(document=document) if event.kind == "viewed_in_portal"
    ]


@pytest.fixture
def customer(portal_access):
    return portal_access.customer


@pytest.fixture
def colleague(portal_access):
    """A second contact of the same customer, also using the portal."""
    return PortalAccessFactory(
        active=True,
        contact__customer=portal_access.customer,
        contact__organization=portal_access.organization,
        contact__first_name="Carla",
        contact__last_name="Colleague",
    )


@pytest.fixture
def staff_client(portal_organization):
    membership = MembershipFactory(organization=portal_organization)
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def detail_url(portal_reverse, portal_organization):
    def url(kind: str, document, page: str = "detail") -> str:
        return portal_reverse(portal_organization, f"portal:{kind}_{page}", pk=document.pk)

    return url


def staff_url(kind: str, page: str, document=None) -> str:
    namespace = TRACKED[kind][2]
    return reverse(f"{namespace}:{page}", args=[document.pk] if document is not None else [])


# --- the service ----------------------------------------------------------------------


def test_the_first_view_records_first_last_and_one(portal_access, customer, clock):
    # given
    invoice = make("invoice", customer)

    # when
    first = document_view_record(access=portal_access, document=invoice)

    # then
    assert first is True
    row = view_row(invoice, portal_access.contact)
    assert (row.first_viewed_at, row.last_viewed_at, row.view_count) == (clock.now, clock.now, 1)
    assert (row.organization_id, row.customer_id) == (customer.organization_id, customer.pk)
    invoice.refresh_from_db()
    assert invoice.portal_viewed_at == clock.now
    assert invoice.portal_viewed_by == portal_access.contact


def test_later_views_count_and_move_the_last_view(portal_access, customer, clock):
    # given
    invoice = make("invoice", customer)
    opened_at = clock.now
    document_view_record(access=portal_access, document=invoice)

    # when: two more views, an hour apart
    clock.advance(hours=1)
    document_view_record(access=portal_access, document=invoice)
    clock.advance(hours=1)
    again = document_view_record(access=portal_access, document=invoice)

    # then
    assert again is False
    row = view_row(invoice, portal_access.contact)
    assert (row.first_viewed_at, row.last_viewed_at, row.view_count) == (
        opened_at,
        opened_at + timedelta(hours=2),
        3,
    )


def test_each_contact_has_their_own_count_and_the_document_keeps_the_latest(
    portal_access, colleague, customer, clock
):
    # given
    quote = make("quote", customer)
    document_view_record(access=portal_access, document=quote)

    # when
    clock.advance(minutes=5)
    document_view_record(access=colleague, document=quote)

    # then
    assert view_row(quote, portal_access.contact).view_count == 1
    assert view_row(quote, colleague.contact).view_count == 1
    quote.refresh_from_db()
    assert quote.portal_viewed_by == colleague.contact
    assert quote.portal_viewed_at == clock.now


def test_the_history_says_viewed_in_portal_once_per_contact(portal_access, colleague, customer):
    # given
    invoice = make("invoice", customer)

    # when: the first contact opens it three times, the colleague once
    for _view in range(3):
        document_view_record(access=portal_access, document=invoice)
    document_view_record(access=colleague, document=invoice)

    # then
    assert sorted(viewed_events(invoice)) == sorted(
        [
            f"Viewed in portal by {portal_access.contact.full_name}",
            "Viewed in portal by Carla Colleague",
        ]
    )
    event = history_of(document=invoice).filter(kind="viewed_in_portal").last()
    assert event.actor == portal_access.user


def test_recording_does_not_overwrite_a_staff_edit(portal_access, customer):
    # given: the page read the invoice, then staff changed its reference
    invoice = make("invoice", customer, reference="Old")
    Invoice.objects.filter(pk=invoice.pk).update(reference="Changed by staff")

    # when
    document_view_record(access=portal_access, document=invoice)

    # then
    invoice.refresh_from_db()
    assert invoice.reference == "Changed by staff"
    assert invoice.portal_viewed_by == portal_access.contact


def test_a_view_inserted_by_a_simultaneous_request_is_counted_not_lost(
    portal_access, customer, monkeypatch
):
    # given: another request of the same contact inserted the row between our
    # UPDATE (which found nothing) and our INSERT
    invoice = make("invoice", customer)
    document_view_record(access=portal_access, document=invoice)
    real_count_view = services._count_view
    calls = []

    def count_view_racing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            return False  # as if the row was not there yet
        return real_count_view(**kwargs)

    monkeypatch.setattr(services, "_count_view", count_view_racing)

    # when
    first = document_view_record(access=portal_access, document=invoice)

    # then: the unique constraint refused the INSERT and the view was counted
    assert first is False
    assert view_row(invoice, portal_access.contact).view_count == 2
    assert len(viewed_events(invoice)) == 1


# --- the portal pages record views --------------------------------------------------------


@pytest.mark.parametrize("kind", list(TRACKED))
def test_opening_a_document_in_the_portal_records_the_view(
    portal_client, portal_access, customer, detail_url, kind
):
    # given
    document = make(kind, customer)

    # when
    portal_client.get(detail_url(kind, document))
    portal_client.get(detail_url(kind, document))

    # then
    assert view_row(document, portal_access.contact).view_count == 2
    document.refresh_from_db()
    assert document.portal_viewed_by == portal_access.contact
    assert len(viewed_events(document)) == 1


@pytest.mark.parametrize("kind", list(TRACKED))
def test_lists_and_pdfs_do_not_count_as_views(
    portal_client, portal_reverse, portal_organization, customer, detail_url, kind
):
    # given
    document = make(kind, customer)

    # when
    portal_client.get(portal_reverse(portal_organization, f"portal:{kind}_list"))
    portal_client.get(detail_url(kind, document, page="pdf"))

    # then
    assert not DocumentView.objects.exists()
    document.refresh_from_db()
    assert document.portal_viewed_at is None


@pytest.mark.parametrize("kind", list(TRACKED))
def test_staff_previews_never_count(staff_client, customer, kind):
    # given
    document = make(kind, customer)

    # when: staff open the document's page and its PDF
    assert staff_client.get(staff_url(kind, "detail", document)).status_code == 200
    staff_client.get(staff_url(kind, "pdf", document))

    # then
    assert not DocumentView.objects.exists()
    document.refresh_from_db()
    assert document.portal_viewed_at is None


# --- the staff side -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(TRACKED))
def test_staff_lists_show_the_viewed_eye_with_who_and_when(
    staff_client, portal_access, customer, kind
):
    # given: one document viewed, one not
    viewed = make(kind, customer)
    unseen = make(kind, customer)
    document_view_record(access=portal_access, document=viewed)

    # when
    text = staff_client.get(staff_url(kind, "list")).text

    # then: one eye, titled with the contact's name
    assert text.count("data-viewed") == 1
    assert "bi-eye" in text
    assert f'title="Viewed by {portal_access.contact.full_name} on ' in text
    assert unseen.number in text


@pytest.mark.parametrize("kind", list(TRACKED))
def test_staff_lists_filter_viewed_and_not_viewed(staff_client, portal_access, customer, kind):
    # given
    viewed = make(kind, customer)
    unseen = make(kind, customer)
    document_view_record(access=portal_access, document=viewed)
    url = staff_url(kind, "list")

    # when / then
    text = staff_client.get(url, {"viewed": "yes"}).text
    assert viewed.number in text and unseen.number not in text
    assert "Viewed by customer" in text and "Not viewed" in text

    text = staff_client.get(url, {"viewed": "no"}).text
    assert unseen.number in text and viewed.number not in text

    # and: anything else means either
    text = staff_client.get(url, {"viewed": "perhaps"}).text
    assert unseen.number in text and viewed.number in text


@pytest.mark.parametrize("kind", list(TRACKED))
def test_the_staff_document_page_shows_viewed_in_its_header(
    staff_client, portal_access, customer, kind
):
    # given
    document = make(kind, customer)
    document_view_record(access=portal_access, document=document)

    # when
    text = staff_client.get(staff_url(kind, "detail", document)).text

    # then: the word Viewed, who and when, and the history line
    assert "data-viewed" in text
    assert "</i> Viewed<" in text
    assert f"Viewed by {portal_access.contact.full_name} on " in text
    assert f"Viewed in portal by {portal_access.contact.full_name}" in text


def test_a_document_nobody_viewed_has_no_eye(staff_client, customer):
    invoice = make("invoice", customer)

    assert "data-viewed" not in staff_client.get(staff_url("invoice", "detail", invoice)).text
    assert "data-viewed" not in staff_client.get(staff_url("invoice", "list")).text


@pytest.mark.parametrize("kind", list(TRACKED))
def test_staff_list_queries_do_not_grow_with_viewed_documents(
    staff_client, portal_access, customer, kind, django_assert_num_queries
):
    # given: 2 documents viewed by a contact
    def viewed_documents(count: int) -> None:
        for _index in range(count):
            document_view_record(access=portal_access, document=make(kind, customer))

    viewed_documents(2)
    url = staff_url(kind, "list")
    staff_client.get(url)
    with CaptureQueriesContext(connection) as two:
        staff_client.get(url)

    # when: 8 more, by another contact too
    viewed_documents(4)
    other = PortalAccessFactory(
        active=True, contact__customer=customer, contact__organization=customer.organization
    )
    for _index in range(4):
        document_view_record(access=other, document=make(kind, customer))

    # then
    with django_assert_num_queries(len(two.captured_queries)):
        text = staff_client.get(url).text
    assert text.count("data-viewed") == 10
