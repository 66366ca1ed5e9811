"""Hours as timesheets print them: always two decimals, in the reader's locale."""

from decimal import Decimal

from babel.numbers import format_decimal
from django import template

from portico.core.money import babel_locale

register = template.Library()


@register.simple_tag
def hours(value) -> str:
    """2.5 → "2.50" (en), "2,50" (de)."""
    return format_decimal(Decimal(value or 0), format="#,##0.00", locale=babel_locale())
