"""Amounts cross the provider boundary as integers of the currency's minor unit."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.online_payments.money_units import (
    MinorUnitsError,
    currency_exponent,
    from_minor_units,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("12.34", "USD", 1234),
        ("12.3", "USD", 1230),
        ("0.01", "EUR", 1),
        ("1000", "usd", 100000),
        ("500", "JPY", 500),
        ("500.00", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("1.2", "BHD", 1200),
        ("0", "USD", 0),
        ("12.3400", "USD", 1234),  # stored with four decimals: trailing zeros are exact
    ],
)
def test_to_minor_units(amount, currency, units):
    assert to_minor_units(Decimal(amount), currency) == units


@pytest.mark.parametrize(
    ("units", "currency", "amount"),
    [(1234, "USD", "12.34"), (500, "JPY", "500"), (1234, "KWD", "1.234"), (5, "USD", "0.05")],
)
def test_from_minor_units(units, currency, amount):
    result = from_minor_units(units, currency)

    assert result == Decimal(amount)
    assert str(result) == amount  # as many decimals as the currency has


def test_the_exponents_are_iso_4217():
    assert [currency_exponent(code) for code in ("JPY", "KRW", "USD", "GBP", "KWD", "BHD")] == [
        0,
        0,
        2,
        2,
        3,
        3,
    ]
    assert currency_exponent("XYZ") == 2  # not listed: two decimals


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("12.345", "USD"), ("500.5", "JPY"), ("1.2345", "KWD"), ("0.001", "EUR")],
)
def test_more_decimals_than_the_currency_has_are_refused(amount, currency):
    with pytest.raises(MinorUnitsError):
        to_minor_units(Decimal(amount), currency)


@pytest.mark.parametrize("amount", [12.34, float("nan"), Decimal("NaN"), Decimal("Infinity"), "x"])
def test_floats_and_non_numbers_are_refused(amount):
    with pytest.raises(MinorUnitsError):
        to_minor_units(amount, "USD")


@pytest.mark.parametrize("units", [12.0, "1234", True, Decimal("12")])
def test_from_minor_units_takes_integers_only(units):
    with pytest.raises(MinorUnitsError):
        from_minor_units(units, "USD")


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR", "CLF", "XYZ"]),
)
def test_round_trip_from_units(units, currency):
    assert to_minor_units(from_minor_units(units, currency), currency) == units


@given(
    amount=st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False),
)
def test_round_trip_from_amounts(amount):
    units = to_minor_units(amount, "USD")

    assert isinstance(units, int)
    assert from_minor_units(units, "USD") == amount
