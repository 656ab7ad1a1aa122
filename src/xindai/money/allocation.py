"""``allocate``: split an amount of fen by weights without losing or inventing a fen.

Largest-remainder method: every share gets the floor of its exact part; the fen left over go one by
one to the largest remainders, earlier shares first on ties. Invariant: ``sum(result) == total``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


def allocate(total: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split ``total`` fen in proportion to ``weights`` (non-negative, not all zero)."""
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError("total must be an int number of fen")
    if not weights:
        raise ValueError("weights must not be empty")
    fracs = []
    for w in weights:
        if isinstance(w, float | bool):
            raise TypeError("weights must be int, Decimal or Fraction, not float")
        f = Fraction(w)
        if f < 0:
            raise ValueError("weights must not be negative")
        fracs.append(f)
    weight_sum = sum(fracs)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [magnitude * f / weight_sum for f in fracs]
    shares = [e.numerator // e.denominator for e in exact]
    left = magnitude - sum(shares)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return [sign * s for s in shares]
