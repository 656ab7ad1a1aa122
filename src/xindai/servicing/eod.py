"""The end-of-day fast path: accrual for loans whose day holds nothing but accrual.

Most active loans on most days are mid-period and current: the only thing end of day does for them
is recognise one more day of interest. ``accrue_batch`` does that for a whole chunk from compact
rows, with the same formula as ``lifecycle.run_day`` (``accrual.accrued_through``), and returns the
new accrued amounts plus one balanced journal entry for the chunk (a debit line per loan, one credit
line to interest income). Anything else — a due date, overdue, suspense to apply, a missed day — is
routed to the per-loan path (``lifecycle.catch_up``) by ``is_fast``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from xindai.accounting.journal import JournalEntry, Line
from xindai.servicing.accrual import accrued_through


@dataclass(frozen=True, slots=True)
class AccrualRow:
    loan_id: int
    period: int
    interest: int
    accrued: int
    anchor_date: date
    anchor_accrued: int
    due_date: date


def is_fast(
    day: date,
    processed_through: date | None,
    next_due_date: date | None,
    oldest_unpaid_due: date | None,
    suspense: int,
    dpd: int,
) -> bool:
    """True when ``day`` brings the loan nothing but one more day of accrual."""
    return (
        processed_through is not None
        and processed_through == day - timedelta(days=1)
        and next_due_date is not None
        and next_due_date > day
        and oldest_unpaid_due is None
        and suspense == 0
        and dpd == 0
    )


def accrue_batch(
    rows: Iterable[AccrualRow], day: date
) -> tuple[list[tuple[int, int, int, int]], JournalEntry | None]:
    """(loan, period, new accrued, delta) per row and the chunk's accrual entry."""
    updates: list[tuple[int, int, int, int]] = []
    lines: list[Line] = []
    total = 0
    for r in rows:
        target = accrued_through(r.interest, r.anchor_date, r.anchor_accrued, r.due_date, day)
        delta = target - r.accrued
        updates.append((r.loan_id, r.period, target, delta))
        if delta:
            lines.append(Line("interest_receivable", delta, r.loan_id))
            total += delta
    if not lines:
        return updates, None
    lines.append(Line("interest_income", -total))
    return updates, JournalEntry(day, "eod-accrual", tuple(lines))
