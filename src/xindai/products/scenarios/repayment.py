"""Repayment-history signals from the platform's own books (medical credit, credit repair).

An ``InstalmentRecord`` is one due instalment and the day it was fully paid (``None`` = not yet).
It is *on time* if paid on or before its due date plus the grace days; otherwise it is *late* — an
overdue record in the platform's internal history (not a bureau record). Only instalments due on
or before ``as_of`` count; a payment after ``as_of`` is treated as not yet made.

``ontime_months_consecutive`` counts the most recent due instalments paid on time without a late
one in between (monthly schedules: one instalment = one month).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from xindai.kernel.errors import ValidationError
from xindai.money.money import require_positive_fen

WINDOW_24M = 730


@dataclass(frozen=True, slots=True)
class InstalmentRecord:
    due: date
    paid_on: date | None
    amount_fen: int

    def __post_init__(self) -> None:
        require_positive_fen(self.amount_fen, "amount_fen")


def repayment_signals(
    records: Sequence[InstalmentRecord], as_of: date, grace_days: int = 0
) -> dict[str, object]:
    """The ``repayment`` signal family as of ``as_of``."""
    if grace_days < 0:
        raise ValidationError("grace_days", "must not be negative")
    due = sorted((r for r in records if r.due <= as_of), key=lambda r: r.due)
    window = as_of - timedelta(days=WINDOW_24M)
    grace = timedelta(days=grace_days)
    ontime = late_24m = max_dpd = current = streak = overdue_records = 0
    for r in due:
        paid = r.paid_on if r.paid_on is not None and r.paid_on <= as_of else None
        on_time = paid is not None and paid <= r.due + grace
        dpd = max(((paid or as_of) - r.due).days, 0)
        if on_time:
            ontime += 1
            streak += 1
            continue
        if paid is None and as_of <= r.due + grace:
            continue  # due, still within grace: neither on time nor late yet
        streak = 0
        overdue_records += 1
        if r.due > window:
            late_24m += 1
            max_dpd = max(max_dpd, dpd)
        if paid is None:
            current = max(current, dpd)
    return {
        "ontime_instalments": ontime,
        "late_instalments_24m": late_24m,
        "max_dpd_24m": max_dpd,
        "current_dpd": current,
        "ontime_months_consecutive": streak,
        "internal_overdue_records": overdue_records,
    }
