"""Line and document totals: pure functions on Decimals, rounded per currency.

Each line is rounded to the currency's minor unit (JPY: none) on its own,
then the document sums the rounded lines, so the printed lines always add up
to the printed total.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from portico.core.money import quantize_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal = Decimal(0)
    tax_name: str = ""
    tax_rate: Decimal = Decimal(0)


@dataclass(frozen=True)
class LineTotals:
    gross: Decimal  # quantity × rate
    discount: Decimal
    amount: Decimal  # gross − discount, before tax
    tax: Decimal


@dataclass(frozen=True)
class TaxSummaryRow:
    name: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class DocumentTotals:
    lines: list[LineTotals]
    subtotal: Decimal  # sum of gross
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_summary: list[TaxSummaryRow] = field(default_factory=list)


def line_totals(line: LineInput, currency: str) -> LineTotals:
    gross = quantize_money(line.quantity * line.rate, currency)
    discount = quantize_money(gross * line.discount_percent / HUNDRED, currency)
    amount = gross - discount
    tax = quantize_money(amount * line.tax_rate / HUNDRED, currency)
    return LineTotals(gross=gross, discount=discount, amount=amount, tax=tax)


def document_totals(lines: Iterable[LineInput], currency: str) -> DocumentTotals:
    inputs = list(lines)
    computed = [line_totals(line, currency) for line in inputs]
    summary: dict[tuple[str, Decimal], list[Decimal]] = {}
    for line, totals in zip(inputs, computed, strict=True):
        if line.tax_rate:
            row = summary.setdefault((line.tax_name, line.tax_rate), [Decimal(0), Decimal(0)])
            row[0] += totals.amount
            row[1] += totals.tax
    zero = quantize_money(Decimal(0), currency)
    subtotal = sum((t.gross for t in computed), zero)
    discount_total = sum((t.discount for t in computed), zero)
    tax_total = sum((t.tax for t in computed), zero)
    return DocumentTotals(
        lines=computed,
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        total=subtotal - discount_total + tax_total,
        tax_summary=[
            TaxSummaryRow(name=name, rate=rate, taxable=values[0], tax=values[1])
            for (name, rate), values in sorted(summary.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ],
    )
