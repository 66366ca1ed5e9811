"""Money and number formatting for the viewer's locale (babel)."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from django.utils import translation

# Currencies offered in forms; the list a small business actually uses.
CURRENCY_CODES = [
    "AUD", "BRL", "CAD", "CHF", "CNY", "EUR", "GBP", "INR",
    "JPY", "MXN", "NZD", "SEK", "SGD", "USD", "ZAR",
]  # fmt: skip


def babel_locale(language_code: str | None = None) -> str:
    """Django's language code (``pt-br``) as a babel locale (``pt_BR``)."""
    code = language_code or translation.get_language() or "en"
    return translation.to_locale(code).replace("zh_Hans", "zh_Hans_CN")


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (JPY has none), half up."""
    exponent = Decimal(1).scaleb(-get_currency_precision(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str, language_code: str | None = None) -> str:
    return format_currency(
        quantize_money(amount, currency), currency, locale=babel_locale(language_code)
    )


def currency_choices() -> list[tuple[str, str]]:
    from babel.numbers import get_currency_name

    locale = babel_locale()
    return [(code, f"{code} – {get_currency_name(code, locale=locale)}") for code in CURRENCY_CODES]


def format_number(value: Decimal, language_code: str | None = None) -> str:
    """A plain number in the reader's locale, trailing zeros dropped."""
    from babel.numbers import format_decimal

    normalized = Decimal(value).normalize()
    digits = max(-normalized.as_tuple().exponent, 0)
    return format_decimal(
        normalized,
        format=f"#,##0.{'#' * digits}" if digits else "#,##0",
        locale=babel_locale(language_code),
    )


def format_percent(value: Decimal, language_code: str | None = None) -> str:
    from babel.numbers import format_percent as babel_percent

    # The locale's own pattern ("7,5 %" in German), keeping every digit given.
    return babel_percent(
        Decimal(value) / 100, locale=babel_locale(language_code), decimal_quantization=False
    )
