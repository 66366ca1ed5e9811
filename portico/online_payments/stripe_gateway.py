"""Stripe: Checkout Sessions out, confirmations in (webhook and return page).

``stripe_checkout_start`` creates the Checkout Session of a prepared
``Checkout`` (one line item per invoice, amounts in integer minor units) and
returns the URL to send the contact to. The payment is confirmed by whichever
comes first of Stripe's webhook (``stripe_event_process``, called by
``portico.online_payments.webhooks``) and the return page asking Stripe
(``stripe_checkout_sync``); both end in ``checkout_confirm``, which records
one payment whatever the order and however many times it is called.

Every call builds its own ``stripe.StripeClient`` with the organisation's
secret key and ``settings.STRIPE_API_BASE``: no module globals, so two
organisations (and the tests' fake Stripe) never share a key or an address.

The idempotency key of a session is ``portico-checkout-<id>-<created>``: a
retried request (the SDK retries network errors and 5xx) returns the same
session; the creation time keeps keys unique when a database is reset
against the same Stripe account.
"""

import logging
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.online_payments.models import (
    Checkout,
    CheckoutStatus,
    OnlinePaymentSettings,
    Provider,
    WebhookEvent,
)
from portico.online_payments.money_units import to_minor_units
from portico.online_payments.secrets import SecretDecryptError
from portico.online_payments.services import (
    OnlinePaymentError,
    checkout_confirm,
    checkout_fail,
    online_payment_settings_get,
    stripe_secret_key,
    stripe_webhook_secret,
)
from portico.online_payments.tasks import expire_checkouts

logger = logging.getLogger(__name__)

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after
# its creation; a minute more absorbs the time the request takes.
STRIPE_MIN_SESSION_LIFETIME = timedelta(minutes=31)

# ``Checkout.failure_message`` of a checkout the contact cancelled.
FAILURE_CANCELLED = "cancelled"

# Events the webhook acts on; any other type is acknowledged and ignored.
EVENT_COMPLETED = "checkout.session.completed"
EVENT_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
EVENT_ASYNC_FAILED = "checkout.session.async_payment_failed"
EVENT_EXPIRED = "checkout.session.expired"
HANDLED_EVENTS = (EVENT_COMPLETED, EVENT_ASYNC_SUCCEEDED, EVENT_ASYNC_FAILED, EVENT_EXPIRED)


def _stripe_client(*, payment_settings: OnlinePaymentSettings) -> stripe.StripeClient:
    try:
        secret_key = stripe_secret_key(payment_settings)
    except SecretDecryptError as error:
        logger.error(
            "Stripe secret key of organization %s cannot be decrypted",
            payment_settings.organization_id,
        )
        raise OnlinePaymentError(
            _("Card payments are not available at the moment. Please try again later.")
        ) from error
    if not secret_key:
        raise OnlinePaymentError(_("Card payments are not set up."))
    return stripe.StripeClient(
        api_key=secret_key,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def stripe_idempotency_key(checkout: Checkout) -> str:
    return f"portico-checkout-{checkout.pk}-{int(checkout.created_at.timestamp())}"


def _session_params(*, checkout: Checkout, success_url: str, cancel_url: str, expires_at) -> dict:
    currency = checkout.currency.lower()
    line_items = []
    numbers = []
    for line in checkout.lines.select_related("invoice").order_by("invoice__date", "invoice_id"):
        invoice = line.invoice
        numbers.append(invoice.number)
        if line.amount < invoice.balance_due:
            name = _("Invoice %(number)s (part payment)") % {"number": invoice.number}
        else:
            name = _("Invoice %(number)s") % {"number": invoice.number}
        line_items.append(
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": to_minor_units(line.amount, checkout.currency),
                    "product_data": {"name": name},
                },
            }
        )
    total = sum(item["price_data"]["unit_amount"] for item in line_items)
    if not line_items or total != checkout.amount_minor:
        logger.error(
            "Checkout %s: its lines add up to %s minor units, not %s",
            checkout.pk,
            total,
            checkout.amount_minor,
        )
        raise OnlinePaymentError(_("This payment cannot be started. Please start again."))
    metadata = {"checkout_id": str(checkout.pk), "organization_id": str(checkout.organization_id)}
    params = {
        "mode": "payment",
        "line_items": line_items,
        "client_reference_id": str(checkout.pk),
        "metadata": metadata,
        "payment_intent_data": {
            "metadata": metadata,
            "description": ", ".join(numbers),
        },
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    email = checkout.contact.email if checkout.contact_id else ""
    if email:
        params["customer_email"] = email
    return params


def stripe_checkout_start(*, checkout: Checkout, success_url: str, cancel_url: str) -> str:
    """Create the Stripe Checkout Session of ``checkout``; the URL to redirect to.

    The session expires with the checkout's duplicate-payment lock (moved to
    Stripe's minimum of 30 minutes from now if it would end sooner). If Stripe
    cannot be reached or refuses, the checkout is failed (releasing the lock)
    and ``OnlinePaymentError`` says so; nothing was charged.
    """
    if checkout.provider != Provider.STRIPE or checkout.status != CheckoutStatus.PENDING:
        raise OnlinePaymentError(_("This payment cannot be started. Please start again."))
    payment_settings = online_payment_settings_get(organization=checkout.organization)
    try:
        if not payment_settings.stripe_enabled:
            raise OnlinePaymentError(_("Card payments are not set up."))
        client = _stripe_client(payment_settings=payment_settings)
        expires_at = max(checkout.expires_at, timezone.now() + STRIPE_MIN_SESSION_LIFETIME)
        params = _session_params(
            checkout=checkout,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=expires_at,
        )
    except OnlinePaymentError as error:
        checkout_fail(checkout_id=checkout.pk, message=error.message)
        raise
    try:
        if checkout.provider_session_id:  # started before (a double submit): the same session
            return client.v1.checkout.sessions.retrieve(checkout.provider_session_id).url
        session = client.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": stripe_idempotency_key(checkout)}
        )
    except stripe.StripeError as error:
        logger.warning(
            "Stripe refused or could not create the session of checkout %s (organization %s): "
            "%s %s",
            checkout.pk,
            checkout.organization_id,
            type(error).__name__,
            error.user_message or error,
        )
        checkout_fail(checkout_id=checkout.pk, message=_("Stripe could not start the payment."))
        raise OnlinePaymentError(
            _(
                "The card payment could not be started: Stripe did not answer as expected. "
                "Nothing was charged. Please try again in a moment."
            )
        ) from error
    checkout.provider_session_id = session.id
    session_expires_at = datetime.fromtimestamp(params["expires_at"], tz=UTC)
    Checkout.objects.filter(pk=checkout.pk).update(
        provider_session_id=checkout.provider_session_id,
        expires_at=session_expires_at,
        updated_at=timezone.now(),
    )
    if session_expires_at > checkout.expires_at:
        # The lock now lasts as long as the session: expire it then.
        checkout.expires_at = session_expires_at
        expire_checkouts.using(run_after=session_expires_at + timedelta(seconds=1)).enqueue()
    return session.url


def _payment_intent_id(session: dict) -> str:
    payment_intent = session.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    return payment_intent or ""


def _confirm_from_session(*, checkout: Checkout, session: dict):
    payment_intent = _payment_intent_id(session)
    return checkout_confirm(
        checkout_id=checkout.pk,
        provider_reference=payment_intent or session["id"],
        amount_minor=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or "").upper(),
        provider_payment_id=payment_intent,
    )


def _session_retrieve(*, checkout: Checkout) -> dict | None:
    payment_settings = online_payment_settings_get(organization=checkout.organization)
    try:
        client = _stripe_client(payment_settings=payment_settings)
        session = client.v1.checkout.sessions.retrieve(checkout.provider_session_id)
    except (stripe.StripeError, OnlinePaymentError) as error:
        logger.warning(
            "Stripe session %s of checkout %s could not be read: %s",
            checkout.provider_session_id,
            checkout.pk,
            error,
        )
        return None
    return session.to_dict()


def stripe_checkout_sync(*, checkout: Checkout) -> Checkout:
    """Ask Stripe how the checkout's session stands and act on it: paid →
    ``checkout_confirm`` (the webhook may do the same at the same moment: one
    payment results), expired → the checkout fails. Stripe unreachable: the
    checkout is returned unchanged (the webhook will tell)."""
    if (
        checkout.provider != Provider.STRIPE
        or checkout.status != CheckoutStatus.PENDING
        or not checkout.provider_session_id
    ):
        return checkout
    session = _session_retrieve(checkout=checkout)
    if session is None:
        return checkout
    if _checkout_of_session(organization=checkout.organization, session=session) != checkout:
        logger.warning(
            "Stripe session %s does not name checkout %s", session.get("id"), checkout.pk
        )
        return checkout
    if session.get("payment_status") == "paid":
        try:
            _confirm_from_session(checkout=checkout, session=session)
        except OnlinePaymentError as error:
            logger.warning("Checkout %s not confirmed: %s", checkout.pk, error.message)
    elif session.get("status") == "expired":
        checkout_fail(checkout_id=checkout.pk, message=_("The payment session expired."))
    checkout.refresh_from_db()
    return checkout


def stripe_checkout_cancel(*, checkout: Checkout) -> Checkout:
    """The contact came back through Stripe's cancel link: unless the session
    was paid after all, expire it at Stripe (so it cannot be paid later) and
    fail the checkout, which releases the duplicate-payment lock."""
    checkout = stripe_checkout_sync(checkout=checkout)
    if checkout.status != CheckoutStatus.PENDING:
        return checkout
    if checkout.provider_session_id:
        payment_settings = online_payment_settings_get(organization=checkout.organization)
        try:
            client = _stripe_client(payment_settings=payment_settings)
            client.v1.checkout.sessions.expire(checkout.provider_session_id)
        except (stripe.StripeError, OnlinePaymentError) as error:
            logger.warning(
                "Stripe session %s of cancelled checkout %s not expired: %s",
                checkout.provider_session_id,
                checkout.pk,
                error,
            )
            # Paid in between? Then record it rather than cancel.
            checkout = stripe_checkout_sync(checkout=checkout)
            if checkout.status != CheckoutStatus.PENDING:
                return checkout
    checkout_fail(checkout_id=checkout.pk, message=FAILURE_CANCELLED)
    checkout.refresh_from_db()
    return checkout


# --- webhooks -------------------------------------------------------------------------


def stripe_webhook_secret_of(*, organization: Organization) -> str:
    """The organisation's webhook signing secret ("" when Stripe is not set up)."""
    payment_settings = online_payment_settings_get(organization=organization)
    try:
        return stripe_webhook_secret(payment_settings)
    except SecretDecryptError:
        logger.error(
            "Stripe webhook secret of organization %s cannot be decrypted", organization.pk
        )
        return ""


def _checkout_of_session(*, organization: Organization, session: dict) -> Checkout | None:
    """The checkout of this organisation a session belongs to, or None."""
    metadata = session.get("metadata") or {}
    checkout_id = str(metadata.get("checkout_id") or "")
    reference = str(session.get("client_reference_id") or "")
    if not checkout_id:
        checkout_id = reference
    if not checkout_id.isdigit() or (reference and reference != checkout_id):
        return None
    if str(metadata.get("organization_id") or organization.pk) != str(organization.pk):
        return None
    checkout = (
        Checkout.objects.select_related("organization")
        .filter(organization=organization, provider=Provider.STRIPE, pk=int(checkout_id))
        .first()
    )
    if checkout is None:
        return None
    if checkout.provider_session_id and checkout.provider_session_id != session.get("id"):
        return None
    return checkout


def _handle_event(*, organization: Organization, event_type: str, session: dict) -> str:
    checkout = _checkout_of_session(organization=organization, session=session)
    if checkout is None:
        logger.warning(
            "Stripe %s for session %s matches no checkout of organization %s: ignored",
            event_type,
            session.get("id"),
            organization.pk,
        )
        return "ignored: no such checkout"
    if event_type in (EVENT_COMPLETED, EVENT_ASYNC_SUCCEEDED):
        if session.get("payment_status") != "paid":
            return "waiting: not paid yet"
        try:
            payment = _confirm_from_session(checkout=checkout, session=session)
        except OnlinePaymentError as error:
            logger.warning(
                "Stripe %s refused for checkout %s: %s", event_type, checkout.pk, error.message
            )
            return f"refused: {error.message}"[:200]
        return f"paid: payment {payment.pk}"
    if checkout.status != CheckoutStatus.PENDING:
        return f"ignored: checkout {checkout.status}"
    if event_type == EVENT_EXPIRED:
        checkout_fail(checkout_id=checkout.pk, message=_("The payment session expired."))
        return "expired"
    checkout_fail(checkout_id=checkout.pk, message=_("The payment failed."))
    return "failed"


def stripe_event_process(*, organization: Organization, event: dict) -> str:
    """Act once on a verified Stripe event; what was done (kept on the ``WebhookEvent``).

    The event is recorded in the same transaction as its effect: a delivery
    racing another of the same event waits for it and then finds it recorded
    (a no-op); a delivery whose processing fails records nothing, so Stripe's
    retry processes it again.
    """
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        return "ignored: no event id"
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    provider=Provider.STRIPE,
                    event_id=event_id[:255],
                    event_type=event_type[:100],
                    organization=organization,
                )
        except IntegrityError:
            return "duplicate"
        if event_type in HANDLED_EVENTS:
            session = (event.get("data") or {}).get("object") or {}
            if not isinstance(session, dict) or session.get("object") != "checkout.session":
                outcome = "ignored: not a checkout session"
            else:
                outcome = _handle_event(
                    organization=organization, event_type=event_type, session=session
                )
        else:
            logger.info("Stripe event %s of type %s ignored", event_id, event_type)
            outcome = "ignored"
        record.processed_at = timezone.now()
        record.outcome = outcome[:200]
        record.save(update_fields=["processed_at", "outcome"])
    return outcome
