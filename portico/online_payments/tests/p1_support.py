"""Shared set-up of P1's tests: a contact with portal access, open invoices, the test gateway."""

from datetime import date, timedelta
from decimal import Decimal

from portico.online_payments.models import OnlinePaymentSettings
from portico.payments.tests.factories import open_invoice
from portico.portal_access.tests.factories import PortalAccessFactory


def make_access(*, currency: str = "USD", language: str = "", **fields):
    """An active portal access of a fresh customer in ``currency``."""
    return PortalAccessFactory(
        active=True, contact__customer__currency=currency, language=language, **fields
    )


def enable_test_gateway(organization, **fields) -> OnlinePaymentSettings:
    row, _created = OnlinePaymentSettings.objects.update_or_create(
        organization=organization, defaults={"test_gateway_enabled": True, **fields}
    )
    return row


def invoice_of(access, total="100.00", *, days_ago: int = 0, **fields):
    """A sent invoice of the access's customer, dated ``days_ago``."""
    fields.setdefault("date", date.today() - timedelta(days=days_ago))
    balance_due = fields.pop("balance_due", None)
    invoice = open_invoice(access.customer, total=total, **fields)
    if balance_due is not None:
        invoice.balance_due = balance_due
        invoice.amount_paid = invoice.total - balance_due
        invoice.save(update_fields=["balance_due", "amount_paid"])
    return invoice


def money(value: str) -> Decimal:
    return Decimal(value)
