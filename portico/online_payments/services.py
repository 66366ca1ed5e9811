"""Online payment of invoices: settings, checkouts, confirmation, the test gateway.

A contact's **Pay now** becomes a ``Checkout`` (``checkout_prepare``): the
invoices and amounts, checked against the locked invoices, with the total in
integer minor units for the provider. While it is pending and unexpired its
invoices are locked against another Pay now (when the organisation prevents
duplicate payments). The provider's confirmation — Stripe's webhook or return
page (``portico.online_payments.stripe_gateway``), or the built-in test
gateway (``test_gateway_charge``) — calls ``checkout_confirm``, which records
exactly one ``payments.Payment`` however often and however concurrently it is
called: the checkout row is locked, a confirmed checkout returns its payment,
and the payment's (provider, provider reference) is unique in the database.

Money a provider took is always recorded, even after the checkout expired or
another payment paid the invoices meanwhile: each invoice gets at most its
current balance, the rest is the customer's credit.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.activity.models import EventKind
from portico.activity.services import activity_record
from portico.core.errors import PorticoError
from portico.core.money import format_money, quantize_money
from portico.mail.services import email_queue
from portico.online_payments.models import (
    Checkout,
    CheckoutInvoice,
    CheckoutStatus,
    OnlinePaymentSettings,
    Provider,
)
from portico.online_payments.money_units import (
    MinorUnitsError,
    currency_exponent,
    to_minor_units,
)
from portico.online_payments.secrets import secret_decrypt, secret_encrypt
from portico.payments.models import Payment, PaymentMode
from portico.payments.services import PaymentError, payment_record
from portico.portal.access import portal_modules_of
from portico.portal.selectors import portal_documents
from portico.portal_access.models import PortalAccess, PortalModule
from portico.sales.history import history_record
from portico.sales.models import OPEN_INVOICE_STATUSES, Invoice
from portico.sales.services.balances import invoice_lock

logger = logging.getLogger(__name__)


class OnlinePaymentError(PorticoError):
    """An online payment that cannot be set up, started or confirmed; the message says why."""


class DuplicatePaymentError(OnlinePaymentError):
    """A Pay now for an invoice that already has a payment in progress."""


# --- Settings → Online payments -----------------------------------------------------

PUBLISHABLE_KEY_PATTERN = re.compile(r"^pk_(test|live)_[A-Za-z0-9]+$")
SECRET_KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]+$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^whsec_[A-Za-z0-9+/=]+$")
PAYMENT_INSTRUCTIONS_MAX_LENGTH = 2000
MINIMUM_PARTIAL_AMOUNT_MAX = Decimal("1000000")


def online_payment_settings_get(*, organization: Organization) -> OnlinePaymentSettings:
    """The organisation's settings; unsaved defaults when it never saved any."""
    row = OnlinePaymentSettings.objects.filter(organization=organization).first()
    return row or OnlinePaymentSettings(organization=organization)


def _key_mode(key: str) -> str:
    match = re.match(r"^(?:pk|sk|rk)_(test|live)_", key or "")
    return match.group(1) if match else ""


def stripe_mode(settings_row: OnlinePaymentSettings) -> str:
    """ "test" or "live" (from the keys' prefix), "" when no key is set."""
    mode = _key_mode(settings_row.stripe_publishable_key)
    if mode:
        return mode
    if settings_row.stripe_secret_key_encrypted:
        try:
            return _key_mode(secret_decrypt(settings_row.stripe_secret_key_encrypted))
        except Exception:  # an undecryptable key: no mode to show
            return ""
    return ""


def stripe_secret_key(settings_row: OnlinePaymentSettings) -> str:
    """The plain Stripe secret key (for calls to Stripe; never shown)."""
    return secret_decrypt(settings_row.stripe_secret_key_encrypted)


def stripe_webhook_secret(settings_row: OnlinePaymentSettings) -> str:
    """The plain webhook signing secret (to verify Stripe's signatures)."""
    return secret_decrypt(settings_row.stripe_webhook_secret_encrypted)


def _clean_new_secret(value: str | None, *, pattern: re.Pattern, field: str, message: str):
    """None for "keep what is stored" (None or blank), else the checked value."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not pattern.match(value):
        raise OnlinePaymentError(message, field=field)
    return value


def online_payment_settings_update(
    *,
    organization: Organization,
    stripe_enabled: bool,
    stripe_publishable_key: str,
    stripe_secret_key: str | None,
    stripe_webhook_secret: str | None,
    test_gateway_enabled: bool,
    payment_instructions: str,
    prevent_duplicate_payments: bool,
    minimum_partial_amount: Decimal,
) -> OnlinePaymentSettings:
    """Save Settings → Online payments.

    ``stripe_secret_key`` / ``stripe_webhook_secret``: None or blank keeps the
    stored secret (the form never shows it again), a value replaces it. The
    publishable and secret keys must be of the same mode (test or live).
    Stripe can be enabled only with all three keys; the test gateway only
    where ``settings.PORTICO_TEST_GATEWAY_ALLOWED`` (not in production unless
    PORTICO_ALLOW_TEST_GATEWAY=true).
    """
    publishable_key = (stripe_publishable_key or "").strip()
    if publishable_key and not PUBLISHABLE_KEY_PATTERN.match(publishable_key):
        raise OnlinePaymentError(
            _("A publishable key starts with pk_test_ or pk_live_."),
            field="stripe_publishable_key",
        )
    new_secret_key = _clean_new_secret(
        stripe_secret_key,
        pattern=SECRET_KEY_PATTERN,
        field="stripe_secret_key",
        message=_("A secret key starts with sk_test_, sk_live_, rk_test_ or rk_live_."),
    )
    new_webhook_secret = _clean_new_secret(
        stripe_webhook_secret,
        pattern=WEBHOOK_SECRET_PATTERN,
        field="stripe_webhook_secret",
        message=_("A webhook signing secret starts with whsec_."),
    )
    instructions = (payment_instructions or "").strip()
    if len(instructions) > PAYMENT_INSTRUCTIONS_MAX_LENGTH:
        raise OnlinePaymentError(
            _("Keep the payment instructions under %(count)s characters.")
            % {"count": PAYMENT_INSTRUCTIONS_MAX_LENGTH},
            field="payment_instructions",
        )
    try:
        minimum = Decimal(minimum_partial_amount)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise OnlinePaymentError(_("Enter an amount."), field="minimum_partial_amount") from error
    if not minimum.is_finite() or minimum < 0 or minimum >= MINIMUM_PARTIAL_AMOUNT_MAX:
        raise OnlinePaymentError(
            _("Enter an amount of zero or more."), field="minimum_partial_amount"
        )
    if minimum != minimum.quantize(Decimal("0.0001")):
        raise OnlinePaymentError(_("Use at most four decimals."), field="minimum_partial_amount")
    if test_gateway_enabled and not settings.PORTICO_TEST_GATEWAY_ALLOWED:
        raise OnlinePaymentError(
            _(
                "The test gateway takes no real money, so it cannot be turned on on this "
                "site. Connect Stripe to accept payments."
            ),
            field="test_gateway_enabled",
        )

    with transaction.atomic():
        row, _created = OnlinePaymentSettings.objects.select_for_update().get_or_create(
            organization=organization
        )
        secret_key = new_secret_key or stripe_secret_key_of(row)
        publishable_mode = _key_mode(publishable_key)
        secret_mode = _key_mode(secret_key)
        if publishable_mode and secret_mode and publishable_mode != secret_mode:
            raise OnlinePaymentError(
                _(
                    "The publishable key is a %(publishable)s key but the secret key is a "
                    "%(secret)s key: use both keys of the same mode."
                )
                % {
                    "publishable": _mode_label(publishable_mode),
                    "secret": _mode_label(secret_mode),
                },
                field="stripe_secret_key" if new_secret_key else "stripe_publishable_key",
            )
        has_webhook_secret = bool(new_webhook_secret or row.stripe_webhook_secret_encrypted)
        if stripe_enabled:
            missing = [
                (field, label)
                for field, label, present in (
                    ("stripe_publishable_key", _("publishable key"), bool(publishable_key)),
                    ("stripe_secret_key", _("secret key"), bool(secret_key)),
                    ("stripe_webhook_secret", _("webhook signing secret"), has_webhook_secret),
                )
                if not present
            ]
            if missing:
                raise OnlinePaymentError(
                    _("Enter the Stripe %(key)s to accept card payments with Stripe.")
                    % {"key": missing[0][1]},
                    field=missing[0][0],
                )
        row.stripe_enabled = bool(stripe_enabled)
        row.stripe_publishable_key = publishable_key
        if new_secret_key:
            row.stripe_secret_key_encrypted = secret_encrypt(new_secret_key)
        if new_webhook_secret:
            row.stripe_webhook_secret_encrypted = secret_encrypt(new_webhook_secret)
        row.test_gateway_enabled = bool(test_gateway_enabled)
        row.payment_instructions = instructions
        row.prevent_duplicate_payments = bool(prevent_duplicate_payments)
        row.minimum_partial_amount = minimum
        row.save()
    return row


def stripe_secret_key_of(row: OnlinePaymentSettings) -> str:
    """The stored secret key, or "" when none is stored or it no longer decrypts."""
    try:
        return stripe_secret_key(row)
    except Exception:
        logger.warning("Stripe secret key of organisation %s does not decrypt", row.organization_id)
        return ""


def _mode_label(mode: str) -> str:
    return _("live") if mode == "live" else _("test")


def _stripe_ready(row: OnlinePaymentSettings) -> bool:
    return bool(
        row.stripe_enabled
        and row.stripe_publishable_key
        and row.stripe_secret_key_encrypted
        and row.stripe_webhook_secret_encrypted
    )


def _test_gateway_ready(row: OnlinePaymentSettings) -> bool:
    return bool(row.test_gateway_enabled and settings.PORTICO_TEST_GATEWAY_ALLOWED)


def providers_available(*, organization: Organization) -> list[str]:
    """The providers a contact can pay with now (``Provider`` values; Stripe first)."""
    row = online_payment_settings_get(organization=organization)
    available = []
    if _stripe_ready(row):
        available.append(Provider.STRIPE.value)
    if _test_gateway_ready(row):
        available.append(Provider.TEST.value)
    return available


# --- Minimums -----------------------------------------------------------------------

# Stripe's smallest charge per currency (docs: "Minimum and maximum charge amounts").
STRIPE_MINIMUM_CHARGE: dict[str, Decimal] = {
    "USD": Decimal("0.50"), "AED": Decimal("2.00"), "AUD": Decimal("0.50"),
    "BGN": Decimal("1.00"), "BRL": Decimal("0.50"), "CAD": Decimal("0.50"),
    "CHF": Decimal("0.50"), "CZK": Decimal("15.00"), "DKK": Decimal("2.50"),
    "EUR": Decimal("0.50"), "GBP": Decimal("0.30"), "HKD": Decimal("4.00"),
    "HUF": Decimal("175.00"), "INR": Decimal("0.50"), "JPY": Decimal("50"),
    "MXN": Decimal("10"), "MYR": Decimal("2"), "NOK": Decimal("3.00"),
    "NZD": Decimal("0.50"), "PLN": Decimal("2.00"), "RON": Decimal("2.00"),
    "SEK": Decimal("3.00"), "SGD": Decimal("0.50"), "THB": Decimal("10"),
}  # fmt: skip


def provider_minimum(*, provider: str, currency: str) -> Decimal:
    """The smallest amount ``provider`` charges in ``currency`` (one minor unit if none)."""
    smallest = Decimal(1).scaleb(-currency_exponent(currency))
    if provider == Provider.STRIPE:
        return STRIPE_MINIMUM_CHARGE.get(currency.upper(), smallest)
    return smallest


def invoice_payment_minimum(
    *, invoice: Invoice, settings_row: OnlinePaymentSettings, providers: list[str]
) -> Decimal:
    """The least a contact may pay on ``invoice`` now: the organisation's smallest
    partial payment or the provider's minimum, whichever is larger — but never
    more than the balance (which can always be paid in full). Without partial
    payments it is the balance."""
    balance = invoice.balance_due
    if not invoice.allow_partial_payments:
        return balance
    floor = max(
        [settings_row.minimum_partial_amount]
        + [provider_minimum(provider=p, currency=invoice.currency) for p in providers]
    )
    return min(balance, floor)


# --- What a contact can pay ---------------------------------------------------------


def _invoices_module_shown(access: PortalAccess) -> bool:
    return PortalModule.INVOICES in portal_modules_of(access)


def _pending_lines(*, invoice_ids, now: datetime):
    """Checkout lines of ``invoice_ids`` whose checkout is pending and unexpired."""
    return CheckoutInvoice.objects.filter(
        invoice_id__in=invoice_ids,
        checkout__status=CheckoutStatus.PENDING,
        checkout__expires_at__gt=now,
    )


def payable_invoices(*, access: PortalAccess, include_locked: bool = False) -> list[Invoice]:
    """The contact's customer's open invoices with something to pay, oldest first.

    An invoice with a payment in progress (a pending, unexpired checkout, when
    the organisation prevents duplicate payments) is left out — or, with
    ``include_locked=True``, returned with ``payment_in_progress = True`` so the page
    can say why it cannot be paid now. Every invoice returned carries
    ``payment_in_progress`` and ``payment_minimum`` (see ``invoice_payment_minimum``).
    An empty list when the contact may not see invoices.
    """
    if not _invoices_module_shown(access):
        return []
    invoices = list(
        portal_documents(access=access, model=Invoice)
        .filter(status__in=OPEN_INVOICE_STATUSES, balance_due__gt=0)
        .order_by("date", "id")
    )
    row = online_payment_settings_get(organization=access.organization)
    providers = providers_available(organization=access.organization)
    locked: set[int] = set()
    if invoices and row.prevent_duplicate_payments:
        locked = set(
            _pending_lines(
                invoice_ids=[invoice.pk for invoice in invoices], now=timezone.now()
            ).values_list("invoice_id", flat=True)
        )
    result = []
    for invoice in invoices:
        invoice.payment_in_progress = invoice.pk in locked
        if invoice.payment_in_progress and not include_locked:
            continue
        invoice.payment_minimum = invoice_payment_minimum(
            invoice=invoice, settings_row=row, providers=providers
        )
        result.append(invoice)
    return result


# --- Pay now: prepare a checkout ----------------------------------------------------


def _refuse(access: PortalAccess, reason: str, **details) -> None:
    logger.warning(
        "Pay now refused (%s): organisation %s, customer %s, contact %s, %s",
        reason,
        access.organization_id,
        access.customer_id,
        access.contact_id,
        details,
    )


def _not_payable_message(invoice: Invoice) -> str:
    return _("%(invoice)s is %(status)s: it cannot be paid.") % {
        "invoice": invoice.number,
        "status": invoice.get_status_display().lower(),
    }


def _parse_selections(access: PortalAccess, selections) -> list[tuple[int, Decimal | None]]:
    parsed: list[tuple[int, Decimal | None]] = []
    seen: set[int] = set()
    for invoice_id, raw_amount in selections:
        try:
            pk = int(invoice_id)
        except (TypeError, ValueError) as error:
            _refuse(access, "invoice id", invoice_id=invoice_id)
            raise OnlinePaymentError(
                _("An invoice chosen is not one you can pay."), field="invoices"
            ) from error
        if pk in seen:
            _refuse(access, "invoice twice", invoice_id=pk)
            raise OnlinePaymentError(
                _("An invoice was chosen twice. Choose each invoice once."), field="invoices"
            )
        seen.add(pk)
        amount = None
        if raw_amount is not None and raw_amount != "":
            try:
                amount = (
                    Decimal(str(raw_amount).strip())
                    if isinstance(raw_amount, str)
                    else (Decimal(raw_amount))
                )
            except (InvalidOperation, TypeError, ValueError) as error:
                raise OnlinePaymentError(_("Enter an amount."), field="amount") from error
            if not amount.is_finite():
                raise OnlinePaymentError(_("Enter an amount."), field="amount")
        parsed.append((pk, amount))
    return parsed


def checkout_prepare(
    *, access: PortalAccess, provider: str, selections: list[tuple[int, Decimal | None]]
) -> Checkout:
    """A pending checkout for the chosen invoices and amounts (None: the whole balance).

    Every invoice must be one the contact can see (same organisation and
    customer, invoices module shown), open with a balance, in one currency;
    each amount more than zero, at most the balance, at least the minimum,
    and the whole balance for an invoice without partial payments. With
    duplicate prevention on, an invoice with a payment in progress is refused
    (``DuplicatePaymentError``). The invoices are locked while this runs, so
    two Pay nows for one invoice cannot both pass.
    """
    organization = access.organization
    if not _invoices_module_shown(access):
        _refuse(access, "invoices module hidden")
        raise OnlinePaymentError(_("Invoices cannot be paid here."), field="invoices")
    if provider not in providers_available(organization=organization):
        if provider not in Provider.values:
            _refuse(access, "unknown provider", provider=provider)
        raise OnlinePaymentError(
            _("This way of paying is not available. Choose another."), field="provider"
        )
    parsed = _parse_selections(access, selections)
    if not parsed:
        raise OnlinePaymentError(_("Choose at least one invoice to pay."), field="invoices")
    row = online_payment_settings_get(organization=organization)
    now = timezone.now()

    with transaction.atomic():
        ids = sorted(pk for pk, _amount in parsed)
        # Locked in id order, like every service that applies money to invoices.
        invoices = {
            invoice.pk: invoice
            for invoice in portal_documents(access=access, model=Invoice)
            .select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        missing = [pk for pk in ids if pk not in invoices]
        if missing:
            _refuse(access, "invoice not visible", invoice_ids=missing)
            raise OnlinePaymentError(
                _("An invoice chosen is not one you can pay."), field="invoices"
            )
        currencies = {invoice.currency for invoice in invoices.values()}
        if len(currencies) > 1:
            raise OnlinePaymentError(
                _("Invoices in different currencies are paid separately: choose one currency."),
                field="invoices",
            )
        currency = currencies.pop()
        lines: list[tuple[Invoice, Decimal]] = []
        for pk, requested in parsed:
            invoice = invoices[pk]
            lines.append((invoice, _checked_amount(access, invoice, requested, row, provider)))
        if row.prevent_duplicate_payments:
            busy = (
                _pending_lines(invoice_ids=ids, now=now)
                .select_related("invoice", "checkout")
                .order_by("invoice__date", "invoice_id")
                .first()
            )
            if busy is not None:
                raise DuplicatePaymentError(
                    _(
                        "A payment for %(invoice)s is already in progress. Finish it, or try "
                        "again after %(time)s if it was abandoned."
                    )
                    % {
                        "invoice": busy.invoice.number,
                        "time": _local_time(busy.checkout.expires_at, organization),
                    },
                    field="invoices",
                )
        total = sum((amount for _invoice, amount in lines), Decimal(0))
        smallest = provider_minimum(provider=provider, currency=currency)
        if total < smallest:
            raise OnlinePaymentError(
                _("An online payment must be at least %(minimum)s.")
                % {"minimum": format_money(smallest, currency)},
                field="amount",
            )
        try:
            amount_minor = to_minor_units(total, currency)
        except MinorUnitsError as error:  # _checked_amount already refuses this
            raise OnlinePaymentError(_("Enter an amount."), field="amount") from error
        checkout = Checkout.objects.create(
            organization=organization,
            customer_id=access.customer_id,
            contact_id=access.contact_id,
            user_id=access.user_id,
            provider=provider,
            currency=currency,
            amount=total,
            amount_minor=amount_minor,
            expires_at=now + timedelta(minutes=settings.CHECKOUT_LOCK_MINUTES),
        )
        lines.sort(key=lambda line: (line[0].date, line[0].pk))
        CheckoutInvoice.objects.bulk_create(
            [
                CheckoutInvoice(
                    organization=organization, checkout=checkout, invoice=invoice, amount=amount
                )
                for invoice, amount in lines
            ]
        )
        _schedule_expiry(checkout)
    return checkout


def _checked_amount(
    access: PortalAccess,
    invoice: Invoice,
    requested: Decimal | None,
    row: OnlinePaymentSettings,
    provider: str,
) -> Decimal:
    currency = invoice.currency
    if invoice.status not in OPEN_INVOICE_STATUSES or invoice.balance_due <= 0:
        _refuse(access, "invoice not open", invoice=invoice.number, status=invoice.status)
        raise OnlinePaymentError(_not_payable_message(invoice), field="invoices")
    balance = invoice.balance_due
    amount = balance if requested is None else requested
    try:
        to_minor_units(amount, currency)
    except MinorUnitsError as error:
        raise OnlinePaymentError(
            _("%(amount)s has more decimals than %(currency)s allows.")
            % {"amount": format(amount.normalize(), "f"), "currency": currency},
            field="amount",
        ) from error
    if amount <= 0:
        raise OnlinePaymentError(
            _("Enter an amount of more than zero for %(invoice)s.") % {"invoice": invoice.number},
            field="amount",
        )
    if amount > balance:
        _refuse(access, "above balance", invoice=invoice.number, amount=str(amount))
        raise OnlinePaymentError(
            _("%(amount)s is more than the %(balance)s due on %(invoice)s.")
            % {
                "amount": format_money(amount, currency),
                "balance": format_money(balance, currency),
                "invoice": invoice.number,
            },
            field="amount",
        )
    if not invoice.allow_partial_payments and amount != balance:
        raise OnlinePaymentError(
            _("%(invoice)s must be paid in full: %(balance)s.")
            % {"invoice": invoice.number, "balance": format_money(balance, currency)},
            field="amount",
        )
    minimum = invoice_payment_minimum(invoice=invoice, settings_row=row, providers=[provider])
    if amount < minimum:
        raise OnlinePaymentError(
            _("Pay at least %(minimum)s on %(invoice)s.")
            % {"minimum": format_money(minimum, currency), "invoice": invoice.number},
            field="amount",
        )
    return amount


def _local_time(moment: datetime, organization: Organization) -> str:
    from django.utils.formats import time_format

    return time_format(timezone.localtime(moment, _zone(organization)), "TIME_FORMAT")


def _zone(organization: Organization):
    try:
        return ZoneInfo(organization.time_zone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _local_date(organization: Organization) -> date_type:
    return timezone.localtime(timezone.now(), _zone(organization)).date()


def _schedule_expiry(checkout: Checkout) -> None:
    """Expire the checkout (releasing its lock) with the worker, after commit."""
    from portico.online_payments.tasks import expire_checkouts

    expires_at = checkout.expires_at
    transaction.on_commit(
        lambda: expire_checkouts.using(run_after=expires_at + timedelta(seconds=1)).enqueue()
    )


# --- Confirmation -------------------------------------------------------------------


def checkout_confirm(
    *,
    checkout_id: int,
    provider_reference: str,
    amount_minor: int,
    currency: str,
    provider_payment_id: str = "",
) -> Payment:
    """Record the payment the provider confirmed for a checkout — exactly once.

    Idempotent and race-safe: the checkout row is locked; a checkout already
    confirmed returns its payment; the amount and currency must be the
    checkout's (else nothing is recorded, the refusal is logged). Each of the
    checkout's invoices, oldest first, gets its amount capped at its balance
    NOW (another payment may have landed meanwhile); the rest is customer
    credit. Works on a failed or expired checkout too: money taken is recorded.
    Queues a receipt to the contact; each invoice paid is an activity event
    (staff are notified).
    """
    provider_reference = (provider_reference or "").strip()
    if not provider_reference:
        raise OnlinePaymentError(_("The payment has no provider reference."))
    with transaction.atomic():
        try:
            checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        except Checkout.DoesNotExist as error:
            logger.warning("Confirmation of unknown checkout %s refused", checkout_id)
            raise OnlinePaymentError(_("This payment is not known.")) from error
        if checkout.status == CheckoutStatus.SUCCEEDED and checkout.payment_id:
            return checkout.payment
        if (
            isinstance(amount_minor, bool)
            or not isinstance(amount_minor, int)
            or amount_minor != checkout.amount_minor
            or (currency or "").upper() != checkout.currency.upper()
        ):
            logger.warning(
                "Confirmation of checkout %s refused: %r %s confirmed, %s %s expected "
                "(provider reference %s)",
                checkout.pk,
                amount_minor,
                currency,
                checkout.amount_minor,
                checkout.currency,
                provider_reference,
            )
            raise OnlinePaymentError(
                _("The amount confirmed does not match the payment: nothing was recorded.")
            )
        existing = Payment.objects.filter(
            organization_id=checkout.organization_id,
            provider=checkout.provider,
            provider_reference=provider_reference,
        ).first()
        if existing is not None:
            payment, created = existing, False
        else:
            payment, created = _record_payment(checkout, provider_reference)
        linked_to = Checkout.objects.filter(payment=payment).exclude(pk=checkout.pk).first()
        if linked_to is not None:
            # The provider confirmed this reference for another checkout already.
            logger.warning(
                "Checkout %s confirmed with provider reference %s of checkout %s's payment",
                checkout.pk,
                provider_reference,
                linked_to.pk,
            )
            return payment
        checkout.status = CheckoutStatus.SUCCEEDED
        checkout.payment = payment
        checkout.completed_at = timezone.now()
        checkout.failure_message = ""
        if provider_payment_id:
            checkout.provider_payment_id = provider_payment_id
        checkout.save(
            update_fields=[
                "status",
                "payment",
                "completed_at",
                "failure_message",
                "provider_payment_id",
                "updated_at",
            ]
        )
        if created:
            _notify(checkout, payment)
    return payment


def _record_payment(checkout: Checkout, provider_reference: str) -> tuple[Payment, bool]:
    organization = checkout.organization
    lines = list(checkout.lines.select_related("invoice").order_by("invoice__date", "invoice_id"))
    # Lock in id order (as payment_record does), then read each balance now.
    locked = {
        line.invoice_id: invoice_lock(organization=organization, invoice_id=line.invoice_id)
        for line in sorted(lines, key=lambda line: line.invoice_id)
    }
    allocations = []
    for line in lines:  # oldest first
        invoice = locked[line.invoice_id]
        if invoice.status not in OPEN_INVOICE_STATUSES or invoice.balance_due <= 0:
            continue
        amount = min(line.amount, invoice.balance_due)
        if not invoice.allow_partial_payments and amount != invoice.balance_due:
            continue  # its balance grew: it cannot take part of it; credit instead
        allocations.append((invoice.pk, amount))
    contact_name = checkout.contact.full_name if checkout.contact else ""
    try:
        with transaction.atomic():
            payment = payment_record(
                organization=organization,
                customer_id=checkout.customer_id,
                amount=checkout.amount,
                date=_local_date(organization),
                mode=PaymentMode.ONLINE,
                reference=provider_reference[:100],
                notes=_("Paid online in the customer portal (%(provider)s).")
                % {"provider": Provider(checkout.provider).label},
                allocations=allocations,
                keep_excess_as_credit=True,
                actor=checkout.user,
                provider=checkout.provider,
                provider_reference=provider_reference,
            )
    except IntegrityError:
        existing = Payment.objects.filter(
            organization=organization,
            provider=checkout.provider,
            provider_reference=provider_reference,
        ).first()
        if existing is None:
            raise
        return existing, False
    except PaymentError as error:
        logger.error(
            "Checkout %s: the payment %s could not be recorded: %s",
            checkout.pk,
            provider_reference,
            error.message,
        )
        raise OnlinePaymentError(error.message) from error
    history_record(
        document=payment,
        kind="paid_online",
        actor=checkout.user,
        name=contact_name,
        provider=str(Provider(checkout.provider).label),
        reference=provider_reference,
    )
    return payment, True


# --- Receipt and staff notice -------------------------------------------------------


@dataclass
class ReceiptLine:
    invoice: Invoice
    amount: Decimal


def _receipt_lines(payment: Payment) -> list[ReceiptLine]:
    return [
        ReceiptLine(invoice=allocation.invoice, amount=allocation.amount)
        for allocation in payment.allocations.select_related("invoice").order_by(
            "invoice__date", "invoice_id"
        )
    ]


def _notify(checkout: Checkout, payment: Payment) -> None:
    lines = _receipt_lines(payment)
    _send_receipt(checkout, payment, lines)
    _record_invoices_paid(checkout, payment, lines)


def _send_receipt(checkout: Checkout, payment: Payment, lines: list[ReceiptLine]) -> None:
    """E-mail the receipt to the contact who paid, in their portal language."""
    organization = checkout.organization
    access = (
        PortalAccess.objects.filter(organization=organization, contact_id=checkout.contact_id)
        .select_related("contact", "customer", "user", "organization")
        .first()
    )
    if access is None:
        return
    to_email = access.contact.email or (access.user.email if access.user else "")
    if not to_email:
        return
    portal_name = organization.portal_name
    if PortalModule.PAYMENTS in portal_modules_of(access):
        path = reverse(
            "portal:payment_detail", kwargs={"portal_name": portal_name, "pk": payment.pk}
        )
    else:
        path = reverse("portal:home", kwargs={"portal_name": portal_name})
    email_queue(
        organization=organization,
        kind="online_payments.receipt",
        to_email=to_email,
        to_name=access.contact.full_name,
        template="online_payments/email/receipt",
        context={
            "payment": payment,
            "contact": access.contact,
            "customer": access.customer,
            "lines": lines,
            "provider_label": Provider(checkout.provider).label,
            "payment_url": f"{settings.SITE_URL}{path}",
        },
        language=access.effective_language,
    )


def _record_invoices_paid(checkout: Checkout, payment: Payment, lines: list[ReceiptLine]) -> None:
    """One activity event per invoice the payment went to (staff hear about
    each through their notifications): what was paid on it and whether that
    settled it. Money kept as credit names no invoice and is no event."""
    for line in lines:
        activity_record(
            organization=checkout.organization,
            kind=EventKind.INVOICE_PAID,
            customer=payment.customer,
            contact=checkout.contact,
            actor=checkout.user,
            document=line.invoice,
            data={
                "amount": format_money(line.amount, payment.currency, settings.LANGUAGE_CODE),
                # Shown in each reader's locale (the summary formats these).
                "amount_value": str(quantize_money(line.amount, payment.currency)),
                "currency": payment.currency,
                "paid_in_full": line.invoice.balance_due <= 0,
                "payment_id": payment.pk,
            },
        )


# --- Failure and expiry -------------------------------------------------------------


def checkout_fail(*, checkout_id: int, message: str) -> Checkout:
    """Mark a pending checkout failed (the provider refused or the contact cancelled):
    its invoices can be paid again at once. A confirmed checkout stays confirmed."""
    with transaction.atomic():
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        if checkout.status == CheckoutStatus.PENDING:
            checkout.status = CheckoutStatus.FAILED
            checkout.failure_message = (message or "")[:500]
            checkout.completed_at = timezone.now()
            checkout.save(update_fields=["status", "failure_message", "completed_at", "updated_at"])
    return checkout


def checkout_expire_due(*, now: datetime | None = None) -> int:
    """Expire pending checkouts past their time; how many. A provider confirming
    one later still records its payment (``checkout_confirm``)."""
    now = now or timezone.now()
    return Checkout.objects.filter(status=CheckoutStatus.PENDING, expires_at__lte=now).update(
        status=CheckoutStatus.EXPIRED, updated_at=now
    )


def checkout_is_open(checkout: Checkout, *, now: datetime | None = None) -> bool:
    """Pending and not past its expiry: the contact can still pay it."""
    now = now or timezone.now()
    return checkout.status == CheckoutStatus.PENDING and checkout.expires_at > now


# --- Test gateway -------------------------------------------------------------------

TEST_CARD_SUCCEEDS = "4242424242424242"
TEST_CARD_DECLINED = "4000000000000002"
TEST_CARD_INSUFFICIENT_FUNDS = "4000000000009995"


def test_cards() -> list[tuple[str, str]]:
    """The documented test numbers and what each does (for the card page)."""
    return [
        ("4242 4242 4242 4242", _("Payment succeeds")),
        ("4000 0000 0000 0002", _("Card declined")),
        ("4000 0000 0000 9995", _("Insufficient funds")),
    ]


test_cards.__test__ = False  # not a pytest test despite its name


def _check_card_details(card_number: str, expiry_month, expiry_year, cvc: str) -> str:
    number = re.sub(r"[\s-]", "", card_number or "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise OnlinePaymentError(_("Enter the card number."), field="card_number")
    try:
        month, year = int(expiry_month), int(expiry_year)
    except (TypeError, ValueError) as error:
        raise OnlinePaymentError(_("Enter the expiry date as MM / YY."), field="expiry") from error
    if year < 100:
        year += 2000
    today = timezone.localdate()
    if not 1 <= month <= 12:
        raise OnlinePaymentError(_("Enter the expiry date as MM / YY."), field="expiry")
    if (year, month) < (today.year, today.month):
        raise OnlinePaymentError(_("This card has expired."), field="expiry")
    if not re.fullmatch(r"\d{3,4}", (cvc or "").strip()):
        raise OnlinePaymentError(_("Enter the 3 or 4 digit security code."), field="cvc")
    return number


def test_gateway_charge(
    *,
    access: PortalAccess,
    checkout_id: int,
    card_number: str,
    expiry_month,
    expiry_year,
    cvc: str,
) -> Payment:
    """Charge a test-gateway checkout with a test card (no real money moves).

    4242 4242 4242 4242 succeeds (``checkout_confirm`` records the payment),
    4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient
    funds; any other number is refused. A decline leaves the checkout pending
    (another number may be tried until it expires). Paying a checkout that is
    already paid returns its payment (a double submit pays once).
    """
    number = _check_card_details(card_number, expiry_month, expiry_year, cvc)
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update()
            .filter(
                organization_id=access.organization_id,
                customer_id=access.customer_id,
                contact_id=access.contact_id,
                provider=Provider.TEST,
                pk=checkout_id,
            )
            .first()
        )
        if checkout is None:
            _refuse(access, "test charge of another checkout", checkout_id=checkout_id)
            raise OnlinePaymentError(_("This payment is not known."))
        if checkout.status == CheckoutStatus.SUCCEEDED and checkout.payment_id:
            return checkout.payment
        if not checkout_is_open(checkout):
            raise OnlinePaymentError(_("This payment has expired. Start again from Pay now."))
        row = online_payment_settings_get(organization=access.organization)
        if not _test_gateway_ready(row):
            raise OnlinePaymentError(_("The test gateway is turned off."))
        if number == TEST_CARD_SUCCEEDS:
            reference = "test_" + secrets.token_hex(12)
            return checkout_confirm(
                checkout_id=checkout.pk,
                provider_reference=reference,
                amount_minor=checkout.amount_minor,
                currency=checkout.currency,
                provider_payment_id=reference,
            )
        if number == TEST_CARD_DECLINED:
            message = _("Your card was declined.")
        elif number == TEST_CARD_INSUFFICIENT_FUNDS:
            message = _("Your card has insufficient funds.")
        else:
            raise OnlinePaymentError(
                _("Use one of the test card numbers shown."), field="card_number"
            )
        # Kept for staff (the checkout stays pending: another number may be tried).
        checkout.failure_message = (
            "Card declined" if number == TEST_CARD_DECLINED else "Insufficient funds"
        )
        checkout.save(update_fields=["failure_message", "updated_at"])
    # Outside the atomic block, so the failure note is kept.
    raise OnlinePaymentError(message)


test_gateway_charge.__test__ = False
