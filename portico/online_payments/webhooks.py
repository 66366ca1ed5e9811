"""Stripe's webhook: POST /webhooks/stripe/<organization id>/.

Each organisation's Stripe account sends its events to its own URL, signed
with the organisation's webhook signing secret. A request whose signature
does not verify (missing, wrong, or older than five minutes) is answered 400
and nothing is recorded; a verified event is handed to
``stripe_event_process``, which acts on it once whatever the number of
deliveries. Anything Portico does not act on is acknowledged (200) so that
Stripe stops sending it.
"""

import json
import logging

import stripe
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portico.accounts.models import Organization
from portico.online_payments.stripe_gateway import stripe_event_process, stripe_webhook_secret_of

logger = logging.getLogger(__name__)

# Stripe's own default: a signature older than this is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest, organization_id: int) -> HttpResponse:
    organization = Organization.objects.filter(pk=organization_id).first()
    secret = stripe_webhook_secret_of(organization=organization) if organization else ""
    if not secret:
        logger.warning(
            "Stripe webhook for organization %s refused: no webhook secret is set",
            organization_id,
        )
        return HttpResponseBadRequest("Webhook not configured.", content_type="text/plain")
    payload = request.body
    try:
        event = json.loads(payload)
    except ValueError:  # not JSON, not UTF-8
        event = None
    if not isinstance(event, dict):
        logger.warning("Stripe webhook for organization %s refused: not an event", organization_id)
        return HttpResponseBadRequest("Invalid payload.", content_type="text/plain")
    try:
        stripe.Webhook.construct_event(
            payload,
            request.headers.get("Stripe-Signature", ""),
            secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as error:
        logger.warning(
            "Stripe webhook for organization %s refused: %s (from %s)",
            organization_id,
            error,
            request.META.get("REMOTE_ADDR"),
        )
        return HttpResponseBadRequest("Invalid signature.", content_type="text/plain")
    outcome = stripe_event_process(organization=organization, event=event)
    return HttpResponse(outcome, content_type="text/plain")
