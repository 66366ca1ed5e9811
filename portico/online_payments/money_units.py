"""Amounts as payment providers count them: integers of the currency's minor unit.

What crosses the provider boundary (Stripe's ``amount``, the test gateway's
charge) is an ``int`` — 12.34 USD is 1234, 500 JPY is 500, 1.234 KWD is 1234 —
never a float. The exponents are ISO 4217's; a currency not listed has two
decimals. The conversion is exact: an amount with more decimals than its
currency has is refused rather than rounded.
"""

from decimal import Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not the hundredth.
_EXPONENTS: dict[str, int] = {
    # No minor unit.
    **dict.fromkeys(
        [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
            "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ],
        0,
    ),
    # Thousandths.
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    # Ten-thousandths (units of account).
    **dict.fromkeys(["CLF", "UYW"], 4),
}  # fmt: skip
DEFAULT_EXPONENT = 2


class MinorUnitsError(ValueError):
    """An amount that has no exact integer of minor units (too many decimals,
    not a number, a float)."""


def currency_exponent(currency: str) -> int:
    """How many decimals ``currency`` has: JPY 0, USD 2, KWD 3."""
    return _EXPONENTS.get(currency.strip().upper(), DEFAULT_EXPONENT)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in integer minor units of ``currency``: 12.34 USD → 1234."""
    if isinstance(amount, float | bool):
        raise MinorUnitsError("Amounts are Decimals, never floats.")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise MinorUnitsError(f"{amount!r} is not an amount.") from error
    if not value.is_finite():
        raise MinorUnitsError(f"{amount!r} is not an amount.")
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MinorUnitsError(
            f"{value} has more decimals than {currency.upper()} has "
            f"({currency_exponent(currency)})."
        )
    return int(scaled)


def from_minor_units(units: int, currency: str) -> Decimal:
    """Integer minor units of ``currency`` as an amount: 1234 USD → Decimal("12.34")."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise MinorUnitsError(f"{units!r} is not an integer of minor units.")
    exponent = currency_exponent(currency)
    return Decimal(units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
