"""The portal's Pay page: choose invoices and amounts, then pay at the provider.

GET lists the contact's payable invoices (``payable_invoices``) with a box
each (``?invoice=<id>`` ticks one, ``?all=1`` from Home ticks them all) and,
for invoices that allow it, an amount (the balance by default). POST hands the
choice to ``checkout_prepare``, which checks everything again (tampered ids or
amounts are refused there), then sends the contact to the provider: the
built-in test gateway's card page, or Stripe Checkout. With no provider on,
the page shows the organisation's payment instructions and no form.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_precision
from django.shortcuts import redirect, render
from django.urls import reverse

from portico.core.errors import PorticoError
from portico.core.money import quantize_money
from portico.online_payments.forms import PayForm
from portico.online_payments.models import Provider
from portico.online_payments.services import (
    checkout_fail,
    checkout_prepare,
    online_payment_settings_get,
    payable_invoices,
    providers_available,
)
from portico.portal.access import portal_view
from portico.portal_access.models import PortalModule
from portico.sales.models import Invoice

logger = logging.getLogger(__name__)


@dataclass
class PayRow:
    """One invoice on the Pay page."""

    invoice: Invoice
    box: object  # the form's pay_<id> field
    amount: object  # the form's amount_<id> field
    minimum: Decimal
    in_progress: bool  # a payment for it is pending: it cannot be ticked

    @property
    def digits(self) -> int:
        """Decimals of the invoice's currency (JPY 0), for the page's script."""
        return get_currency_precision(self.invoice.currency)

    @property
    def partial_allowed(self) -> bool:
        return self.invoice.allow_partial_payments and self.minimum < self.invoice.balance_due


def _initial_choice(request, invoices: list[Invoice]) -> set[int]:
    """The invoices ticked when the page opens."""
    payable = [invoice for invoice in invoices if not _in_progress(invoice)]
    if request.GET.get("all") == "1" and payable:
        # One payment is in one currency: the oldest invoice's.
        currency = payable[0].currency
        return {invoice.pk for invoice in payable if invoice.currency == currency}
    chosen = request.GET.get("invoice", "")
    ticked = {invoice.pk for invoice in payable if str(invoice.pk) == chosen}
    if not ticked and len(payable) == 1:
        ticked = {payable[0].pk}
    return ticked


def _in_progress(invoice: Invoice) -> bool:
    return invoice.payment_in_progress


def _rows(form: PayForm, invoices: list[Invoice]) -> list[PayRow]:
    return [
        PayRow(
            invoice=invoice,
            box=form[f"{PayForm.PAY_PREFIX}{invoice.pk}"],
            amount=form[f"{PayForm.AMOUNT_PREFIX}{invoice.pk}"],
            minimum=invoice.payment_minimum,
            in_progress=_in_progress(invoice),
        )
        for invoice in invoices
    ]


def _totals(rows: list[PayRow]) -> list[tuple[str, Decimal]]:
    """What the ticked rows add up to, per currency (shown before any script runs)."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if row.in_progress or not row.box.value():
            continue
        amount = row.invoice.balance_due
        if row.partial_allowed:
            try:
                amount = Decimal(str(row.amount.value()))
            except (ArithmeticError, ValueError):
                amount = Decimal(0)
            if not amount.is_finite():
                amount = Decimal(0)
        currency = row.invoice.currency
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return sorted(totals.items())


def _provider_redirect(request, checkout):
    portal_name = request.organization.portal_name
    if checkout.provider == Provider.TEST:
        return redirect("portal:test_gateway_card", portal_name=portal_name, pk=checkout.pk)
    from portico.online_payments.stripe_gateway import stripe_checkout_start

    kwargs = {"portal_name": portal_name, "pk": checkout.pk}
    url = stripe_checkout_start(
        checkout=checkout,
        success_url=request.build_absolute_uri(reverse("portal:checkout_status", kwargs=kwargs)),
        cancel_url=request.build_absolute_uri(reverse("portal:checkout_cancel", kwargs=kwargs)),
    )
    return redirect(url)


@portal_view(module=PortalModule.INVOICES)
def pay(request, portal_name: str):
    access = request.portal_access
    organization = request.organization
    row = online_payment_settings_get(organization=organization)
    providers = providers_available(organization=organization)
    context = {
        "instructions": row.payment_instructions.strip(),
        "providers": providers,
    }
    if not providers:
        return render(request, "portal/pay/pay.html", context)
    # With the invoices a payment is in progress for, shown but not payable.
    invoices = payable_invoices(access=access, include_locked=True)
    status = 200
    if request.method == "POST":
        form = PayForm(request.POST, invoices=invoices, providers=providers)
        if form.is_valid():
            try:
                checkout = checkout_prepare(
                    access=access,
                    provider=form.cleaned_data["provider"],
                    selections=form.selections(),
                )
            except PorticoError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            else:
                try:
                    return _provider_redirect(request, checkout)
                except PorticoError as error:
                    # The provider refused or is unreachable: the checkout must
                    # not keep the invoices locked against a new try.
                    logger.warning("pay: checkout %s not started: %s", checkout.pk, error)
                    checkout_fail(checkout_id=checkout.pk, message=error.message)
                    form.add_error(None, error.message)
        status = 422
    else:
        ticked = _initial_choice(request, invoices)
        initial = {}
        for invoice in invoices:
            initial[f"{PayForm.PAY_PREFIX}{invoice.pk}"] = invoice.pk in ticked
            initial[f"{PayForm.AMOUNT_PREFIX}{invoice.pk}"] = quantize_money(
                invoice.balance_due, invoice.currency
            )
        form = PayForm(initial=initial, invoices=invoices, providers=providers)
    rows = _rows(form, invoices)
    context.update(form=form, rows=rows, totals=_totals(rows))
    return render(request, "portal/pay/pay.html", context, status=status)
