from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from portico.accounts.tests.factories import MembershipFactory
from portico.catalog.tests.factories import TaxFactory
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.sales.models import Invoice, Quote, QuoteStatus, SalesOrder
from portico.sales.services import quotes as services
from portico.sales.services.common import DocumentData
from portico.sales.tests.factories import QuoteFactory, QuoteLineFactory, line

pytestmark = pytest.mark.django_db

LIST = reverse("quotes:list")
CREATE = reverse("quotes:create")
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "quote-results"}
TODAY = timezone.localdate


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def template_names(response) -> set[str]:
    return {template.name for template in response.templates}


def listed(response) -> list[str]:
    return [quote.number for quote in response.context["page"].object_list]


def url(name: str, quote: Quote) -> str:
    return reverse(f"quotes:{name}", args=[quote.pk])


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Acme", currency="EUR")


def make_quote(customer, user, *lines, **fields) -> Quote:
    return services.quote_create(
        organization=customer.organization,
        data=DocumentData(
            customer_id=customer.pk, date=fields.pop("date", TODAY()), lines=list(lines) or [line()]
        ),
        expiry_date=fields.pop("expiry_date", TODAY() + timedelta(days=30)),
        actor=user,
    )


def sent_quote(customer, user, *lines) -> Quote:
    return services.quote_mark_sent(quote=make_quote(customer, user, *lines), actor=user)


def form_data(customer, *, lines: list[dict] = (), initial_forms: int = 0, **fields) -> dict:
    """What the browser posts: the header fields and the lines formset."""
    lines = list(lines) or [{"description": "Consulting", "quantity": "2", "rate": "100"}]
    data = {
        "customer": str(customer.pk),
        "date": TODAY().isoformat(),
        "expiry_date": (TODAY() + timedelta(days=30)).isoformat(),
        "reference": "",
        "notes": "",
        "terms": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial_forms),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    } | fields
    for index, row in enumerate(lines):
        values = {"item": "", "unit": "", "discount_percent": "0", "tax": ""} | row
        for name, value in values.items():
            data[f"lines-{index}-{name}"] = value
    return data


# --- list ---------------------------------------------------------------------------


def test_list_shows_the_organisations_quotes_only(staff_client, customer):
    # given
    mine = QuoteFactory(customer=customer, total=Decimal("1234.50"))
    QuoteFactory()  # another organisation's

    # when
    response = staff_client.get(LIST)

    # then
    assert response.status_code == 200
    assert listed(response) == [mine.number]
    content = response.content.decode()
    assert "€1,234.50" in content
    assert "Acme" in content


def test_list_says_when_there_are_no_quotes_yet(staff_client):
    response = staff_client.get(LIST)
    assert "No quotes yet." in response.content.decode()


def test_list_searches_number_reference_and_customer(staff_client, organization, customer):
    # given
    first = QuoteFactory(customer=customer, reference="PO-777")
    second = QuoteFactory(customer=CustomerFactory(organization=organization, display_name="Zeta"))

    # when / then
    assert listed(staff_client.get(LIST, {"q": "po-777"})) == [first.number]
    assert listed(staff_client.get(LIST, {"q": "zeta"})) == [second.number]
    assert listed(staff_client.get(LIST, {"q": second.number})) == [second.number]
    response = staff_client.get(LIST, {"q": "nothing-like-this"})
    assert "No quotes match “nothing-like-this”." in response.content.decode()


def test_list_filters_by_status_with_expired_computed_from_the_expiry_date(staff_client, customer):
    # given
    yesterday = TODAY() - timedelta(days=1)
    draft = QuoteFactory(customer=customer, status=QuoteStatus.DRAFT)
    sent = QuoteFactory(customer=customer, status=QuoteStatus.SENT)
    no_expiry = QuoteFactory(customer=customer, status=QuoteStatus.SENT, expiry_date=None)
    expired = QuoteFactory(
        customer=customer,
        status=QuoteStatus.SENT,
        date=yesterday - timedelta(days=30),
        expiry_date=yesterday,
    )
    accepted = QuoteFactory(customer=customer, status=QuoteStatus.ACCEPTED)

    # when / then
    assert set(listed(staff_client.get(LIST, {"status": "sent"}))) == {
        sent.number,
        no_expiry.number,
    }
    response = staff_client.get(LIST, {"status": "expired"})
    assert listed(response) == [expired.number]
    assert "Expired" in response.content.decode()
    assert listed(staff_client.get(LIST, {"status": "draft"})) == [draft.number]
    assert listed(staff_client.get(LIST, {"status": "accepted"})) == [accepted.number]
    assert len(listed(staff_client.get(LIST, {"status": "no-such-status"}))) == 5


def test_list_filters_by_customer_and_dates(staff_client, organization, customer):
    # given
    other = CustomerFactory(organization=organization, display_name="Other")
    old = QuoteFactory(customer=customer, date=TODAY() - timedelta(days=60))
    recent = QuoteFactory(customer=customer, date=TODAY() - timedelta(days=5))
    QuoteFactory(customer=other, date=TODAY() - timedelta(days=5))

    # when
    by_customer = staff_client.get(LIST, {"customer": customer.pk})
    by_dates = staff_client.get(
        LIST,
        {
            "customer": customer.pk,
            "date_from": (TODAY() - timedelta(days=10)).isoformat(),
            "date_to": TODAY().isoformat(),
        },
    )

    # then
    assert set(listed(by_customer)) == {old.number, recent.number}
    assert by_customer.context["filter_customer"] == customer
    assert listed(by_dates) == [recent.number]


def test_list_sorts_by_amount(staff_client, customer):
    # given
    small = QuoteFactory(customer=customer, total=Decimal("10"))
    large = QuoteFactory(customer=customer, total=Decimal("999"))

    # when / then
    assert listed(staff_client.get(LIST, {"sort": "-total"})) == [large.number, small.number]
    assert listed(staff_client.get(LIST, {"sort": "total"})) == [small.number, large.number]


def test_list_answers_htmx_with_the_results_only(staff_client, customer):
    # given
    QuoteFactory(customer=customer, reference="PO-1")

    # when
    response = staff_client.get(LIST, {"q": "PO-1", "status": ""}, headers=HTMX_RESULTS)

    # then
    names = template_names(response)
    assert "sales/quotes/partials/_quote_results.html" in names
    assert "sales/quotes/quote_list.html" not in names
    assert response["HX-Push-Url"] == f"{LIST}?q=PO-1"


def test_list_pages_by_fifty(staff_client, customer):
    # given
    QuoteFactory.create_batch(51, customer=customer)

    # when
    first, second = staff_client.get(LIST), staff_client.get(LIST, {"page": 2})

    # then
    assert len(listed(first)) == 50
    assert len(listed(second)) == 1


def make_quotes(organization, count: int) -> None:
    customers = CustomerFactory.create_batch(5, organization=organization)
    for index in range(count):
        QuoteFactory(customer=customers[index % 5])


# session, user, membership + organisation, count, page of quotes with their
# customers, the organisation switcher's memberships
LIST_QUERIES = 6


@pytest.mark.parametrize("count", [5, 500])
def test_the_list_page_needs_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_quotes(organization, count)

    # when / then
    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(LIST, {"q": "customer", "sort": "-total"})
    assert len(listed(response)) == min(count, 50)


@pytest.mark.parametrize("count", [5, 60])
def test_the_htmx_results_need_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    make_quotes(organization, count)

    # when / then: no page layout, so no organisation switcher
    with django_assert_num_queries(LIST_QUERIES - 1):
        staff_client.get(LIST, {"status": "sent"}, headers=HTMX_RESULTS)


# --- new and edit -----------------------------------------------------------------------


def test_new_quote_page_preselects_a_customer_and_its_primary_contact(staff_client, customer):
    # given
    primary = ContactPersonFactory(customer=customer, is_primary=True, first_name="Ada")
    ContactPersonFactory(customer=customer, first_name="Bob")

    # when
    response = staff_client.get(CREATE, {"customer": customer.pk})

    # then
    assert response.status_code == 200
    form = response.context["form"]
    assert form.chosen_customer == customer
    assert form["contacts"].value() == [primary.pk]
    assert form["expiry_date"].value() == TODAY() + timedelta(days=30)
    content = response.content.decode()
    assert f'<option value="{customer.pk}" selected>Acme</option>' in content


def test_new_quote_page_ignores_another_organisations_customer(staff_client):
    # given
    stranger = CustomerFactory(display_name="Stranger")

    # when
    response = staff_client.get(CREATE, {"customer": stranger.pk})

    # then
    assert response.context["form"].chosen_customer is None
    assert "Stranger" not in response.content.decode()


def test_create_saves_the_quote_and_shows_it(staff_client, customer, organization):
    # given
    contact = ContactPersonFactory(customer=customer)
    tax = TaxFactory(organization=organization, rate=Decimal("10"))
    data = form_data(
        customer,
        reference="PO-9",
        contacts=[str(contact.pk)],
        lines=[
            {"description": "Design", "quantity": "2", "rate": "100", "tax": str(tax.pk)},
            {"description": "Hosting", "quantity": "1", "rate": "50", "discount_percent": "10"},
        ],
    )

    # when
    response = staff_client.post(CREATE, data)

    # then
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", quote)
    assert messages_of(response) == [f"Quote {quote.number} created."]
    assert quote.organization == organization
    assert quote.reference == "PO-9"
    assert quote.total == Decimal("265.00")  # 200 + 20 tax + 45
    assert list(quote.contacts.all()) == [contact]
    assert quote.lines.count() == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"quantity": "-2"}, "The quantity must be more than zero."),
        ({"quantity": "0"}, "The quantity must be more than zero."),
        ({"rate": "-10"}, "The rate cannot be negative."),
        ({"discount_percent": "150"}, "Ensure this value is less than or equal to 100."),
        ({"description": ""}, "Choose an item or describe the line."),
    ],
)
def test_create_refuses_a_bad_line_with_a_clear_message(staff_client, customer, row, message):
    # given
    data = form_data(
        customer, lines=[{"description": "Design", "quantity": "1", "rate": "5"} | row]
    )

    # when
    response = staff_client.post(CREATE, data)

    # then: the page comes back with the message and the typed values; nothing saved
    assert response.status_code == 422
    content = response.content.decode()
    assert message in content
    assert "Please correct the errors below." in content
    assert not Quote.objects.exists()


def test_create_refuses_a_quote_without_lines(staff_client, customer):
    # given: the one row left blank
    data = form_data(customer, lines=[{"description": "", "quantity": "1", "rate": ""}])

    # when
    response = staff_client.post(CREATE, data)

    # then
    assert response.status_code == 422
    assert "Add at least one line." in response.content.decode()
    assert not Quote.objects.exists()


def test_create_refuses_an_expiry_date_before_the_quote_date(staff_client, customer):
    # given
    data = form_data(customer, expiry_date=(TODAY() - timedelta(days=1)).isoformat())

    # when
    response = staff_client.post(CREATE, data)

    # then
    assert response.status_code == 422
    assert "The expiry date cannot be before the quote date." in response.content.decode()
    assert not Quote.objects.exists()


def test_create_refuses_another_organisations_customer(staff_client):
    # given
    stranger = CustomerFactory()

    # when
    response = staff_client.post(CREATE, form_data(stranger))

    # then
    assert response.status_code == 422
    assert response.context["form"].errors["customer"]
    assert not Quote.objects.exists()


def test_edit_page_shows_the_quote_with_its_lines(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user, line("Design"), line("Hosting"))

    # when
    response = staff_client.get(url("edit", quote))

    # then
    assert response.status_code == 200
    formset = response.context["formset"]
    assert [form.initial["description"] for form in formset] == ["Design", "Hosting"]


def test_edit_keeps_unchanged_lines_and_saves_the_header(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user, line("Design", rate="100"), line("Hosting"))
    rows = [
        {"description": row.description, "quantity": "1", "rate": f"{row.rate.normalize():f}"}
        for row in quote.lines.all()
    ]

    # when: only the reference changes
    response = staff_client.post(
        url("edit", quote), form_data(customer, lines=rows, initial_forms=2, reference="New ref")
    )

    # then
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.reference == "New ref"
    assert [row.description for row in quote.lines.all()] == ["Design", "Hosting"]
    assert messages_of(response) == [f"Quote {quote.number} saved."]


def test_edit_removes_a_ticked_line(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user, line("Design"), line("Hosting"))
    rows = [
        {"description": "Design", "quantity": "1", "rate": "100"},
        {"description": "Hosting", "quantity": "1", "rate": "100", "DELETE": "on"},
    ]

    # when
    staff_client.post(url("edit", quote), form_data(customer, lines=rows, initial_forms=2))

    # then
    assert [row.description for row in quote.lines.all()] == ["Design"]


def test_editing_a_sent_quote_says_a_revision_was_recorded(staff_client, customer, membership):
    # given
    quote = sent_quote(customer, membership.user)

    # when
    response = staff_client.get(url("edit", quote))
    assert "Saving a change records it as revision 2" in response.content.decode()
    response = staff_client.post(
        url("edit", quote),
        form_data(customer, lines=[{"description": "Consulting", "quantity": "3", "rate": "100"}]),
    )

    # then
    assert messages_of(response) == [f"Quote {quote.number} saved as revision 2."]
    quote.refresh_from_db()
    assert quote.revision == 2


@pytest.mark.parametrize("status", [QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, "invoiced"])
def test_a_decided_quote_cannot_be_edited(staff_client, customer, status):
    # given
    quote = QuoteFactory(customer=customer, status=status)
    QuoteLineFactory(document=quote, description="Design")

    # when
    page = staff_client.get(url("edit", quote))
    posted = staff_client.post(url("edit", quote), form_data(customer))

    # then
    assert page.status_code == posted.status_code == 302
    assert page["Location"] == url("detail", quote)
    assert "can no longer change" in messages_of(page)[0]
    assert [row.description for row in quote.lines.all()] == ["Design"]


# --- detail --------------------------------------------------------------------------------


def test_detail_shows_lines_totals_status_and_history(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user, line("Design work", quantity="2", rate="60"))

    # when
    response = staff_client.get(url("detail", quote))

    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert f"Quote {quote.number}" in content
    assert "Design work" in content
    assert "€120.00" in content
    assert '<span class="badge text-bg-secondary">Draft</span>' in content
    assert "Created" in content  # history
    assert url("pdf", quote) in content
    # a draft: edit, send, delete; no decisions or conversions yet
    assert url("edit", quote) in content
    assert url("mark_sent", quote) in content
    assert url("delete", quote) in content
    assert url("mark_accepted", quote) not in content
    assert url("convert_to_invoice", quote) not in content


def test_detail_of_a_sent_quote_offers_decisions_conversions_and_its_revision(
    staff_client, customer, membership
):
    # given
    quote = sent_quote(customer, membership.user)
    revision = quote.revisions.get()

    # when
    content = staff_client.get(url("detail", quote)).content.decode()

    # then
    for name in ("edit", "mark_accepted", "mark_declined", "convert_to_sales_order"):
        assert url(name, quote) in content
    assert url("convert_to_invoice", quote) in content
    assert url("mark_sent", quote) not in content
    assert url("delete", quote) not in content
    assert "Revision 1" in content
    assert f"<code>{revision.content_hash[:12]}</code>" in content
    assert "Marked as sent" in content


def test_detail_of_an_expired_quote_says_expired(staff_client, customer, membership):
    # given
    quote = sent_quote(customer, membership.user)
    Quote.objects.filter(pk=quote.pk).update(expiry_date=TODAY() - timedelta(days=1))

    # when
    content = staff_client.get(url("detail", quote)).content.decode()

    # then
    assert '<span class="badge text-bg-warning">Expired</span>' in content
    assert url("mark_accepted", quote) in content


def test_detail_of_a_declined_quote_offers_no_conversion(staff_client, customer, membership):
    # given
    quote = services.quote_mark_declined(
        quote=sent_quote(customer, membership.user), actor=membership.user
    )

    # when
    content = staff_client.get(url("detail", quote)).content.decode()

    # then
    assert "Declined" in content
    assert url("edit", quote) not in content
    assert url("convert_to_invoice", quote) not in content
    assert url("convert_to_sales_order", quote) not in content


# session, user, membership + organisation, quote with customer and creator, its
# lines, contacts, revisions, sales orders, invoices, history with actors, the
# organisation switcher's memberships; the customer's latest portal decision;
# the comment thread
DETAIL_QUERIES = 14  # with the document's portal activity (one query)


@pytest.mark.parametrize("line_count", [1, 30])
def test_the_detail_page_needs_the_same_queries_for_few_and_many_lines(
    staff_client, customer, membership, django_assert_num_queries, line_count
):
    # given
    quote = sent_quote(customer, membership.user, *[line(f"Line {n}") for n in range(line_count)])
    ContentType.objects.get_for_model(Quote)  # cached for the process, as in production

    # when / then
    with django_assert_num_queries(DETAIL_QUERIES):
        response = staff_client.get(url("detail", quote))
    assert response.content.decode().count("Line ") >= line_count


# --- actions ---------------------------------------------------------------------------------


def test_mark_sent_then_accepted(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user)

    # when
    sent = staff_client.post(url("mark_sent", quote))
    assert messages_of(sent) == [f"Quote {quote.number} marked as sent."]
    accepted = staff_client.post(url("mark_accepted", quote))

    # then
    assert sent["Location"] == accepted["Location"] == url("detail", quote)
    # (the first message was never shown: no page was opened in between)
    assert messages_of(accepted)[-1] == f"Quote {quote.number} marked as accepted."
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED


def test_mark_declined(staff_client, customer, membership):
    quote = sent_quote(customer, membership.user)
    response = staff_client.post(url("mark_declined", quote))
    assert messages_of(response) == [f"Quote {quote.number} marked as declined."]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED


def test_actions_need_a_post(staff_client, customer, membership):
    quote = make_quote(customer, membership.user)
    assert staff_client.get(url("mark_sent", quote)).status_code == 405
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_an_action_the_status_does_not_allow_says_why(staff_client, customer, membership):
    # given: a draft
    quote = make_quote(customer, membership.user)

    # when
    response = staff_client.post(url("mark_accepted", quote))

    # then
    assert response["Location"] == url("detail", quote)
    assert messages_of(response) == [f"Mark quote {quote.number} as sent first."]


def test_convert_to_sales_order_opens_the_new_order(staff_client, customer, membership):
    # given
    quote = sent_quote(customer, membership.user)

    # when
    response = staff_client.post(url("convert_to_sales_order", quote))

    # then
    order = SalesOrder.objects.get()
    assert response["Location"] == reverse("sales_orders:detail", args=[order.pk])
    assert messages_of(response) == [
        f"Quote {quote.number} converted to sales order {order.number}."
    ]
    # and the quote links to it
    content = staff_client.get(url("detail", quote)).content.decode()
    assert reverse("sales_orders:detail", args=[order.pk]) in content


def test_convert_to_invoice_opens_the_new_invoice(staff_client, customer, membership):
    # given
    quote = sent_quote(customer, membership.user)

    # when
    response = staff_client.post(url("convert_to_invoice", quote))

    # then
    invoice = Invoice.objects.get()
    assert response["Location"] == reverse("invoices:detail", args=[invoice.pk])
    assert messages_of(response) == [f"Quote {quote.number} converted to invoice {invoice.number}."]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.INVOICED
    content = staff_client.get(url("detail", quote)).content.decode()
    assert "Invoiced" in content
    assert reverse("invoices:detail", args=[invoice.pk]) in content


@pytest.mark.parametrize("action", ["convert_to_invoice", "convert_to_sales_order"])
def test_converting_a_declined_quote_is_refused_with_a_message(
    staff_client, customer, membership, action
):
    # given
    quote = services.quote_mark_declined(
        quote=sent_quote(customer, membership.user), actor=membership.user
    )

    # when
    response = staff_client.post(url(action, quote))

    # then
    assert response.status_code == 302
    assert response["Location"] == url("detail", quote)
    assert messages_of(response) == [f"Quote {quote.number} was declined and cannot be converted."]
    assert not Invoice.objects.exists()
    assert not SalesOrder.objects.exists()


def test_delete_a_draft(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user)

    # when
    response = staff_client.post(url("delete", quote))

    # then
    assert response["Location"] == LIST
    assert messages_of(response) == [f"Quote {quote.number} deleted."]
    assert not Quote.objects.exists()


def test_a_sent_quote_is_not_deleted(staff_client, customer, membership):
    quote = sent_quote(customer, membership.user)
    response = staff_client.post(url("delete", quote))
    assert response["Location"] == url("detail", quote)
    assert "Only a draft quote can be deleted" in messages_of(response)[0]
    assert Quote.objects.filter(pk=quote.pk).exists()


def test_pdf_download(staff_client, customer, membership):
    # given
    quote = make_quote(customer, membership.user, line("Design"))

    # when
    response = staff_client.get(url("pdf", quote))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{quote.number}.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


# --- isolation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("detail", "get"),
        ("edit", "get"),
        ("edit", "post"),
        ("pdf", "get"),
        ("mark_sent", "post"),
        ("mark_accepted", "post"),
        ("mark_declined", "post"),
        ("convert_to_sales_order", "post"),
        ("convert_to_invoice", "post"),
        ("delete", "post"),
    ],
)
def test_another_organisations_quote_is_not_found(staff_client, name, method):
    # given: a sent quote of another organisation
    other = MembershipFactory()
    quote = sent_quote(CustomerFactory(organization=other.organization), other.user)

    # when
    response = getattr(staff_client, method)(url(name, quote))

    # then
    assert response.status_code == 404
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert not Invoice.objects.exists()
    assert not SalesOrder.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- customer overview and menu --------------------------------------------------------------


def test_customer_overview_offers_a_new_quote(staff_client, customer):
    content = staff_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f"{CREATE}?customer={customer.pk}" in content
    assert f"{LIST}?customer={customer.pk}" in content


def test_the_menu_leads_to_quotes(staff_client):
    content = staff_client.get(LIST).content.decode()
    assert f'class="nav-link active" href="{LIST}"' in content
