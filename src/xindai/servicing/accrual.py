"""Daily accrual formulas shared by the per-loan path and the batch end-of-day engine.

Interest of a period is recognised day by day from an *anchor* (the period start, or the date the
balance last changed inside the period) so that the amount accrued on the due date equals the
period's scheduled interest exactly:

    accrued(d) = anchor_accrued + round((interest − anchor_accrued) × (d − anchor) / (due − anchor))

Penalty interest accrues exactly in micro-fen (1e-6 fen) and is posted in whole fen as it
accumulates; the carry below one fen stays on the loan, so no fen is ever invented.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xindai.money.rounding import Rounding, div_round

MICRO = 1_000_000


def accrued_through(
    interest: int,
    anchor: date,
    anchor_accrued: int,
    due: date,
    through: date,
    rounding: Rounding = Rounding.HALF_UP,
) -> int:
    """Interest of a period recognised through ``through`` (inclusive), given the anchor."""
    if through >= due:
        return interest
    if through <= anchor:
        return anchor_accrued
    span = (due - anchor).days
    elapsed = (through - anchor).days
    return anchor_accrued + div_round((interest - anchor_accrued) * elapsed, span, rounding)


def rate_parts(rate: Decimal) -> tuple[int, int]:
    """An exact rational form (numerator, denominator) of a Decimal rate."""
    num, den = rate.as_integer_ratio()
    return num, den


def penalty_micro(overdue_principal: int, rate_num: int, rate_den: int, year_days: int) -> int:
    """One day's penalty interest on ``overdue_principal`` fen, in micro-fen (floored)."""
    return overdue_principal * rate_num * MICRO // (rate_den * year_days)


def post_penalty(carry_micro: int, today_micro: int) -> tuple[int, int]:
    """Split carry + today's penalty into whole fen to post and the micro-fen carry left."""
    total = carry_micro + today_micro
    return total // MICRO, total % MICRO
