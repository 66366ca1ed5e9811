from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.catalog.models import Item, Tax
from portico.catalog.tests.factories import ItemFactory, TaxFactory

pytestmark = pytest.mark.django_db

ITEMS = reverse("catalog:item_list")
NEW_ITEM = reverse("catalog:item_create")
TAXES = reverse("catalog:tax_list")
NEW_TAX = reverse("catalog:tax_create")
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "item-results"}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response) -> list[str]:
    return [item.name for item in response.context["page"].object_list]


def item_data(**changes) -> dict:
    data = {
        "name": "Consulting hour",
        "sku": "CONS-1",
        "unit": "h",
        "rate": "120.50",
        "tax": "",
        "description": "Senior consultant",
        "is_active": "on",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


# Item list -------------------------------------------------------------------


def test_the_item_list_searches_name_and_sku(staff_client, organization):
    # given
    ItemFactory(organization=organization, name="Blue widget", sku="BW-1")
    ItemFactory(organization=organization, name="Red gadget", sku="WIDGET-RED")
    ItemFactory(organization=organization, name="Green box", sku="GB-1")

    # when
    response = staff_client.get(ITEMS, {"q": "widget"})

    # then
    assert listed(response) == ["Blue widget", "Red gadget"]


def test_the_item_list_shows_active_items_unless_asked(staff_client, organization):
    # given
    ItemFactory(organization=organization, name="Current")
    ItemFactory(organization=organization, name="Retired", is_active=False)

    # when / then
    assert listed(staff_client.get(ITEMS)) == ["Current"]
    assert listed(staff_client.get(ITEMS, {"status": "inactive"})) == ["Retired"]
    assert listed(staff_client.get(ITEMS, {"status": "all"})) == ["Current", "Retired"]


def test_the_item_list_filters_by_tax_and_sorts_by_rate(staff_client, organization):
    # given
    vat = TaxFactory(organization=organization)
    ItemFactory(organization=organization, name="Cheap", rate=Decimal(1), tax=vat)
    ItemFactory(organization=organization, name="Dear", rate=Decimal(99), tax=vat)
    ItemFactory(organization=organization, name="Untaxed", rate=Decimal(50))

    # when
    response = staff_client.get(ITEMS, {"tax": vat.pk, "sort": "-rate"})

    # then
    assert listed(response) == ["Dear", "Cheap"]


def test_the_item_list_ignores_unknown_filters(staff_client, organization):
    # given
    ItemFactory(organization=organization, name="Widget")

    # when
    response = staff_client.get(ITEMS, {"status": "bogus", "sort": "evil", "tax": "x"})

    # then
    assert response.status_code == 200
    assert listed(response) == ["Widget"]


def test_the_item_list_never_shows_another_organisations_items(staff_client, organization):
    # given
    ItemFactory(organization=organization, name="Ours")
    ItemFactory(name="Theirs")

    # when
    response = staff_client.get(ITEMS, {"status": "all"})

    # then
    assert listed(response) == ["Ours"]


def test_the_item_list_pages_by_50(staff_client, organization):
    # given
    ItemFactory.create_batch(55, organization=organization)

    # when
    first = staff_client.get(ITEMS)
    second = staff_client.get(ITEMS, {"page": 2})

    # then
    assert len(listed(first)) == 50
    assert len(listed(second)) == 5


def test_the_htmx_search_answers_with_the_results_only(staff_client, organization):
    # given
    ItemFactory(organization=organization, name="Widget")

    # when
    response = staff_client.get(ITEMS, {"q": "wid"}, headers=HTMX_RESULTS)

    # then
    assert "catalog/partials/_item_results.html" in {t.name for t in response.templates}
    assert "staff/layout.html" not in {t.name for t in response.templates}
    assert response["HX-Push-Url"] == f"{ITEMS}?q=wid"


def test_an_empty_catalogue_invites_the_first_item(staff_client):
    # when
    response = staff_client.get(ITEMS)

    # then
    assert "Add your first item" in response.content.decode()


# session, user, membership + organisation, item count, item page with taxes,
# tax filter choices, the organisation switcher's memberships
LIST_QUERIES = 7


@pytest.mark.parametrize("count", [5, 500])
def test_the_item_list_needs_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given: every item with its own tax
    for _ in range(count):
        ItemFactory(organization=organization, tax=TaxFactory(organization=organization))

    # when / then
    with django_assert_num_queries(LIST_QUERIES):
        response = staff_client.get(ITEMS, {"q": "item", "sort": "-rate"})
    assert len(listed(response)) == min(count, 50)


@pytest.mark.parametrize("count", [5, 60])
def test_the_htmx_results_need_the_same_queries_for_few_and_many(
    staff_client, organization, django_assert_num_queries, count
):
    # given
    for _ in range(count):
        ItemFactory(organization=organization, tax=TaxFactory(organization=organization))

    # when / then: no layout (organisation switcher) and no tax filter choices
    with django_assert_num_queries(LIST_QUERIES - 2):
        staff_client.get(ITEMS, headers=HTMX_RESULTS)


# Item create / edit ----------------------------------------------------------


def test_staff_create_an_item(staff_client, organization):
    # given
    tax = TaxFactory(organization=organization, name="VAT")

    # when
    response = staff_client.post(NEW_ITEM, item_data(tax=tax.pk))

    # then
    item = Item.objects.get(organization=organization)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:item_detail", args=[item.pk])
    assert (item.name, item.sku, item.rate, item.tax) == (
        "Consulting hour",
        "CONS-1",
        Decimal("120.5"),
        tax,
    )
    assert "Item Consulting hour created." in messages_of(response)


def test_a_duplicate_sku_is_a_field_error(staff_client, organization):
    # given
    ItemFactory(organization=organization, name="Existing", sku="CONS-1")

    # when
    response = staff_client.post(NEW_ITEM, item_data(sku="cons-1"))

    # then
    assert response.status_code == 422
    assert "already used by Existing" in response.context["form"].errors["sku"][0]
    assert Item.objects.filter(organization=organization).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rate": "-5"}, "rate"),
        ({"rate": "abc"}, "rate"),
        ({"name": ""}, "name"),
        ({"unit": "x" * 21}, "unit"),
    ],
)
def test_bad_item_input_is_a_field_error_and_saves_nothing(
    staff_client, organization, changes, field
):
    # when
    response = staff_client.post(NEW_ITEM, item_data(**changes))

    # then
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not Item.objects.filter(organization=organization).exists()


def test_another_organisations_tax_cannot_be_chosen(staff_client, organization):
    # given
    foreign_tax = TaxFactory()

    # when
    response = staff_client.post(NEW_ITEM, item_data(tax=foreign_tax.pk))

    # then
    assert response.status_code == 422
    assert "tax" in response.context["form"].errors
    assert not Item.objects.exists()


def test_the_item_form_offers_active_taxes_and_the_items_own(staff_client, organization):
    # given
    active = TaxFactory(organization=organization, name="Active tax")
    retired = TaxFactory(organization=organization, name="Retired tax", is_active=False)
    other_retired = TaxFactory(organization=organization, name="Other retired", is_active=False)
    item = ItemFactory(organization=organization, tax=retired)

    # when
    response = staff_client.get(reverse("catalog:item_edit", args=[item.pk]))

    # then
    offered = set(response.context["form"].fields["tax"].queryset)
    assert offered == {active, retired}
    assert other_retired not in offered


def test_staff_edit_an_item(staff_client, organization):
    # given
    item = ItemFactory(organization=organization, name="Old", sku="OLD-1", rate=Decimal(10))

    # when
    response = staff_client.post(
        reverse("catalog:item_edit", args=[item.pk]),
        item_data(name="New", sku="OLD-1", rate="12.5", is_active=None),
    )

    # then
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.rate, item.is_active) == ("New", Decimal("12.5"), False)


def test_the_edit_form_shows_the_rate_without_trailing_zeros(staff_client, organization):
    # given
    item = ItemFactory(organization=organization, rate=Decimal("12.5000"))

    # when
    response = staff_client.get(reverse("catalog:item_edit", args=[item.pk]))

    # then
    assert 'value="12.50"' in response.content.decode()


def test_item_detail_shows_the_item(staff_client, organization):
    # given
    item = ItemFactory(organization=organization, name="Widget", sku="W-1")

    # when
    response = staff_client.get(reverse("catalog:item_detail", args=[item.pk]))

    # then
    assert response.status_code == 200
    assert "W-1" in response.content.decode()


def test_mark_an_item_inactive_and_active_again(staff_client, organization):
    # given
    item = ItemFactory(organization=organization, name="Widget")
    url = reverse("catalog:item_set_active", args=[item.pk])

    # when
    response = staff_client.post(url, {"active": "0"})

    # then
    item.refresh_from_db()
    assert not item.is_active
    assert "no longer offered" in messages_of(response)[0]

    staff_client.post(url, {"active": "1"})
    item.refresh_from_db()
    assert item.is_active


def test_delete_an_item(staff_client, organization):
    # given
    item = ItemFactory(organization=organization, name="Widget")

    # when
    response = staff_client.post(reverse("catalog:item_delete", args=[item.pk]))

    # then
    assert response["Location"] == ITEMS
    assert not Item.objects.filter(pk=item.pk).exists()
    assert "Item Widget deleted." in messages_of(response)


def test_delete_is_a_post(staff_client, organization):
    item = ItemFactory(organization=organization)

    response = staff_client.get(reverse("catalog:item_delete", args=[item.pk]))

    assert response.status_code == 405
    assert Item.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("catalog:item_detail", "get", None),
        ("catalog:item_edit", "get", None),
        ("catalog:item_edit", "post", item_data()),
        ("catalog:item_set_active", "post", {"active": "0"}),
        ("catalog:item_delete", "post", None),
    ],
)
def test_another_organisations_item_is_not_found(staff_client, name, method, data):
    # given
    foreign = ItemFactory(name="Theirs", is_active=True)

    # when
    response = getattr(staff_client, method)(reverse(name, args=[foreign.pk]), data or {})

    # then
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.is_active) == ("Theirs", True)


def test_item_pages_need_a_signed_in_member(client, organization):
    item = ItemFactory(organization=organization)

    for url in (ITEMS, NEW_ITEM, reverse("catalog:item_detail", args=[item.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


# Taxes -----------------------------------------------------------------------


def test_the_tax_list_shows_the_organisations_taxes_with_their_items(
    staff_client, organization, django_assert_num_queries
):
    # given
    vat = TaxFactory(organization=organization, name="VAT")
    ItemFactory.create_batch(3, organization=organization, tax=vat)
    TaxFactory(name="Foreign tax")

    # when: session, user, membership, taxes with item counts, organisation switcher
    with django_assert_num_queries(5):
        response = staff_client.get(TAXES)

    # then
    taxes = list(response.context["taxes"])
    assert [tax.name for tax in taxes] == ["VAT"]
    assert taxes[0].item_count == 3


def test_staff_create_a_tax(staff_client, organization):
    # when
    response = staff_client.post(NEW_TAX, {"name": "GST", "rate": "7.5"})

    # then
    assert response["Location"] == TAXES
    tax = Tax.objects.get(organization=organization)
    assert (tax.name, tax.rate) == ("GST", Decimal("7.5"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "GST", "rate": "100.5"}, "rate"),
        ({"name": "GST", "rate": "-1"}, "rate"),
        ({"name": "GST", "rate": "7.1234"}, "rate"),
        ({"name": "", "rate": "7"}, "name"),
        ({"name": "vat", "rate": "7"}, "name"),  # VAT exists
    ],
)
def test_bad_tax_input_is_a_field_error(staff_client, organization, data, field):
    # given
    TaxFactory(organization=organization, name="VAT")

    # when
    response = staff_client.post(NEW_TAX, data)

    # then
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Tax.objects.filter(organization=organization).count() == 1


def test_staff_edit_a_tax(staff_client, organization):
    # given
    tax = TaxFactory(organization=organization, name="VAT", rate=Decimal(20))

    # when
    staff_client.post(reverse("catalog:tax_edit", args=[tax.pk]), {"name": "VAT", "rate": "21"})

    # then
    tax.refresh_from_db()
    assert tax.rate == Decimal(21)


def test_deactivating_a_tax_in_use_is_refused_with_a_message(staff_client, organization):
    # given
    tax = TaxFactory(organization=organization, name="VAT")
    ItemFactory(organization=organization, tax=tax, name="Widget")

    # when
    response = staff_client.post(
        reverse("catalog:tax_set_active", args=[tax.pk]), {"active": "0"}, follow=True
    )

    # then
    tax.refresh_from_db()
    assert tax.is_active
    assert "Widget" in response.content.decode()


def test_deactivate_and_activate_a_tax(staff_client, organization):
    # given
    tax = TaxFactory(organization=organization)
    url = reverse("catalog:tax_set_active", args=[tax.pk])

    # when / then
    staff_client.post(url, {"active": "0"})
    tax.refresh_from_db()
    assert not tax.is_active
    staff_client.post(url, {"active": "1"})
    tax.refresh_from_db()
    assert tax.is_active


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("catalog:tax_edit", "get", None),
        ("catalog:tax_edit", "post", {"name": "Stolen", "rate": "1"}),
        ("catalog:tax_set_active", "post", {"active": "0"}),
    ],
)
def test_another_organisations_tax_is_not_found(staff_client, name, method, data):
    # given
    foreign = TaxFactory(name="Theirs")

    # when
    response = getattr(staff_client, method)(reverse(name, args=[foreign.pk]), data or {})

    # then
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.is_active) == ("Theirs", True)


def test_a_staff_member_may_manage_items_and_taxes(client, organization):
    # given
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    client.force_login(staff.user)

    # when
    client.post(NEW_TAX, {"name": "GST", "rate": "7"})
    client.post(NEW_ITEM, item_data())

    # then
    assert Tax.objects.filter(organization=organization).exists()
    assert Item.objects.filter(organization=organization).exists()
