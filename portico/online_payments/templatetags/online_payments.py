"""``{% online_payment_options as pay %}`` for the portal's pages: may the
contact pay online here (``pay.available``), and the organisation's offline
payment instructions (``pay.instructions``). Read once per request."""

from django import template
from django.utils.functional import cached_property

from portico.sales.models import OPEN_INVOICE_STATUSES

register = template.Library()

REQUEST_CACHE = "_online_payment_options"


class OnlinePaymentOptions:
    """Each answer is read when a template first asks for it (one query each)."""

    def __init__(self, organization):
        self.organization = organization

    @cached_property
    def available(self) -> bool:
        from portico.online_payments.services import providers_available

        return bool(providers_available(organization=self.organization))

    @cached_property
    def instructions(self) -> str:
        from portico.online_payments.services import online_payment_settings_get

        row = online_payment_settings_get(organization=self.organization)
        return row.payment_instructions.strip()


@register.simple_tag(takes_context=True)
def online_payment_options(context) -> OnlinePaymentOptions:
    request = context["request"]
    options = getattr(request, REQUEST_CACHE, None)
    if options is None:
        options = OnlinePaymentOptions(request.organization)
        setattr(request, REQUEST_CACHE, options)
    return options


@register.filter
def payable_online(invoice) -> bool:
    """An invoice a Pay now button may be offered for: open, with a balance due."""
    return invoice.status in OPEN_INVOICE_STATUSES and invoice.balance_due > 0
