from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from portico.core.money import (
    CURRENCY_CODES,
    _format_currency,
    babel_locale,
    currency_choices,
    format_money,
    quantize_money,
)

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        # JPY has no minor unit: rounded half up, not babel's half-even (¥1,234)
        ("1234.5", "JPY", "ja", "¥1,235"),
        ("1234.5", "EUR", "de", f"1.234,50{NBSP}€"),
        ("1234.5", "USD", "en", "$1,234.50"),
        ("1234.5", "GBP", "en-gb", "£1,234.50"),
        ("1234.5", "BRL", "pt-br", f"R${NBSP}1.234,50"),
        ("1234.5", "CHF", "de", f"1.234,50{NBSP}CHF"),
        ("1234.5", "CNY", "zh-hans", "¥1,234.50"),
        ("-0.005", "USD", "en", "-$0.01"),
        ("0", "EUR", "fr", f"0,00{NBSP}€"),
    ],
)
def test_format_money(amount, currency, language, expected):
    assert format_money(Decimal(amount), currency, language) == expected


def test_format_money_uses_the_active_language_by_default():
    with translation.override("de"):
        assert format_money(Decimal("1234.5"), "EUR") == f"1.234,50{NBSP}€"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.5", "JPY", "3"),  # half up, not half even
        ("1.5", "JPY", "2"),
        ("-2.5", "JPY", "-3"),  # half away from zero
        ("1.005", "EUR", "1.01"),
        ("1.004", "EUR", "1.00"),
        ("7", "USD", "7.00"),
        ("1.0005", "KWD", "1.001"),  # three decimals
        ("12.5", "CLP", "13"),  # no decimals
    ],
)
def test_quantize_money(amount, currency, expected):
    result = quantize_money(Decimal(amount), currency)

    assert str(result) == expected


@given(
    amount=st.decimals(
        min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=6
    ),
    currency=st.sampled_from([*CURRENCY_CODES, "KWD", "CLP"]),
)
def test_quantize_money_is_idempotent_and_never_moves_more_than_half_a_unit(amount, currency):
    # when
    once = quantize_money(amount, currency)

    # then
    assert quantize_money(once, currency) == once
    unit = Decimal(1).scaleb(once.as_tuple().exponent)
    assert abs(once - amount) <= unit / 2


@pytest.mark.parametrize(
    ("language", "locale"),
    [("en", "en"), ("pt-br", "pt_BR"), ("en-gb", "en_GB"), ("zh-hans", "zh_Hans_CN")],
)
def test_babel_locale(language, locale):
    assert babel_locale(language) == locale


def test_currency_choices_are_named_in_the_active_language():
    with translation.override("de"):
        choices = dict(currency_choices())

    assert list(choices) == CURRENCY_CODES
    assert choices["EUR"] == "EUR – Euro"
    assert choices["USD"] == "USD – US-Dollar"


# format_money formats with cached locale data; the text must stay babel's own.
BABEL_LOCALES = ["en_IN", "hi", "de_CH", "ar", "fa", "he", "ko", "sv", "nl", "it", "es", "fr"]
AMOUNTS = ["0", "-0", "0.004", "-0.005", "1", "-1", "12.5", "999.995", "1000", "-1234.56"]
AMOUNTS += ["12345678.9", "-98765432101.01", "1e9", "0.1", "100000", "7.77"]


@pytest.mark.parametrize("currency", [*CURRENCY_CODES, "KWD", "CLP", "XYZ"])
def test_format_money_is_the_text_babel_gives(settings, currency):
    from babel.numbers import format_currency

    for language, _name in settings.LANGUAGES:
        locale = babel_locale(language)
        for text in AMOUNTS:
            amount = quantize_money(Decimal(text), currency)
            expected = format_currency(amount, currency, locale=locale)
            if locale == "ja":  # the one deliberate difference: ¥, not CLDR's full-width ￥
                expected = expected.replace("\uffe5", "¥")
            assert format_money(Decimal(text), currency, language) == expected, (locale, text)
    for locale in BABEL_LOCALES:  # other patterns: Indian grouping, right-to-left …
        for text in AMOUNTS:
            amount = quantize_money(Decimal(text), currency)
            expected = format_currency(amount, currency, locale=locale)
            assert _format_currency(amount, currency, locale) == expected, (locale, text)


@given(
    amount=st.decimals(
        min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, places=4
    ),
    currency=st.sampled_from([*CURRENCY_CODES, "KWD", "CLP"]),
    locale=st.sampled_from(["en", "de", "fr", "ja", "pt_BR", "zh_Hans_CN", "sv", "en_IN", "ar"]),
)
def test_format_money_matches_babel_for_any_amount(amount, currency, locale):
    from babel.numbers import format_currency

    amount = quantize_money(amount, currency)
    expected = format_currency(amount, currency, locale=locale)
    assert _format_currency(amount, currency, locale) == expected
