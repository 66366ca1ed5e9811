"""Later views of cached document pages, added up per process and written
together (portico/portal/view_counts.py)."""

import time

import pytest

from portico.activity.models import ActivityEvent, EventKind
from portico.portal.models import DocumentView
from portico.portal.view_counts import repeat_views
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

HIT = "X-Portal-Page-Cache"


@pytest.fixture
def invoice_url(portal_access, portal_reverse):
    invoice = InvoiceFactory(customer=portal_access.customer, status=InvoiceStatus.SENT)
    return invoice, portal_reverse(
        portal_access.organization, "portal:invoice_detail", pk=invoice.pk
    )


def counts(invoice, contact) -> tuple[int, int]:
    view = DocumentView.objects.get(object_id=invoice.pk, contact=contact)
    event = ActivityEvent.objects.get(kind=EventKind.DOCUMENT_VIEWED, object_id=invoice.pk)
    return view.view_count, event.repeat_count


@pytest.mark.django_db
def test_later_views_are_added_up_and_written_together(
    portal_client, portal_access, invoice_url, settings
):
    invoice, url = invoice_url
    portal_client.get(url)  # first views: rendered and recorded at once
    portal_client.get(url)
    written = counts(invoice, portal_access.contact)
    settings.PORTAL_VIEW_COUNT_FLUSH_SECONDS = 60  # the timer will not fire in this test

    for _ in range(5):
        assert portal_client.get(url)[HIT] == "hit"

    assert repeat_views.pending() == 5
    assert counts(invoice, portal_access.contact) == written  # not yet
    assert repeat_views.flush() == 5
    assert counts(invoice, portal_access.contact) == (written[0] + 5, written[1] + 5)
    invoice.refresh_from_db()
    assert invoice.portal_viewed_by_id == portal_access.contact_id
    assert repeat_views.pending() == 0


@pytest.mark.django_db(transaction=True)
def test_the_timer_writes_them_within_the_interval(
    portal_client, portal_access, invoice_url, settings
):
    invoice, url = invoice_url
    portal_client.get(url)
    portal_client.get(url)
    written = counts(invoice, portal_access.contact)
    settings.PORTAL_VIEW_COUNT_FLUSH_SECONDS = 0.05

    for _ in range(3):
        assert portal_client.get(url)[HIT] == "hit"

    deadline = time.monotonic() + 5
    while repeat_views.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # the thread's transaction commits after it took them
    assert counts(invoice, portal_access.contact) == (written[0] + 3, written[1] + 3)
