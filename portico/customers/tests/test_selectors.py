import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portico.accounts.tests.factories import OrganizationFactory
from portico.customers import selectors
from portico.customers.selectors import CustomerFilters
from portico.customers.services import ContactData, customer_create
from portico.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def names(customers) -> list[str]:
    return [customer.display_name for customer in customers]


def listed(organization, **filters) -> list[str]:
    return names(
        selectors.customer_list(organization=organization, filters=CustomerFilters(**filters))
    )


# --- CustomerFilters ----------------------------------------------------------


def test_filters_from_the_query_string():
    # given
    query = QueryDict(
        "q=+Acme++&status=all&currency=eur&portal_language=de&customer_type=individual&sort=-name"
    )

    # when
    filters = CustomerFilters.from_query(query)

    # then
    assert filters == CustomerFilters(
        q="Acme",
        status="all",
        currency="EUR",
        portal_language="de",
        customer_type="individual",
        sort="-name",
    )


def test_filters_fall_back_to_defaults_for_nonsense():
    # when
    filters = CustomerFilters.from_query(QueryDict("status=deleted&sort=password&q=" + "x" * 500))

    # then
    assert filters.status == "active"
    assert filters.sort == "name"
    assert len(filters.q) == 100


def test_filters_as_query_names_only_what_differs_from_the_defaults():
    assert CustomerFilters().as_query() == ""
    assert CustomerFilters(q="a b", status="all").as_query() == "q=a+b&status=all"


# --- customer_list: search ----------------------------------------------------


@pytest.fixture
def searchable(organization):
    """One customer with a contact person, made through the service like the form does."""
    return customer_create(
        organization=organization,
        display_name="Northwind Traders",
        company_name="Northwind Holding GmbH",
        email="Billing@Northwind.example",
        phone="+49 30 1234567",
        contacts=[
            ContactData(first_name="Greta", last_name="Garbo", email="greta@nw-contacts.example"),
            ContactData(first_name="Max", last_name="Mobil", mobile="+49 171 999888"),
        ],
    )


@pytest.mark.parametrize(
    "query",
    [
        "northwind",  # display name, any case
        "NORTHWIND TRA",
        "holding gmbh",  # company name
        "billing@northwind",  # e-mail
        "30 1234",  # phone
        "greta@nw-contacts",  # a contact person's e-mail
        "greta garbo",  # a contact person's name
        "171 999",  # a contact person's mobile
    ],
)
def test_search_finds_a_customer_by_any_of_its_details(organization, searchable, query):
    # given
    CustomerFactory(organization=organization, display_name="Someone Else")

    # when / then
    assert listed(organization, q=query) == ["Northwind Traders"]


def test_search_treats_like_wildcards_literally(organization, searchable):
    assert listed(organization, q="%") == []
    assert listed(organization, q="_") == []


def test_search_never_finds_another_organisations_customer(organization, searchable):
    # given
    other = OrganizationFactory()

    # when / then
    assert listed(other, q="northwind") == []


@st.composite
def names_with_a_part(draw) -> tuple[str, str]:
    """A display name and any non-empty substring of it."""
    name = draw(
        st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40)
        .map(str.strip)
        .filter(bool)
    )
    start = draw(st.integers(min_value=0, max_value=len(name) - 1))
    end = draw(st.integers(min_value=start + 1, max_value=len(name)))
    return name, name[start:end]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name_and_part=names_with_a_part())
# Typing a Greek name in capitals: "ΟΔΥΣ" must find "ΟΔΥΣΣΕΑΣ" although a
# lower-cased final Σ is ς, not σ.
@example(name_and_part=("ΟΔΥΣΣΕΑΣ", "ΟΔΥΣ"))
def test_search_finds_a_customer_by_any_part_of_its_display_name(organization, name_and_part):
    # given
    display_name, part = name_and_part
    customer = customer_create(organization=organization, display_name=display_name)
    query = QueryDict(mutable=True)
    query["q"] = part

    # when
    found = selectors.customer_list(
        organization=organization, filters=CustomerFilters.from_query(query)
    )

    # then
    assert customer in found
    customer.delete()  # examples share the test's transaction


# --- customer_list: filters and sorting ---------------------------------------


def test_status_filter(organization):
    # given
    CustomerFactory(organization=organization, display_name="Active One")
    CustomerFactory(organization=organization, display_name="Dormant One", is_active=False)

    # when / then
    assert listed(organization) == ["Active One"]
    assert listed(organization, status="inactive") == ["Dormant One"]
    assert listed(organization, status="all") == ["Active One", "Dormant One"]


def test_currency_language_and_type_filters(organization):
    # given
    CustomerFactory(organization=organization, display_name="Euro", currency="EUR")
    CustomerFactory(organization=organization, display_name="German", portal_language="de")
    CustomerFactory(organization=organization, display_name="Person", customer_type="individual")

    # when / then
    assert listed(organization, currency="EUR") == ["Euro"]
    assert listed(organization, portal_language="de") == ["German"]
    assert listed(organization, customer_type="individual") == ["Person"]
    assert listed(organization, currency="USD", customer_type="business") == ["German"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("company", ["Bravo", "Charlie", "Alpha"]),
        ("-company", ["Alpha", "Charlie", "Bravo"]),
        ("email", ["Charlie", "Alpha", "Bravo"]),
        ("-email", ["Bravo", "Alpha", "Charlie"]),
        ("created", ["Bravo", "Alpha", "Charlie"]),
        ("-created", ["Charlie", "Alpha", "Bravo"]),
    ],
)
def test_sorting(organization, sort, expected):
    # given: created in the order Bravo, Alpha, Charlie
    CustomerFactory(organization=organization, display_name="Bravo", company_name="a", email="z@x")
    CustomerFactory(organization=organization, display_name="Alpha", company_name="c", email="m@x")
    CustomerFactory(
        organization=organization, display_name="Charlie", company_name="b", email="a@x"
    )

    # when / then
    assert listed(organization, sort=sort) == expected


# --- customer_selection and single customers ---------------------------------


def test_selection_of_ticked_ids_stays_in_the_organisation(organization):
    # given
    mine = CustomerFactory(organization=organization)
    theirs = CustomerFactory()

    # when
    selection = selectors.customer_selection(
        organization=organization,
        ids=[mine.pk, theirs.pk],
        all_matching=False,
        filters=CustomerFilters(),
    )

    # then
    assert list(selection) == [mine]


def test_selection_of_all_matching_follows_the_filters_not_the_ids(organization):
    # given
    wanted = CustomerFactory.create_batch(3, organization=organization, currency="EUR")
    unwanted = CustomerFactory(organization=organization, currency="USD")
    CustomerFactory(currency="EUR")  # another organisation's

    # when
    selection = selectors.customer_selection(
        organization=organization,
        ids=[unwanted.pk],
        all_matching=True,
        filters=CustomerFilters(currency="EUR"),
    )

    # then
    assert set(selection) == set(wanted)


def test_customer_get_and_detail_refuse_another_organisations_customer(organization):
    # given
    theirs = CustomerFactory()

    # when / then
    with pytest.raises(theirs.DoesNotExist):
        selectors.customer_get(organization=organization, customer_id=theirs.pk)
    with pytest.raises(theirs.DoesNotExist):
        selectors.customer_detail(organization=organization, customer_id=theirs.pk)


def test_customer_detail_counts_the_contacts(organization, searchable):
    # when
    customer = selectors.customer_detail(organization=organization, customer_id=searchable.pk)

    # then
    assert customer.contact_count == 2
