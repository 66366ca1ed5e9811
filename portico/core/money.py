"""Money and number formatting for the viewer's locale (babel)."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from babel import Locale
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from django.utils import translation

# Currencies offered in forms; the list a small business actually uses.
CURRENCY_CODES = [
    "AUD", "BRL", "CAD", "CHF", "CNY", "EUR", "GBP", "INR",
    "JPY", "MXN", "NZD", "SEK", "SGD", "USD", "ZAR",
]  # fmt: skip


@lru_cache(maxsize=64)
def _babel_locale_of(code: str) -> str:
    return translation.to_locale(code).replace("zh_Hans", "zh_Hans_CN")


def babel_locale(language_code: str | None = None) -> str:
    """Django's language code (``pt-br``) as a babel locale (``pt_BR``)."""
    return _babel_locale_of(language_code or translation.get_language() or "en")


@lru_cache(maxsize=256)
def _currency_exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-get_currency_precision(currency))


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (JPY has none), half up."""
    return Decimal(amount).quantize(_currency_exponent(currency), rounding=ROUND_HALF_UP)


class _CurrencyFormat(NamedTuple):
    """What babel's standard currency pattern of one locale and currency
    resolves to: affixes with the symbol in, separators, grouping, digits."""

    prefixes: tuple[str, str]  # positive, negative
    suffixes: tuple[str, str]
    group: str
    decimal: str
    grouping: tuple[int, int]
    min_int: int
    quantum: Decimal
    precision: int


@lru_cache(maxsize=1024)
def _currency_format(currency: str, locale: str) -> _CurrencyFormat | None:
    """The pieces ``format_currency`` would look up on every call, looked up
    once (None: a pattern the fast path does not handle; babel formats it)."""
    babel = Locale.parse(locale)
    pattern = babel.currency_formats["standard"]
    if pattern.exp_prec or pattern.scale or "@" in pattern.pattern or not pattern.number_pattern:
        return None
    symbol = get_currency_symbol(currency, babel)
    affixes = []
    for text in (*pattern.prefix, *pattern.suffix):
        if "¤¤¤" in text:  # the currency's name, which depends on the amount
            return None
        affixes.append(text.replace("¤¤", currency.upper()).replace("¤", symbol))
    group = get_group_symbol(babel, numbering_system="latn")
    decimal = get_decimal_symbol(babel, numbering_system="latn")
    if any("'" in text for text in (*affixes, group, decimal)):  # babel unquotes these
        return None
    precision = get_currency_precision(currency)
    return _CurrencyFormat(
        prefixes=(affixes[0], affixes[1]),
        suffixes=(affixes[2], affixes[3]),
        group=group,
        decimal=decimal,
        grouping=pattern.grouping,
        min_int=pattern.int_prec[0],
        quantum=Decimal(10) ** -precision,
        precision=precision,
    )


def _format_currency(amount: Decimal, currency: str, locale: str) -> str:
    """``babel.numbers.format_currency(amount, currency, locale=locale)``, the
    same text (tests compare them), without babel's per-call locale lookups."""
    spec = _currency_format(currency, locale)
    if spec is None or not amount.is_finite():
        return format_currency(amount, currency, locale=locale)
    negative = int(amount.is_signed())
    integer, _sep, fraction = f"{abs(amount).normalize().quantize(spec.quantum):f}".partition(".")
    if len(integer) < spec.min_int:
        integer = "0" * (spec.min_int - len(integer)) + integer
    size, grouped = spec.grouping[0], ""
    while len(integer) > size:
        grouped = spec.group + integer[-size:] + grouped
        integer = integer[:-size]
        size = spec.grouping[1]
    number = integer + grouped
    if spec.precision:
        number += spec.decimal + fraction.ljust(spec.precision, "0")
    return spec.prefixes[negative] + number + spec.suffixes[negative]


def format_money(amount: Decimal, currency: str, language_code: str | None = None) -> str:
    locale = babel_locale(language_code)
    text = _format_currency(quantize_money(amount, currency), currency, locale)
    if locale == "ja":
        # CLDR writes the yen sign full-width (￥); Japanese invoices and the
        # reference product write ¥1,200.
        text = text.replace("\uffe5", "¥")
    return text


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
