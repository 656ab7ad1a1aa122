"""Small exact helpers shared by the signal derivations (quantising fractions, date windows)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from fractions import Fraction

from xindai.kernel.errors import ValidationError

CENT = Decimal("0.01")
BASIS = Decimal("0.0001")


def quantise(value: Fraction | int, quantum: Decimal = CENT) -> Decimal:
    """``value`` as a Decimal rounded half-up to ``quantum`` (the one explicit rounding step)."""
    frac = Fraction(value)
    scaled = frac / Fraction(quantum)
    whole = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    sign = -1 if scaled < 0 else 1
    return (Decimal(sign * whole) * quantum).quantize(quantum)


def yuan(fen: Fraction | int) -> Decimal:
    """Fen (possibly fractional, e.g. an average) as yuan to the fen, half-up."""
    return quantise(Fraction(fen) / 100, CENT)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (0 if ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def require_sorted_unique(days: list[date], field: str) -> None:
    for a, b in itertools.pairwise(days):
        if b <= a:
            raise ValidationError(field, f"dates must be increasing and unique ({a} then {b})")
