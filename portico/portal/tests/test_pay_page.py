"""The portal's Pay page and its Pay now buttons (list, invoice page, Home), and the
offline payment instructions shown when no gateway is on."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portico.customers.tests.factories import CustomerFactory
from portico.online_payments.models import Checkout, CheckoutStatus, OnlinePaymentSettings
from portico.online_payments.services import checkout_prepare
from portico.payments.tests.factories import open_invoice
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

INSTRUCTIONS = "Bank transfer to IBAN DE00 1234 5678"


@pytest.fixture
def gateway(portal_organization):
    """The test gateway on, with payment instructions."""
    return OnlinePaymentSettings.objects.create(
        organization=portal_organization,
        test_gateway_enabled=True,
        payment_instructions=INSTRUCTIONS,
        minimum_partial_amount=Decimal("10"),
    )


@pytest.fixture
def no_gateway(portal_organization):
    return OnlinePaymentSettings.objects.create(
        organization=portal_organization, payment_instructions=INSTRUCTIONS
    )


@pytest.fixture
def pay_url(portal_reverse, portal_organization):
    return portal_reverse(portal_organization, "portal:pay")


def invoice_of(access, total="100.00", days_ago=0, **fields):
    date = timezone.localdate() - timedelta(days=days_ago)
    if fields.get("status") == InvoiceStatus.PAID:
        return InvoiceFactory(
            customer=access.customer, total=Decimal(total), balance_due=0, date=date, **fields
        )
    return open_invoice(access.customer, total=total, date=date, **fields)


def test_the_page_lists_payable_invoices_oldest_first(
    portal_client, portal_access, gateway, pay_url
):
    newer = invoice_of(portal_access, total="50.00", days_ago=1)
    older = invoice_of(portal_access, total="80.00", days_ago=9)
    invoice_of(portal_access, status=InvoiceStatus.PAID)
    open_invoice(CustomerFactory(organization=portal_access.organization))  # not theirs

    response = portal_client.get(pay_url)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(older.number) < html.index(newer.number)
    assert html.count("data-pay-row data-currency") == 2
    assert "At least $10.00" in html
    assert INSTRUCTIONS in html  # "Prefer to pay another way?"


def test_invoice_query_ticks_that_invoice_and_all_ticks_all(
    portal_client, portal_access, gateway, pay_url
):
    first = invoice_of(portal_access, days_ago=3)
    second = invoice_of(portal_access, days_ago=1)

    one = portal_client.get(f"{pay_url}?invoice={second.pk}").context["form"]
    every = portal_client.get(f"{pay_url}?all=1").context["form"]

    assert one[f"pay_{second.pk}"].value() and not one[f"pay_{first.pk}"].value()
    assert every[f"pay_{first.pk}"].value() and every[f"pay_{second.pk}"].value()


def test_paying_part_with_the_test_gateway_prepares_a_checkout_and_opens_the_card_page(
    portal_client, portal_access, portal_reverse, gateway, pay_url
):
    invoice = invoice_of(portal_access, total="100.00")

    response = portal_client.post(
        pay_url, {f"pay_{invoice.pk}": "on", f"amount_{invoice.pk}": "40.00", "provider": "test"}
    )

    checkout = Checkout.objects.get()
    assert response.status_code == 302
    assert response.url == portal_reverse(
        portal_access.organization, "portal:test_gateway_card", pk=checkout.pk
    )
    assert checkout.amount == Decimal("40.00") and checkout.amount_minor == 4000
    assert checkout.status == CheckoutStatus.PENDING
    assert [line.invoice_id for line in checkout.lines.all()] == [invoice.pk]


def test_stripe_sends_the_contact_to_the_session_url(
    portal_client, portal_access, portal_reverse, gateway, pay_url, monkeypatch
):
    from portico.online_payments import stripe_gateway

    started = {}

    def start(*, checkout, success_url, cancel_url):
        started.update(checkout=checkout, success_url=success_url, cancel_url=cancel_url)
        return "https://checkout.stripe.test/c/pay/cs_test_1"

    monkeypatch.setattr(stripe_gateway, "stripe_checkout_start", start)
    monkeypatch.setattr(
        "portico.portal.views_pay.providers_available", lambda organization: ["stripe"]
    )
    monkeypatch.setattr(
        "portico.online_payments.services.providers_available",
        lambda organization: ["stripe"],
    )
    invoice = invoice_of(portal_access)

    response = portal_client.post(pay_url, {f"pay_{invoice.pk}": "on", "provider": "stripe"})

    assert response.status_code == 302
    assert response.url == "https://checkout.stripe.test/c/pay/cs_test_1"
    pk = started["checkout"].pk
    organization = portal_access.organization
    assert started["success_url"] == "http://testserver" + portal_reverse(
        organization, "portal:checkout_status", pk=pk
    )
    assert started["cancel_url"] == "http://testserver" + portal_reverse(
        organization, "portal:checkout_cancel", pk=pk
    )


def test_another_customers_invoice_posted_is_refused_and_nothing_recorded(
    portal_client, portal_access, gateway, pay_url, caplog
):
    mine = invoice_of(portal_access)
    theirs = open_invoice(CustomerFactory(organization=portal_access.organization))

    response = portal_client.post(
        pay_url, {f"pay_{mine.pk}": "on", f"pay_{theirs.pk}": "on", "provider": "test"}
    )

    assert response.status_code == 422
    assert "not one you can pay" in response.content.decode()
    assert not Checkout.objects.exists()
    assert "refused" in caplog.text


@pytest.mark.parametrize(
    ("amount", "message"),
    [("150.00", "is more than the"), ("5.00", "Pay at least"), ("0", "more than zero")],
)
def test_amounts_out_of_bounds_are_shown_on_the_form_and_kept(
    portal_client, portal_access, gateway, pay_url, amount, message
):
    invoice = invoice_of(portal_access, total="100.00")

    response = portal_client.post(
        pay_url, {f"pay_{invoice.pk}": "on", f"amount_{invoice.pk}": amount, "provider": "test"}
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert message in html
    assert f'value="{amount}"' in html  # what was typed is kept
    assert not Checkout.objects.exists()


def test_nothing_ticked_is_refused(portal_client, portal_access, gateway, pay_url):
    invoice_of(portal_access)

    response = portal_client.post(pay_url, {"provider": "test"})

    assert response.status_code == 422
    assert "Tick at least one invoice" in response.content.decode()


def test_an_invoice_with_a_payment_in_progress_cannot_be_ticked(
    portal_client, portal_access, gateway, pay_url
):
    invoice = invoice_of(portal_access)
    checkout_prepare(access=portal_access, provider="test", selections=[(invoice.pk, None)])

    page = portal_client.get(f"{pay_url}?invoice={invoice.pk}")
    response = portal_client.post(pay_url, {f"pay_{invoice.pk}": "on", "provider": "test"})

    html = page.content.decode()
    assert "Payment in progress" in html
    assert f'name="pay_{invoice.pk}"' in html and "disabled" in html
    assert response.status_code == 422
    assert "already in progress" in response.content.decode()
    assert Checkout.objects.count() == 1


def test_without_a_gateway_the_page_shows_the_instructions_and_no_form(
    portal_client, portal_access, no_gateway, pay_url
):
    invoice = invoice_of(portal_access)

    get = portal_client.get(pay_url)
    post = portal_client.post(pay_url, {f"pay_{invoice.pk}": "on", "provider": "test"})

    assert INSTRUCTIONS in get.content.decode()
    assert 'id="pay-form"' not in get.content.decode()
    assert post.status_code == 200 and not Checkout.objects.exists()


def test_contacts_without_the_invoices_module_get_a_404(
    portal_client, portal_access, gateway, pay_url
):
    portal_access.modules = ["quotes"]
    portal_access.save()

    assert portal_client.get(pay_url).status_code == 404


# --- Pay now buttons and instructions elsewhere in the portal ------------------------------


def test_pay_now_on_the_invoice_list_page_and_home(
    portal_client, portal_access, portal_reverse, gateway, pay_url
):
    organization = portal_access.organization
    unpaid = invoice_of(portal_access)
    paid = invoice_of(portal_access, status=InvoiceStatus.PAID)

    listing = portal_client.get(portal_reverse(organization, "portal:invoice_list"))
    detail = portal_client.get(portal_reverse(organization, "portal:invoice_detail", pk=unpaid.pk))
    paid_detail = portal_client.get(
        portal_reverse(organization, "portal:invoice_detail", pk=paid.pk)
    )
    home = portal_client.get(portal_reverse(organization, "portal:home"))

    assert listing.content.decode().count(f"{pay_url}?invoice=") == 1
    assert f"{pay_url}?invoice={unpaid.pk}" in listing.content.decode()
    assert f"{pay_url}?invoice={unpaid.pk}" in detail.content.decode()
    assert pay_url not in paid_detail.content.decode()
    assert f"{pay_url}?all=1" in home.content.decode()


def test_without_a_gateway_invoices_show_how_to_pay_instead(
    portal_client, portal_access, portal_reverse, no_gateway, pay_url
):
    organization = portal_access.organization
    unpaid = invoice_of(portal_access)

    detail = portal_client.get(portal_reverse(organization, "portal:invoice_detail", pk=unpaid.pk))
    home = portal_client.get(portal_reverse(organization, "portal:home"))

    assert INSTRUCTIONS in detail.content.decode()
    assert "How to pay" in detail.content.decode()
    assert pay_url not in detail.content.decode() and pay_url not in home.content.decode()
