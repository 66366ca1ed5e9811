"""The portal's template helpers (portico.portal.templatetags.portal): the
same HTML the template partials they replace gave, for less per row."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from portico.portal.templatetags.portal import (
    local_date,
    portal_fulfilment_badge,
    portal_invoice_rows,
    portal_language_options,
    portal_status_badge,
)
from portico.portal.views_documents import CREDIT_NOTES, INVOICES, PAYMENTS, QUOTES, SALES_ORDERS
from portico.sales.models import (
    CreditNote,
    CreditNoteStatus,
    FulfilmentStatus,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)

# The partials the tags replaced, verbatim.
STATUS_BADGE_TEMPLATE = (
    "{% load i18n %}"
    "{% comment %}A document's status as the customer reads it. Needs: document, kind."
    '{% endcomment %}{% if kind.name == "quote" %}'
    '{% with status=document.display_status %}<span class="badge '
    "{% if status == 'sent' %}text-bg-primary"
    "{% elif status == 'accepted' %}text-bg-success"
    "{% elif status == 'declined' %}text-bg-danger"
    "{% elif status == 'expired' %}text-bg-warning{% else %}text-bg-info"
    '{% endif %}">{{ document.get_display_status_display }}</span>{% endwith %}'
    '{% elif kind.name == "invoice" %}'
    '{% with status=document.display_status %}<span class="badge '
    "{% if status == 'sent' %}text-bg-primary"
    "{% elif status == 'partially_paid' %}text-bg-warning"
    "{% elif status == 'paid' %}text-bg-success"
    "{% elif status == 'overdue' %}text-bg-danger{% else %}text-bg-dark"
    '{% endif %}">{{ document.get_display_status_display }}</span>'
    "{% if status == 'overdue' and document.status == 'partially_paid' %}"
    ' <span class="badge text-bg-warning">'
    '{% translate "Partially paid" %}</span>{% endif %}{% endwith %}'
    '{% elif kind.name == "sales_order" %}'
    '{% with status=document.status %}<span class="badge '
    "{% if status == 'confirmed' %}text-bg-primary"
    "{% elif status == 'invoiced' %}text-bg-success{% else %}text-bg-dark"
    '{% endif %}">{{ document.get_status_display }}</span>{% endwith %}'
    '{% elif kind.name == "credit_note" %}'
    '{% with status=document.status %}<span class="badge '
    "{% if status == 'open' %}text-bg-primary"
    "{% elif status == 'closed' %}text-bg-success{% else %}text-bg-dark"
    '{% endif %}">{{ document.get_status_display }}</span>{% endwith %}{% endif %}'
)
FULFILMENT_BADGE_TEMPLATE = (
    '{% with status=document.fulfilment_status %}<span class="badge rounded-pill '
    "{% if status == 'shipped' %}bg-success-subtle text-success-emphasis"
    "{% elif status == 'partially_shipped' %}bg-warning-subtle text-warning-emphasis"
    "{% else %}bg-body-secondary text-body-secondary"
    '{% endif %}"><i class="bi bi-truck" aria-hidden="true"></i> '
    "{{ document.get_fulfilment_status_display }}</span>"
    "{% endwith %}"
)


def _documents():
    today = timezone.localdate()
    for status in QuoteStatus.values:
        for expiry in (None, today - timedelta(days=1), today + timedelta(days=1)):
            yield "quote", Quote(status=status, expiry_date=expiry)
    for status in InvoiceStatus.values:
        for due in (today - timedelta(days=1), today + timedelta(days=1)):
            yield "invoice", Invoice(status=status, due_date=due)
    for status in SalesOrderStatus.values:
        yield "sales_order", SalesOrder(status=status)
    for status in CreditNoteStatus.values:
        yield "credit_note", CreditNote(status=status)


@pytest.mark.parametrize("language", ["en", "de"])
def test_status_badge_is_the_html_of_the_partial_it_replaced(language):
    partial = Template(STATUS_BADGE_TEMPLATE)
    with translation.override(language):
        for kind_name, document in _documents():
            expected = partial.render(Context({"document": document, "kind": {"name": kind_name}}))
            assert portal_status_badge(document, kind_name) == expected, (kind_name, document)


def test_fulfilment_badge_is_the_html_of_the_partial_it_replaced():
    partial = Template(FULFILMENT_BADGE_TEMPLATE)
    for status in FulfilmentStatus.values:
        order = SalesOrder(fulfilment_status=status)
        assert portal_fulfilment_badge(order) == partial.render(Context({"document": order}))


@pytest.mark.parametrize("language", ["en", "de", "ja", "pt-br"])
def test_local_date_is_the_date_filter_with_date_format(language):
    partial = Template('{{ value|date:"DATE_FORMAT" }}')
    with translation.override(language):
        for value in (date(2026, 1, 5), date(2025, 12, 31), timezone.now(), None, ""):
            assert local_date(value) == partial.render(Context({"value": value}))


def test_list_rows_link_to_the_detail_page_under_the_list_url():
    # The list partials write a row's link as list_url + pk + "/".
    for kind in (QUOTES, SALES_ORDERS, INVOICES, PAYMENTS, CREDIT_NOTES):
        list_url = reverse(f"portal:{kind.name}_list", kwargs={"portal_name": "acme"})
        detail_url = reverse(f"portal:{kind.name}_detail", kwargs={"portal_name": "acme", "pk": 42})
        assert detail_url == f"{list_url}42/"


def test_language_options_select_the_contacts_own_language(portal_access):
    portal_access.customer.portal_language = "de"
    portal_access.language = "fr"
    with translation.override("en"):
        html = portal_language_options(portal_access)

    assert '<option value="">Default (Deutsch)</option>' in html
    assert '<option value="fr" lang="fr" selected>Français</option>' in html
    assert '<option value="de" lang="de">Deutsch</option>' in html


def test_language_options_select_the_default_without_a_choice(portal_access):
    portal_access.customer.portal_language = "en"
    portal_access.language = ""

    html = portal_language_options(portal_access)

    assert '<option value="" selected>Default (English)</option>' in html
    assert " selected" not in html.split("</option>", 1)[1]


def test_navigation_marks_the_current_section_and_shows_only_allowed_modules(
    portal_client, portal_access, portal_reverse
):
    portal_access.modules = ["invoices", "payments"]
    portal_access.save(update_fields=["modules"])
    organization = portal_access.organization

    text = portal_client.get(portal_reverse(organization, "portal:invoice_list")).text

    invoices = portal_reverse(organization, "portal:invoice_list")
    assert f'<a class="nav-link active" href="{invoices}">' in text
    assert portal_reverse(organization, "portal:payment_list") in text
    assert portal_reverse(organization, "portal:quote_list") not in text
    home = portal_reverse(organization, "portal:home")
    assert f'<a class="nav-link" href="{home}">' in text


# The invoice list's row as a template loop did it (before portal_invoice_rows).
INVOICE_ROW_TEMPLATE = (
    '<tr><td class="portal-cell-primary"><a class="stretched-link fw-medium" href="'
    "{% url 'portal:invoice_detail' portal_name=request.organization.portal_name"
    ' pk=document.pk %}">{{ document.number }}</a><span class="d-md-none">'
    '{% portal_status_badge document kind.name %}</span></td><td data-label="'
    '{% translate \'Date\' %}" class="text-nowrap">{{ document.date|date:"DATE_FORMAT"'
    ' }}</td><td data-label="'
    "{% translate 'Reference' %}\">{{ document.reference }}</td><td data-label=\""
    "{% translate 'Due date' %}\" class=\"text-nowrap"
    "{% if document.is_overdue %} text-danger"
    '{% endif %}">{{ document.due_date|date:"DATE_FORMAT" }}</td><td data-label="'
    '{% translate \'Status\' %}" class="d-none d-md-table-cell">'
    '{% portal_status_badge document kind.name %}</td><td data-label="'
    '{% translate \'Total\' %}" class="text-end text-nowrap">'
    '{% money document.total document.currency %}</td><td data-label="'
    '{% translate \'Balance due\' %}" class="text-end text-nowrap fw-medium">'
    '{% if document.status == "void" %}<span class="text-body-secondary">—</span>'
    "{% else %}"
    '{% if pay.available and document|payable_online %}<span class="d-inline-flex'
    ' align-items-center gap-2">'
    '{% money document.balance_due document.currency %} <a class="btn btn-sm'
    ' btn-primary position-relative z-2" href="'
    "{% url 'portal:pay' portal_name=request.organization.portal_name %}?invoice={{"
    ' document.pk }}" aria-label="'
    "{% blocktranslate with number=document.number %}Pay invoice {{ number }} now"
    '{% endblocktranslate %}">{% translate "Pay now" %}</a></span>{% else %}'
    "{% money document.balance_due document.currency %}{% endif %}"
    "{% endif %}</td></tr>"
)


@pytest.mark.parametrize("gateway_on", [True, False])
def test_invoice_rows_are_the_html_of_the_template_loop_they_replaced(
    portal_access, rf, gateway_on
):
    from portico.online_payments.models import OnlinePaymentSettings
    from portico.online_payments.templatetags.online_payments import OnlinePaymentOptions

    organization = portal_access.organization
    OnlinePaymentSettings.objects.create(organization=organization, test_gateway_enabled=gateway_on)
    today = timezone.localdate()
    invoices = [
        Invoice(
            pk=pk,
            number=f"INV-{pk:05d}",
            status=status,
            date=today - timedelta(days=40),
            due_date=today + timedelta(days=due_in),
            reference=reference,
            currency=currency,
            total=Decimal("1234.50"),
            balance_due=Decimal(balance),
        )
        for pk, status, due_in, reference, currency, balance in [
            (1, InvoiceStatus.SENT, 10, "PO <1> & co", "USD", "1234.50"),
            (2, InvoiceStatus.SENT, -10, "", "EUR", "1234.50"),
            (3, InvoiceStatus.PARTIALLY_PAID, -3, "O'Brien", "JPY", "100"),
            (4, InvoiceStatus.PAID, -3, "", "USD", "0"),
            (5, InvoiceStatus.VOID, 3, "", "USD", "0"),
        ]
    ]
    request = rf.get("/")
    request.organization = organization
    list_url = reverse("portal:invoice_list", kwargs={"portal_name": organization.portal_name})
    pay = OnlinePaymentOptions(organization)
    loop = Template(
        "{% load i18n portico online_payments portal %}"
        "{% for document in invoices %}" + INVOICE_ROW_TEMPLATE + "{% endfor %}"
    )

    for language in ("en", "de"):
        with translation.override(language):
            context = Context(
                {"request": request, "kind": INVOICES, "pay": pay, "invoices": invoices}
            )
            expected = loop.render(context)
            rows = portal_invoice_rows({"request": request, "list_url": list_url}, invoices, pay)
            assert rows.replace("\n", "") == expected
