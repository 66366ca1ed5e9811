"""Property tests for document totals: whatever the lines, the printed lines,
discounts and taxes add up to the printed total, in the currency's minor unit."""

import random
from decimal import Decimal

from babel.numbers import get_currency_precision
from hypothesis import given, settings
from hypothesis import strategies as st

from portico.core.money import quantize_money
from portico.sales.totals import LineInput, document_totals, line_totals

# Two decimals, none (JPY) and three (BHD, KWD).
CURRENCIES = ["EUR", "USD", "JPY", "BHD", "KWD"]
# The same rate under two names, and two rates under one name, are separate rows.
TAXES = [
    ("VAT", Decimal("19")),
    ("VAT", Decimal("7")),
    ("GST", Decimal("7")),
    ("Sales tax", Decimal("8.875")),
]

quantities = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4, allow_nan=False
)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal("1000000"), places=4, allow_nan=False)
discounts = st.one_of(
    st.just(Decimal(0)),
    st.just(Decimal(100)),
    st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=3, allow_nan=False),
)
taxes = st.one_of(st.none(), st.sampled_from(TAXES))


@st.composite
def line_inputs(draw) -> LineInput:
    tax = draw(taxes)
    return LineInput(
        quantity=draw(quantities),
        rate=draw(rates),
        discount_percent=draw(discounts),
        tax_name=tax[0] if tax else "",
        tax_rate=tax[1] if tax else Decimal(0),
    )


documents = st.tuples(st.lists(line_inputs(), min_size=1, max_size=25), st.sampled_from(CURRENCIES))
property_settings = settings(deadline=None, max_examples=200)


def in_minor_unit(value: Decimal, currency: str) -> bool:
    """Exactly representable in the currency: no digits past its minor unit."""
    return value == quantize_money(value, currency) and value.as_tuple().exponent == -(
        get_currency_precision(currency)
    )


@property_settings
@given(documents)
def test_lines_discounts_and_taxes_always_add_up_to_the_total(document):
    # given
    lines, currency = document

    # when
    totals = document_totals(lines, currency)

    # then: the document's figures are the sums of the printed line figures
    assert totals.subtotal == sum(line.gross for line in totals.lines)
    assert totals.discount_total == sum(line.discount for line in totals.lines)
    assert totals.tax_total == sum(line.tax for line in totals.lines)
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_total
    assert totals.total == sum(line.amount + line.tax for line in totals.lines)
    for line in totals.lines:
        assert line.amount == line.gross - line.discount


@property_settings
@given(documents)
def test_every_figure_is_rounded_to_the_currencys_minor_unit(document):
    # given
    lines, currency = document

    # when
    totals = document_totals(lines, currency)

    # then
    figures = [totals.subtotal, totals.discount_total, totals.tax_total, totals.total]
    for line in totals.lines:
        figures += [line.gross, line.discount, line.amount, line.tax]
    for row in totals.tax_summary:
        figures += [row.taxable, row.tax]
    assert all(in_minor_unit(figure, currency) for figure in figures)


@property_settings
@given(line_inputs(), st.sampled_from(CURRENCIES))
def test_each_line_is_within_half_a_minor_unit_of_the_exact_amount(line, currency):
    # when
    totals = line_totals(line, currency)

    # then
    half_unit = Decimal(1).scaleb(-get_currency_precision(currency)) / 2
    assert abs(totals.gross - line.quantity * line.rate) <= half_unit
    assert abs(totals.discount - totals.gross * line.discount_percent / 100) <= half_unit
    assert abs(totals.tax - totals.amount * line.tax_rate / 100) <= half_unit


@property_settings
@given(documents)
def test_the_tax_summary_sums_to_the_tax_total(document):
    # given
    lines, currency = document

    # when
    totals = document_totals(lines, currency)

    # then: one row per tax name and rate, adding up to the document's tax
    assert sum((row.tax for row in totals.tax_summary), Decimal(0)) == totals.tax_total
    taxed_amount = sum(
        (t.amount for line, t in zip(lines, totals.lines, strict=True) if line.tax_rate),
        Decimal(0),
    )
    assert sum((row.taxable for row in totals.tax_summary), Decimal(0)) == taxed_amount
    keys = [(row.name, row.rate) for row in totals.tax_summary]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(line.tax_name, line.tax_rate) for line in lines if line.tax_rate}


@property_settings
@given(documents)
def test_a_discount_never_exceeds_the_gross_amount(document):
    # given
    lines, currency = document

    # when
    totals = document_totals(lines, currency)

    # then: nothing is negative, and a discount at most cancels its line
    for line in totals.lines:
        assert Decimal(0) <= line.discount <= line.gross
        assert line.amount >= 0
        assert line.tax >= 0
    assert Decimal(0) <= totals.discount_total <= totals.subtotal
    assert totals.total >= 0


@property_settings
@given(documents, st.randoms(use_true_random=False))
def test_the_order_of_lines_does_not_change_the_totals(document, rng: random.Random):
    # given
    lines, currency = document
    shuffled = list(lines)
    rng.shuffle(shuffled)

    # when
    original, reordered = document_totals(lines, currency), document_totals(shuffled, currency)

    # then
    assert (original.subtotal, original.discount_total, original.tax_total, original.total) == (
        reordered.subtotal,
        reordered.discount_total,
        reordered.tax_total,
        reordered.total,
    )
    assert original.tax_summary == reordered.tax_summary


# --- examples a reader can check by hand ---------------------------------------------------


def test_a_full_discount_leaves_nothing_to_tax():
    totals = document_totals(
        [LineInput(Decimal(3), Decimal("9.99"), Decimal(100), "VAT", Decimal(19))], "EUR"
    )
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("29.97"),
        Decimal("29.97"),
        Decimal("0.00"),
        Decimal("0.00"),
    )


def test_yen_has_no_minor_unit():
    # 3 × 333.5 = 1000.5 → ¥1001; 10% tax of 1001 = 100.1 → ¥100
    totals = document_totals([LineInput(Decimal(3), Decimal("333.5"), tax_rate=Decimal(10))], "JPY")
    assert (totals.subtotal, totals.tax_total, totals.total) == (
        Decimal("1001"),
        Decimal("100"),
        Decimal("1101"),
    )
    assert totals.total.as_tuple().exponent == 0


def test_halves_round_up():
    # 0.125 → 0.13 (EUR); 0.0005 → 0.001 (BHD, three decimals)
    assert document_totals([LineInput(Decimal(1), Decimal("0.125"))], "EUR").total == Decimal(
        "0.13"
    )
    assert document_totals([LineInput(Decimal(1), Decimal("0.0005"))], "BHD").total == Decimal(
        "0.001"
    )


def test_lines_are_rounded_before_they_are_summed():
    # Three lines of 0.333… each print as 0.33 and the total prints as 0.99, not 1.00.
    line = LineInput(Decimal(1), Decimal("0.3333"))
    totals = document_totals([line, line, line], "USD")
    assert [t.amount for t in totals.lines] == [Decimal("0.33")] * 3
    assert totals.total == Decimal("0.99")


def test_the_tax_summary_groups_lines_by_tax():
    totals = document_totals(
        [
            LineInput(Decimal(1), Decimal(100), tax_name="VAT", tax_rate=Decimal(19)),
            LineInput(Decimal(2), Decimal(50), tax_name="VAT", tax_rate=Decimal(19)),
            LineInput(Decimal(1), Decimal(10), tax_name="VAT", tax_rate=Decimal(7)),
            LineInput(Decimal(1), Decimal(5)),
        ],
        "EUR",
    )
    assert [(row.name, row.rate, row.taxable, row.tax) for row in totals.tax_summary] == [
        ("VAT", Decimal(7), Decimal("10.00"), Decimal("0.70")),
        ("VAT", Decimal(19), Decimal("200.00"), Decimal("38.00")),
    ]
    assert totals.tax_total == Decimal("38.70")
