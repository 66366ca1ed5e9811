"""Settings → Numbering: prefixes and next numbers that never reuse a number."""

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections, transaction
from django.urls import reverse

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.core.errors import PermissionDeniedError
from portico.customers.tests.factories import CustomerFactory
from portico.payments.models import Payment
from portico.sales.models import Invoice, NumberSeries
from portico.sales.numbering import number_series, number_take
from portico.sales.services.numbering_settings import (
    NumberingError,
    highest_issued_number,
    number_series_list,
    number_series_update,
)
from portico.sales.tests.factories import CreditNoteFactory, InvoiceFactory, QuoteFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("catalog:numbering")


def issue_invoice(organization, customer) -> Invoice:
    """Create an invoice the way every service does: its number taken in its transaction."""
    with transaction.atomic():
        number = number_take(organization=organization, document_type="invoice")
        return InvoiceFactory(organization=organization, customer=customer, number=number)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# The service -----------------------------------------------------------------


def test_the_list_shows_every_document_type_with_defaults_and_writes_nothing(organization):
    # when
    rows = number_series_list(organization=organization)

    # then
    assert [(row.document_type, row.next_example) for row in rows] == [
        ("quote", "QT-00001"),
        ("sales_order", "SO-00001"),
        ("invoice", "INV-00001"),
        ("credit_note", "CN-00001"),
        ("payment", "PAY-00001"),
    ]
    assert not NumberSeries.objects.filter(organization=organization).exists()


def test_change_the_prefix_and_next_number(membership, organization):
    # when
    series = number_series_update(
        membership=membership, document_type="invoice", prefix="BILL/2025-", next_number=42
    )

    # then
    assert str(series) == "BILL/2025-00042"
    assert number_series(organization=organization, document_type="invoice").next_number == 42


def test_numbers_stay_gap_free_after_a_prefix_change(membership, organization):
    # given: three invoices issued as INV-00001 … INV-00003
    customer = CustomerFactory(organization=organization)
    for _ in range(3):
        issue_invoice(organization, customer)

    # when the prefix changes and numbering restarts at 1
    number_series_update(membership=membership, document_type="invoice", prefix="B-", next_number=1)
    first = issue_invoice(organization, customer)
    # a creation that fails gives its number back
    with pytest.raises(RuntimeError), transaction.atomic():
        number_take(organization=organization, document_type="invoice")
        raise RuntimeError("the document could not be saved")
    second = issue_invoice(organization, customer)

    # then
    numbers = list(Invoice.objects.order_by("id").values_list("number", flat=True))
    assert numbers == ["INV-00001", "INV-00002", "INV-00003", "B-00001", "B-00002"]
    assert (first.number, second.number) == ("B-00001", "B-00002")


def test_going_back_to_a_used_prefix_continues_after_its_highest_number(membership, organization):
    # given: INV-00001 … INV-00003 issued, then a switch to another prefix
    customer = CustomerFactory(organization=organization)
    for _ in range(3):
        issue_invoice(organization, customer)
    number_series_update(membership=membership, document_type="invoice", prefix="B-", next_number=1)

    # when going back to INV- from 1
    with pytest.raises(NumberingError) as error:
        number_series_update(
            membership=membership, document_type="invoice", prefix="INV-", next_number=1
        )

    # then it is refused, and 4 is accepted
    assert error.value.field == "next_number"
    assert "must be 4 or more" in error.value.message
    number_series_update(
        membership=membership, document_type="invoice", prefix="INV-", next_number=4
    )
    assert issue_invoice(organization, customer).number == "INV-00004"


@pytest.mark.parametrize("next_number", [1, 2, 3])
def test_a_next_number_already_used_or_lower_is_refused(membership, organization, next_number):
    # given: INV-00003 issued
    InvoiceFactory(customer__organization=organization, number="INV-00003")

    # when
    with pytest.raises(NumberingError) as error:
        number_series_update(
            membership=membership, document_type="invoice", prefix="INV-", next_number=next_number
        )

    # then nothing changed
    assert error.value.field == "next_number"
    assert str(number_series(organization=organization, document_type="invoice")) == "INV-00001"


def test_leading_zeros_do_not_hide_an_issued_number(membership, organization):
    # given: a number issued with other padding
    InvoiceFactory(customer__organization=organization, number="INV-7")

    # when / then
    with pytest.raises(NumberingError):
        number_series_update(
            membership=membership, document_type="invoice", prefix="INV-", next_number=7
        )


def test_the_highest_number_ignores_other_prefixes_types_and_organisations(organization):
    # given
    InvoiceFactory(customer__organization=organization, number="INV-00005")
    InvoiceFactory(customer__organization=organization, number="INV-2024-00099")  # other prefix
    InvoiceFactory(customer__organization=organization, number="INVX00077")
    QuoteFactory(customer__organization=organization, number="INV-00050")  # another type
    InvoiceFactory(number="INV-00500")  # another organisation

    # when / then
    assert (
        highest_issued_number(organization=organization, document_type="invoice", prefix="INV-")
        == 5
    )


def test_payments_and_credit_notes_are_checked_too(membership, organization):
    # given
    CreditNoteFactory(customer__organization=organization, number="CN-00002")
    customer = CustomerFactory(organization=organization)
    Payment.objects.create(
        organization=organization, customer=customer, number="PAY-00009", amount=10, currency="USD"
    )

    # when / then
    with pytest.raises(NumberingError):
        number_series_update(
            membership=membership, document_type="credit_note", prefix="CN-", next_number=2
        )
    with pytest.raises(NumberingError):
        number_series_update(
            membership=membership, document_type="payment", prefix="PAY-", next_number=9
        )
    number_series_update(
        membership=membership, document_type="payment", prefix="PAY-", next_number=10
    )


@pytest.mark.parametrize("prefix", ["", "INV 2025", "TOO-LONG-PREFIX", "INV#", "ÄB-", "IN\nV"])
def test_a_bad_prefix_is_refused(membership, prefix):
    with pytest.raises(NumberingError) as error:
        number_series_update(
            membership=membership, document_type="invoice", prefix=prefix, next_number=1
        )

    assert error.value.field == "prefix"


def test_a_prefix_of_another_document_type_is_refused(membership, organization):
    with pytest.raises(NumberingError) as error:
        number_series_update(
            membership=membership, document_type="invoice", prefix="qt-", next_number=1
        )

    assert error.value.field == "prefix"
    assert not NumberSeries.objects.filter(organization=organization, prefix="qt-").exists()


@pytest.mark.parametrize("next_number", [0, -1, 2_147_483_648])
def test_a_next_number_out_of_range_is_refused(membership, next_number):
    with pytest.raises(NumberingError) as error:
        number_series_update(
            membership=membership, document_type="invoice", prefix="INV-", next_number=next_number
        )

    assert error.value.field == "next_number"


def test_staff_cannot_change_numbering(organization):
    staff = MembershipFactory(organization=organization, role=Role.STAFF)

    with pytest.raises(PermissionDeniedError):
        number_series_update(membership=staff, document_type="invoice", prefix="X-", next_number=1)


@pytest.mark.django_db(transaction=True)
def test_a_change_waits_for_a_document_being_created_on_postgresql(membership, organization):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers instead")
    # given: another transaction holds INV-00001 while it creates the invoice
    customer = CustomerFactory(organization=organization)
    number_taken = threading.Event()
    may_commit = threading.Event()

    def create_invoice() -> None:
        try:
            with transaction.atomic():
                number = number_take(organization=organization, document_type="invoice")
                InvoiceFactory(organization=organization, customer=customer, number=number)
                number_taken.set()
                may_commit.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=create_invoice)
    thread.start()
    assert number_taken.wait(timeout=10)
    outcome: list[BaseException | None] = []

    def change_numbering() -> None:
        try:
            number_series_update(
                membership=membership, document_type="invoice", prefix="INV-", next_number=1
            )
            outcome.append(None)
        except NumberingError as error:
            outcome.append(error)
        finally:
            connections.close_all()

    changer = threading.Thread(target=change_numbering)
    try:
        # when the numbering is reset to 1 meanwhile
        changer.start()
        changer.join(timeout=1)
        assert changer.is_alive(), "the change must wait for the invoice's transaction"
    finally:
        may_commit.set()
        thread.join(timeout=10)
        changer.join(timeout=10)

    # then it saw the committed INV-00001 and refused
    assert isinstance(outcome[0], NumberingError)
    assert number_series(organization=organization, document_type="invoice").next_number == 2


# The page --------------------------------------------------------------------


def test_the_page_shows_each_series(staff_client, organization):
    # given
    NumberSeries.objects.create(
        organization=organization, document_type="quote", prefix="Q/", next_number=12
    )

    # when
    response = staff_client.get(PAGE)

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "Q/00012" in content
    assert "INV-00001" in content


def test_an_owner_changes_a_series_on_the_page(staff_client, organization):
    # when
    response = staff_client.post(
        PAGE,
        {"document_type": "invoice", "invoice-prefix": "BILL-", "invoice-next_number": "100"},
    )

    # then
    assert response.status_code == 302
    assert str(number_series(organization=organization, document_type="invoice")) == "BILL-00100"
    assert "the next number is BILL-00100" in messages_of(response)[0]


def test_a_used_number_is_a_field_error_on_the_page(staff_client, organization):
    # given
    InvoiceFactory(customer__organization=organization, number="INV-00003")

    # when
    response = staff_client.post(
        PAGE, {"document_type": "invoice", "invoice-prefix": "INV-", "invoice-next_number": "2"}
    )

    # then
    assert response.status_code == 422
    form = {row.document_type: form for row, form in response.context["rows"]}["invoice"]
    assert "must be 4 or more" in form.errors["next_number"][0]
    assert "must be 4 or more" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"document_type": "invoice", "invoice-prefix": "IN V", "invoice-next_number": "1"},
        {"document_type": "invoice", "invoice-prefix": "INV-", "invoice-next_number": "abc"},
        {"document_type": "invoice", "invoice-prefix": "", "invoice-next_number": "1"},
        {"document_type": "bogus"},
    ],
)
def test_bad_input_on_the_page_changes_nothing(staff_client, organization, data):
    # when
    response = staff_client.post(PAGE, data)

    # then
    assert response.status_code == 422
    assert (
        not NumberSeries.objects.filter(organization=organization)
        .exclude(prefix__in=["QT-", "SO-", "INV-", "CN-", "PAY-"])
        .exists()
    )


def test_staff_see_the_numbering_but_cannot_change_it(client, organization):
    # given
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    client.force_login(staff.user)

    # when
    page = client.get(PAGE)
    response = client.post(
        PAGE, {"document_type": "invoice", "invoice-prefix": "X-", "invoice-next_number": "9"}
    )

    # then
    assert "Only an owner or an admin" in page.content.decode()
    assert response.status_code == 403
    assert str(number_series(organization=organization, document_type="invoice")) == "INV-00001"


def test_each_organisation_has_its_own_numbering(staff_client, organization):
    # given
    other = MembershipFactory()
    number_series_update(membership=other, document_type="invoice", prefix="OTH-", next_number=7)

    # when
    response = staff_client.get(PAGE)

    # then
    assert "OTH-" not in response.content.decode()
    assert str(number_series(organization=organization, document_type="invoice")) == "INV-00001"
