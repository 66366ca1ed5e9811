"""The portal's page cache: a contact's pages are served again while nothing
they show changed, and never once something did (database triggers raise the
customer's and the organisation's data versions, portico/portal/versions.py)."""

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico.accounts.models import Organization
from portico.activity.models import ActivityEvent, EventKind
from portico.comments.models import Comment
from portico.customers.models import Customer
from portico.payments.models import Payment, PaymentAllocation
from portico.portal.models import DocumentView
from portico.portal.versions import (
    EXCLUDED,
    TRIGGER_PREFIX,
    version_triggers_installed,
    versioned_tables,
)
from portico.portal_access.models import AccessStatus, PortalAccess, PortalSettings
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.models import Invoice, InvoiceLine, InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory, InvoiceLineFactory

pytestmark = pytest.mark.django_db

HIT = "X-Portal-Page-Cache"


@pytest.fixture
def customer(portal_access):
    return portal_access.customer


@pytest.fixture
def invoice(customer):
    return InvoiceFactory(customer=customer, status=InvoiceStatus.SENT, number="INV-CACHE-1")


@pytest.fixture
def urls(portal_reverse, portal_organization):
    def build(name: str, **kwargs) -> str:
        return portal_reverse(portal_organization, f"portal:{name}", **kwargs)

    return build


def served_twice(client, url: str):
    """The first answer renders (and is stored); then it comes from the cache.

    A fresh organisation's first portal page creates its default settings
    rows, which is a change like any other: the next request renders once more.
    """
    first = client.get(url)
    assert first.status_code == 200 and HIT not in first
    again = client.get(url)
    if HIT not in again:
        again = client.get(url)
    assert again.status_code == 200 and again[HIT] == "hit"
    return again


def version_of(customer) -> int:
    return Customer.objects.values_list("portal_version", flat=True).get(pk=customer.pk)


# --- served from the cache ------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 60])
def test_a_cached_list_costs_three_queries_at_any_size(
    portal_client, customer, urls, count, django_assert_num_queries
):
    InvoiceFactory.create_batch(count, customer=customer, status=InvoiceStatus.SENT)
    served_twice(portal_client, urls("invoice_list"))

    # then: session, user, and the organisation's version with the access and
    # the customer's version in one
    with django_assert_num_queries(3):
        response = portal_client.get(urls("invoice_list"))
    assert response[HIT] == "hit"
    assert f"of {count}" in response.text or str(count) in response.text


def test_the_cached_page_is_the_rendered_page(portal_client, invoice, urls):
    url = urls("invoice_detail", pk=invoice.pk)
    rendered, cached = portal_client.get(url), portal_client.get(url)
    if HIT not in cached:  # the organisation's default settings were created
        rendered, cached = cached, portal_client.get(url)
    assert cached[HIT] == "hit"
    token = re.compile(r"[A-Za-z0-9]{64}")  # a masked CSRF token
    assert token.sub("", rendered.text) == token.sub("", cached.text)
    assert "INV-CACHE-1" in cached.text


def test_each_cached_answer_carries_a_fresh_valid_csrf_token(portal_user, urls, invoice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(portal_user)
    first = served_twice(client, urls("invoice_list"))
    second = client.get(urls("invoice_list"))
    assert first[HIT] == second[HIT] == "hit"
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
        for response in (first, second)
    ]
    assert "csrf-" not in first.text  # no placeholder leaks
    assert tokens[0] != tokens[1]  # masked afresh, as Django does per render
    # the token of a cached page is accepted: sign out with it
    response = client.post(urls("sign_out"), {"csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302
    assert client.get(urls("invoice_list")).status_code == 302  # signed out


def test_another_contact_of_the_same_customer_gets_their_own_page(
    portal_client, portal_access, invoice, urls
):
    served_twice(portal_client, urls("home"))
    colleague = PortalAccessFactory(
        active=True,
        contact__customer=portal_access.customer,
        contact__organization=portal_access.organization,
        contact__first_name="Carla",
    )
    other = Client()
    other.force_login(colleague.user)
    response = other.get(urls("home"))
    assert HIT not in response
    assert colleague.user.email in response.text
    assert portal_access.user.email not in response.text


# --- never stale ------------------------------------------------------------------------


def test_a_change_to_the_document_is_seen_at_the_next_request(portal_client, invoice, urls):
    served_twice(portal_client, urls("invoice_detail", pk=invoice.pk))

    # a bulk UPDATE sends no signal; the trigger still sees it
    Invoice.objects.filter(pk=invoice.pk).update(reference="PO-CHANGED-42")

    response = portal_client.get(urls("invoice_detail", pk=invoice.pk))
    assert HIT not in response
    assert "PO-CHANGED-42" in response.text


def test_a_new_line_payment_or_comment_is_seen_at_the_next_request(
    portal_client, portal_access, customer, invoice, urls
):
    url = urls("invoice_detail", pk=invoice.pk)
    served_twice(portal_client, url)
    InvoiceLineFactory(document=invoice, description="Freshly added service")
    assert "Freshly added service" in portal_client.get(url).text

    assert portal_client.get(url)[HIT] == "hit"
    payment = Payment.objects.create(
        organization=customer.organization,
        customer=customer,
        number="PAY-CACHE-1",
        date=invoice.date,
        amount=Decimal("40.00"),
        currency=invoice.currency,
    )
    PaymentAllocation.objects.create(
        organization=customer.organization, payment=payment, invoice=invoice, amount=Decimal(40)
    )
    assert "PAY-CACHE-1" in portal_client.get(url).text

    assert portal_client.get(url)[HIT] == "hit"
    Comment.objects.create(
        organization=customer.organization,
        customer=customer,
        content_type=ContentType.objects.get_for_model(Invoice),
        object_id=invoice.pk,
        author_name="Sam from Support",
        body="A reply from the cache test",
    )
    assert "A reply from the cache test" in portal_client.get(url).text


def test_a_deleted_document_is_gone_at_the_next_request(portal_client, invoice, urls):
    url = urls("invoice_list")
    assert "INV-CACHE-1" in served_twice(portal_client, url).text
    invoice.delete()
    assert "INV-CACHE-1" not in portal_client.get(url).text


def test_an_organisation_setting_is_seen_at_the_next_request(
    portal_client, portal_organization, urls
):
    settings_row = PortalSettingsFactory(organization=portal_organization)
    served_twice(portal_client, urls("home"))
    PortalSettings.objects.filter(pk=settings_row.pk).update(banner_message="Closed on Friday")
    assert "Closed on Friday" in portal_client.get(urls("home")).text

    Organization.objects.filter(pk=portal_organization.pk).update(phone="+44 20 7946 0999")
    assert "+44 20 7946 0999" in portal_client.get(urls("home")).text


def test_a_disabled_access_is_refused_even_with_a_cached_page(portal_client, portal_access, urls):
    served_twice(portal_client, urls("home"))
    PortalAccess.objects.filter(pk=portal_access.pk).update(status=AccessStatus.DISABLED)
    response = portal_client.get(urls("home"))
    assert response.status_code == 403
    assert HIT not in response


def test_a_module_taken_away_answers_404_even_with_a_cached_page(
    portal_client, portal_access, urls
):
    served_twice(portal_client, urls("invoice_list"))
    PortalAccess.objects.filter(pk=portal_access.pk).update(modules=["quotes"])
    assert portal_client.get(urls("invoice_list")).status_code == 404


def test_the_contacts_language_choice_is_a_different_page(portal_client, portal_access, urls):
    served_twice(portal_client, urls("invoice_list"))
    PortalAccess.objects.filter(pk=portal_access.pk).update(language="de")
    response = portal_client.get(urls("invoice_list"))
    assert HIT not in response
    assert '<html lang="de"' in response.text


def test_a_page_with_a_message_is_neither_served_nor_stored_from_the_cache(portal_client, urls):
    served_twice(portal_client, urls("home"))
    # the language switcher redirects back with a message when the choice is bad
    response = portal_client.post(
        urls("language_set"), {"language": "xx", "next": urls("home")}, follow=True
    )
    assert HIT not in response
    assert "Choose a language from the list." in response.text
    assert portal_client.get(urls("home"))[HIT] == "hit"  # the plain page again


def test_the_cache_can_be_turned_off(portal_client, urls, settings):
    settings.PORTAL_PAGE_CACHE_SECONDS = 0
    portal_client.get(urls("home"))
    assert HIT not in portal_client.get(urls("home"))


# --- a cached document page still counts the view ---------------------------------------


def test_each_cached_view_is_counted_on_the_contact_document_and_activity(
    portal_client, portal_access, invoice, urls
):
    url = urls("invoice_detail", pk=invoice.pk)
    served_twice(portal_client, url)  # the first view rendered and recorded in full
    for _ in range(2):
        assert portal_client.get(url)[HIT] == "hit"

    view = DocumentView.objects.get(object_id=invoice.pk, contact=portal_access.contact)
    assert view.view_count == 4
    event = ActivityEvent.objects.get(kind=EventKind.DOCUMENT_VIEWED, object_id=invoice.pk)
    assert event.repeat_count == 4
    invoice.refresh_from_db()
    assert invoice.portal_viewed_at == view.last_viewed_at
    assert invoice.portal_viewed_by_id == portal_access.contact_id


def test_counting_a_view_does_not_empty_the_cache(portal_client, customer, invoice, urls):
    url = urls("invoice_detail", pk=invoice.pk)
    served_twice(portal_client, url)
    version = version_of(customer)
    assert portal_client.get(url)[HIT] == "hit"
    assert version_of(customer) == version


def test_a_cached_page_without_a_recorded_view_is_rendered_and_recorded(
    portal_client, portal_access, invoice, urls
):
    url = urls("invoice_detail", pk=invoice.pk)
    served_twice(portal_client, url)
    DocumentView.objects.all().delete()
    ActivityEvent.objects.all().delete()

    response = portal_client.get(url)

    assert HIT not in response
    assert DocumentView.objects.get(contact=portal_access.contact).view_count == 1


# --- the triggers --------------------------------------------------------------------------


def test_every_table_with_customer_data_has_its_triggers():
    installed = version_triggers_installed()
    customer_tables = {
        table.model._meta.label for table in versioned_tables() if table.target is Customer
    }
    # the walk found the documents and what hangs off them
    assert {
        "sales.Invoice",
        "sales.InvoiceLine",
        "payments.PaymentAllocation",
        "comments.CommentAttachment",
        "projects.TimeEntry",
    } <= customer_tables
    assert not customer_tables & EXCLUDED
    for table in versioned_tables():
        assert f"{TRIGGER_PREFIX}{table.table}_upd" in installed, table.table
        if table.path:
            assert f"{TRIGGER_PREFIX}{table.table}_ins" in installed, table.table
            assert f"{TRIGGER_PREFIX}{table.table}_del" in installed, table.table


def test_inserts_updates_and_deletes_raise_the_customer_version(customer, invoice):
    before = version_of(customer)
    line = InvoiceLineFactory(document=invoice)
    after_insert = version_of(customer)
    InvoiceLine.objects.filter(pk=line.pk).update(description="Changed")
    after_update = version_of(customer)
    InvoiceLine.objects.filter(pk=line.pk).delete()
    after_delete = version_of(customer)
    assert before < after_insert < after_update < after_delete


def test_an_update_that_changes_nothing_shown_raises_nothing(customer, invoice):
    before = version_of(customer)
    Invoice.objects.filter(pk=invoice.pk).update(portal_viewed_at=timezone.now())
    Invoice.objects.filter(pk=invoice.pk).update(reference=invoice.reference)
    assert version_of(customer) == before


def test_moving_a_document_raises_both_customers(customer, invoice):
    other = Customer.objects.create(
        organization=customer.organization, display_name="Other", currency=customer.currency
    )
    before = (version_of(customer), version_of(other))
    Invoice.objects.filter(pk=invoice.pk).update(customer=other)
    assert version_of(customer) > before[0]
    assert version_of(other) > before[1]


def test_the_customer_row_itself_raises_its_version(customer):
    before = version_of(customer)
    Customer.objects.filter(pk=customer.pk).update(phone="+1 555 0100")
    assert version_of(customer) == before + 1


def test_organisation_rows_raise_the_organisation_version(portal_organization):
    def version() -> int:
        return Organization.objects.values_list("portal_version", flat=True).get(
            pk=portal_organization.pk
        )

    before = version()
    PortalSettingsFactory(organization=portal_organization)
    after_settings = version()
    Organization.objects.filter(pk=portal_organization.pk).update(name="Renamed Ltd")
    assert before < after_settings < version()


def test_the_session_query_is_one_plain_select(portal_client, urls):
    portal_client.get(urls("home"))
    with CaptureQueriesContext(connection) as queries:
        portal_client.get(urls("home"))
    session_queries = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert len(session_queries) == 1
