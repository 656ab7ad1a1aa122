"""The explicit rounding policy. Amounts round to the fen only here, and only when asked.

Default (DOMAIN_RULES §3): half-up to the fen at each posting.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from fractions import Fraction


class Rounding(StrEnum):
    HALF_UP = "half-up"
    HALF_EVEN = "half-even"
    DOWN = "down"  # towards zero
    UP = "up"  # away from zero


def round_fen(value: Fraction | Decimal | int, policy: Rounding = Rounding.HALF_UP) -> int:
    """Round an exact amount of fen to an integer number of fen under ``policy``."""
    if isinstance(value, float):
        raise TypeError("round_fen refuses float")
    frac = Fraction(value)
    sign = -1 if frac < 0 else 1
    mag = abs(frac)
    whole, rem = divmod(mag.numerator, mag.denominator)
    den = mag.denominator
    if rem == 0:
        return sign * whole
    if policy is Rounding.DOWN:
        up = False
    elif policy is Rounding.UP:
        up = True
    elif policy is Rounding.HALF_UP:
        up = 2 * rem >= den
    else:  # HALF_EVEN
        up = 2 * rem > den or (2 * rem == den and whole % 2 == 1)
    return sign * (whole + (1 if up else 0))


def div_round(numerator: int, denominator: int, policy: Rounding = Rounding.HALF_UP) -> int:
    """Integer division with an explicit rounding policy (fast path for the batch engines)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if policy is Rounding.HALF_UP and numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return round_fen(Fraction(numerator, denominator), policy)
