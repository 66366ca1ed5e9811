"""Pay now: a checkout for the contact's invoices, refused for anything it may not pay."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.accounts.tests.factories import OrganizationFactory
from portico.customers.tests.factories import CustomerFactory
from portico.online_payments.models import Checkout, CheckoutInvoice, CheckoutStatus
from portico.online_payments.services import (
    DuplicatePaymentError,
    OnlinePaymentError,
    checkout_expire_due,
    checkout_fail,
    checkout_prepare,
    payable_invoices,
)
from portico.online_payments.tests.p1_support import enable_test_gateway, invoice_of, make_access
from portico.payments.tests.factories import open_invoice
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalSettingsFactory
from portico.sales.models import InvoiceStatus


@pytest.fixture
def access(db):
    access = make_access()
    enable_test_gateway(access.organization)
    return access


def prepare(access, *selections, provider="test"):
    return checkout_prepare(access=access, provider=provider, selections=list(selections))


def test_a_checkout_for_several_invoices_oldest_first(access, settings):
    settings.CHECKOUT_LOCK_MINUTES = 30
    newer = invoice_of(access, "80.00", days_ago=1)
    older = invoice_of(access, "100.00", days_ago=10)
    before = timezone.now()

    checkout = prepare(access, (newer.pk, None), (older.pk, Decimal("25.50")))

    assert checkout.status == CheckoutStatus.PENDING
    assert checkout.provider == "test"
    assert checkout.amount == Decimal("105.50") and checkout.amount_minor == 10550
    assert checkout.currency == "USD"
    assert checkout.customer == access.customer and checkout.contact == access.contact
    assert checkout.user == access.user
    assert before + timedelta(minutes=30) <= checkout.expires_at
    assert checkout.expires_at <= timezone.now() + timedelta(minutes=30)
    lines = list(checkout.lines.order_by("pk").values_list("invoice_id", "amount"))
    assert lines == [(older.pk, Decimal("25.50")), (newer.pk, Decimal("80.00"))]


def test_a_yen_checkout_has_no_minor_unit(db):
    access = make_access(currency="JPY")
    enable_test_gateway(access.organization, minimum_partial_amount=Decimal("100"))
    invoice = invoice_of(access, "12000")

    checkout = prepare(access, (invoice.pk, "5000"))

    assert checkout.amount_minor == 5000


def test_payable_invoices_are_the_open_ones_oldest_first(access):
    newer = invoice_of(access, days_ago=1)
    older = invoice_of(access, days_ago=5)
    invoice_of(access, status=InvoiceStatus.PAID, balance_due=Decimal(0))
    invoice_of(access, status=InvoiceStatus.DRAFT)
    invoice_of(access, status=InvoiceStatus.VOID)
    open_invoice(CustomerFactory(organization=access.organization))

    invoices = payable_invoices(access=access)

    assert [invoice.pk for invoice in invoices] == [older.pk, newer.pk]
    assert invoices[0].payment_minimum == Decimal("1")
    assert invoices[0].payment_in_progress is False


def _refused(access, *selections, provider="test") -> OnlinePaymentError:
    with pytest.raises(OnlinePaymentError) as refused:
        prepare(access, *selections, provider=provider)
    assert not Checkout.objects.exists()
    return refused.value


def test_another_customers_invoice_is_refused_and_logged(access, caplog):
    foreign = open_invoice(CustomerFactory(organization=access.organization))

    with caplog.at_level(logging.WARNING, logger="portico.online_payments.services"):
        error = _refused(access, (foreign.pk, None))

    assert error.field == "invoices"
    assert foreign.number not in error.message
    assert "not visible" in caplog.text


def test_another_organisations_invoice_is_refused(access):
    foreign = open_invoice(CustomerFactory(organization=OrganizationFactory()))

    _refused(access, (foreign.pk, None))


def test_a_mix_of_own_and_foreign_invoices_is_refused_entirely(access):
    own = invoice_of(access)
    foreign = open_invoice(CustomerFactory(organization=access.organization))

    _refused(access, (own.pk, None), (foreign.pk, None))


def test_a_paid_invoice_is_refused(access):
    paid = invoice_of(access, status=InvoiceStatus.PAID, balance_due=Decimal(0))

    error = _refused(access, (paid.pk, None))

    assert paid.number in error.message and "paid" in error.message


def test_a_void_invoice_is_refused_even_when_the_portal_shows_void_ones(access):
    PortalSettingsFactory(organization=access.organization, show_void_documents=True)
    void = invoice_of(access, status=InvoiceStatus.VOID)

    error = _refused(access, (void.pk, None))

    assert void.number in error.message


def test_a_draft_invoice_is_not_found(access):
    draft = invoice_of(access, status=InvoiceStatus.DRAFT)

    error = _refused(access, (draft.pk, None))

    assert draft.number not in error.message


def test_an_amount_below_the_minimum_is_refused(access):
    enable_test_gateway(access.organization, minimum_partial_amount=Decimal("10"))
    invoice = invoice_of(access, "100.00")

    error = _refused(access, (invoice.pk, Decimal("9.99")))

    assert error.field == "amount" and "10.00" in error.message


def test_a_balance_below_the_minimum_may_be_paid_in_full(access):
    enable_test_gateway(access.organization, minimum_partial_amount=Decimal("10"))
    invoice = invoice_of(access, "5.00")

    assert prepare(access, (invoice.pk, Decimal("5.00"))).amount == Decimal("5.00")


def test_stripe_minimum_applies_to_stripe(access):
    from portico.online_payments.services import invoice_payment_minimum, provider_minimum

    invoice = invoice_of(access, "100.00")
    row = enable_test_gateway(access.organization, minimum_partial_amount=Decimal("0.01"))

    assert provider_minimum(provider="stripe", currency="USD") == Decimal("0.50")
    assert provider_minimum(provider="test", currency="JPY") == Decimal("1")
    assert invoice_payment_minimum(invoice=invoice, settings_row=row, providers=["stripe"]) == (
        Decimal("0.50")
    )


@pytest.mark.parametrize("amount", ["100.01", "1000"])
def test_an_amount_above_the_balance_is_refused(access, amount):
    invoice = invoice_of(access, "100.00")

    error = _refused(access, (invoice.pk, Decimal(amount)))

    assert error.field == "amount"


@pytest.mark.parametrize("amount", ["0", "-5", "10.001", "NaN", "ten"])
def test_zero_negative_and_malformed_amounts_are_refused(access, amount):
    invoice = invoice_of(access, "100.00")

    _refused(access, (invoice.pk, amount))


def test_a_partial_amount_is_refused_when_the_invoice_does_not_allow_it(access):
    invoice = invoice_of(access, "100.00", allow_partial_payments=False)

    error = _refused(access, (invoice.pk, Decimal("50")))

    assert "in full" in error.message
    assert prepare(access, (invoice.pk, None)).amount == Decimal("100.00")


def test_the_invoices_module_hidden_refuses(access):
    access.modules = [PortalModule.QUOTES]
    access.save()
    invoice = invoice_of(access)

    _refused(access, (invoice.pk, None))
    assert payable_invoices(access=access) == []


@pytest.mark.parametrize("selections", [[], [("abc", None)], [(1, None), (1, None)]])
def test_no_choice_or_tampered_ids_are_refused(access, selections):
    invoice_of(access)

    with pytest.raises(OnlinePaymentError):
        checkout_prepare(access=access, provider="test", selections=selections)


@pytest.mark.parametrize("provider", ["stripe", "paypal", ""])
def test_a_provider_not_available_is_refused(access, provider):
    invoice = invoice_of(access)

    error = _refused(access, (invoice.pk, None), provider=provider)

    assert error.field == "provider"


def test_invoices_in_two_currencies_are_refused(access):
    usd = invoice_of(access)
    eur = invoice_of(access, currency="EUR")

    _refused(access, (usd.pk, None), (eur.pk, None))


def test_a_second_pay_now_for_an_invoice_in_progress_is_refused(access):
    first = invoice_of(access, days_ago=3)
    second = invoice_of(access, days_ago=1)
    prepare(access, (first.pk, Decimal("10")))

    with pytest.raises(DuplicatePaymentError) as refused:
        prepare(access, (second.pk, None), (first.pk, None))

    assert first.number in refused.value.message
    assert Checkout.objects.count() == 1
    assert [invoice.pk for invoice in payable_invoices(access=access)] == [second.pk]
    marked = payable_invoices(access=access, include_locked=True)
    assert [(invoice.pk, invoice.payment_in_progress) for invoice in marked] == [
        (first.pk, True),
        (second.pk, False),
    ]


def test_duplicates_are_allowed_when_the_organisation_allows_them(access):
    enable_test_gateway(access.organization, prevent_duplicate_payments=False)
    invoice = invoice_of(access)
    prepare(access, (invoice.pk, Decimal("10")))

    prepare(access, (invoice.pk, Decimal("10")))

    assert CheckoutInvoice.objects.filter(invoice=invoice).count() == 2
    assert payable_invoices(access=access)[0].pk == invoice.pk


def test_an_expired_checkout_releases_the_lock_even_before_it_is_marked(access, settings):
    invoice = invoice_of(access)
    first = prepare(access, (invoice.pk, Decimal("10")))
    Checkout.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert [i.pk for i in payable_invoices(access=access)] == [invoice.pk]
    second = prepare(access, (invoice.pk, None))

    assert second.pk != first.pk
    assert checkout_expire_due() == 1
    first.refresh_from_db()
    assert first.status == CheckoutStatus.EXPIRED
    second.refresh_from_db()
    assert second.status == CheckoutStatus.PENDING


def test_a_failed_checkout_releases_the_lock_at_once(access):
    invoice = invoice_of(access)
    first = prepare(access, (invoice.pk, None))

    checkout_fail(checkout_id=first.pk, message="cancelled")

    assert prepare(access, (invoice.pk, None)).pk != first.pk


def test_expire_checkouts_command_and_task(access, clock):
    from django.core.management import call_command

    from portico.online_payments.tasks import expire_checkouts

    invoice = invoice_of(access)
    prepare(access, (invoice.pk, Decimal("10")))
    clock.advance(minutes=31)

    call_command("expire_checkouts", stdout=__import__("io").StringIO())
    assert Checkout.objects.get().status == CheckoutStatus.EXPIRED
    assert expire_checkouts.call() == 0


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = timezone.now()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def test_pay_now_schedules_the_expiry_with_the_worker(access, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    invoice = invoice_of(access)

    with django_capture_on_commit_callbacks(execute=True):
        checkout = prepare(access, (invoice.pk, None))

    task = DBTaskResult.objects.get(task_path__endswith="expire_checkouts")
    assert task.run_after > checkout.expires_at
