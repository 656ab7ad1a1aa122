"""A slow, independent reference for schedules: the DOMAIN_RULES §3 formulas written out with
``Fraction`` and half-up rounding, regular monthly periods only, plus the tranche/prepayment rule.

It shares no code with ``xindai.servicing.schedule`` (dates included), so agreement between the two
is evidence, not tautology.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction


def half_up(x: Fraction) -> int:
    assert x >= 0
    return math.floor(x + Fraction(1, 2))


def month_end(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


def shift(d: date, k: int) -> date:
    total = d.year * 12 + (d.month - 1) + k
    year, month = total // 12, total % 12 + 1
    return date(year, month, min(d.day, month_end(year, month)))


@dataclass
class Row:
    period: int
    start: date
    due: date
    principal: int
    interest: int
    fee: int
    balance_after: int


def ref_build(
    principal: int,
    term: int,
    annual: Fraction,
    method: str,
    start: date,
    fee_rate: Fraction = Fraction(0),
) -> list[Row]:
    r = annual / 12
    fee = half_up(principal * fee_rate)
    if method == "bullet":
        due = shift(start, term)
        # the fee for every month of the term, rounded once
        whole_fee = half_up(principal * fee_rate * term)
        return [Row(1, start, due, principal, half_up(principal * r * term), whole_fee, 0)]
    dues = [shift(start, k) for k in range(1, term + 1)]
    starts = [start, *dues[:-1]]
    if method == "equal-installment":
        if r == 0:
            pmt = half_up(Fraction(principal, term))
        else:
            g = (1 + r) ** term
            pmt = half_up(principal * r * g / (g - 1))
    rows = []
    bal = principal
    for k in range(term):
        interest = 0 if method == "flat-fee" else half_up(bal * r)
        if k == term - 1:
            p = bal
        elif method == "equal-installment":
            p = min(max(pmt - interest, 0), bal)
        elif method in ("equal-principal", "flat-fee"):
            p = min(half_up(Fraction(principal, term)), bal)
        else:
            p = 0
        bal -= p
        rows.append(Row(k + 1, starts[k], dues[k], p, interest, fee, bal))
    return rows


def ref_draw(rows: list[Row], annual: Fraction, method: str, on: date, amount: int) -> list[Row]:
    """A tranche draw of ``amount`` on ``on`` with the instalment rebuilt (reduce-instalment)."""
    r = annual / 12
    k = next(i for i, row in enumerate(rows) if row.start <= on < row.due)
    cur = rows[k]
    b_old = cur.balance_after + cur.principal
    b_new = b_old + amount
    length = (cur.due - cur.start).days
    elapsed = half_up(b_old * r * Fraction((on - cur.start).days, length))
    remaining = half_up(b_new * r * Fraction((cur.due - on).days, length))
    m = len(rows) - k
    rest = rows[k:]
    out = rows[:k]
    bal = b_new
    if method == "equal-installment":
        g = (1 + r) ** m
        pmt = half_up(b_new * r * g / (g - 1))
    for j, row in enumerate(rest):
        std = half_up(bal * r)
        if j == m - 1:
            p = bal
        elif method == "equal-installment":
            p = min(max(pmt - std, 0), bal)
        else:
            p = 0
        interest = elapsed + remaining if j == 0 else std
        bal -= p
        out.append(Row(row.period, row.start, row.due, p, interest, row.fee, bal))
    return out
