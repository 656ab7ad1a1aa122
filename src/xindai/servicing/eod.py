"""The end-of-day fast path: loans whose day brings only accrual and, on a due date, the roll to
the next period.

Most active loans on most days are current: end of day recognises one more day of interest and,
on a due date, makes the instalment payable (recognising its fee) and moves the accrual cursor to
the next period. ``accrue_batch`` does exactly what ``lifecycle.run_day`` does for such loans —
with the same formula (``accrual.accrued_through``) — from compact rows, and returns the changes
plus one balanced journal entry for the chunk (a debit line per loan, one credit line per income
account). Anything else — overdue, cash in suspense, a missed day — goes to the per-loan path;
``is_fast`` decides. A test runs whole books both ways and requires identical results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from xindai.accounting.journal import JournalEntry, Line
from xindai.servicing.accrual import accrued_through


@dataclass(frozen=True, slots=True)
class AccrualRow:
    """The accruing instalment of a loan and, for the roll on its due date, the next one."""

    loan_id: int
    period: int
    interest: int
    accrued: int
    fee: int
    fee_recognised: bool
    anchor_date: date
    anchor_accrued: int
    due_date: date
    next_start: date | None
    next_due: date | None
    next_interest: int
    next_fee: int
    oldest_unpaid_due: date | None


@dataclass(frozen=True, slots=True)
class AccrualUpdate:
    loan_id: int
    period: int
    accrued: int
    fee_recognised: bool
    interest_delta: int
    fee_delta: int
    cursor: int
    anchor_date: date | None
    anchor_accrued: int
    next_due_date: date | None
    oldest_unpaid_due: date | None
    rolled: bool
    cur_interest: int  # the accruing instalment after this day (the next one after a roll)
    cur_fee: int
    cur_accrued: int


def is_fast(
    day: date,
    processed_through: date | None,
    next_due_date: date | None,
    oldest_unpaid_due: date | None,
    suspense: int,
    dpd: int,
    grace_days: int,
) -> bool:
    """True when ``day`` brings the loan nothing but accrual (and possibly its due-date roll)."""
    return (
        processed_through is not None
        and processed_through == day - timedelta(days=1)
        and next_due_date is not None
        and next_due_date >= day
        and suspense == 0
        and dpd == 0
        and (oldest_unpaid_due is None or (day - oldest_unpaid_due).days <= grace_days)
    )


def accrue_batch(
    rows: Iterable[AccrualRow], day: date
) -> tuple[list[AccrualUpdate], JournalEntry | None]:
    """The changes for every fast loan and the chunk's balanced accrual entry."""
    updates: list[AccrualUpdate] = []
    lines: list[Line] = []
    interest_total = fee_total = 0
    for r in rows:
        target = accrued_through(r.interest, r.anchor_date, r.anchor_accrued, r.due_date, day)
        delta = target - r.accrued
        if delta:
            lines.append(Line("interest_receivable", delta, r.loan_id))
            interest_total += delta
        if r.due_date <= day:  # the instalment falls due today: recognise its fee, roll on
            fee = r.fee if not r.fee_recognised else 0
            if fee:
                lines.append(Line("fee_receivable", fee, r.loan_id))
                fee_total += fee
            update = AccrualUpdate(
                loan_id=r.loan_id,
                period=r.period,
                accrued=target,
                fee_recognised=True,
                interest_delta=delta,
                fee_delta=fee,
                cursor=r.period + 1,
                anchor_date=r.next_start,
                anchor_accrued=0,
                next_due_date=r.next_due,
                oldest_unpaid_due=r.oldest_unpaid_due or r.due_date,
                rolled=True,
                cur_interest=r.next_interest,
                cur_fee=r.next_fee,
                cur_accrued=0,
            )
        else:
            update = AccrualUpdate(
                loan_id=r.loan_id,
                period=r.period,
                accrued=target,
                fee_recognised=r.fee_recognised,
                interest_delta=delta,
                fee_delta=0,
                cursor=r.period,
                anchor_date=r.anchor_date,
                anchor_accrued=r.anchor_accrued,
                next_due_date=r.due_date,
                oldest_unpaid_due=r.oldest_unpaid_due,
                rolled=False,
                cur_interest=r.interest,
                cur_fee=r.fee,
                cur_accrued=target,
            )
        updates.append(update)
    if not lines:
        return updates, None
    if interest_total:
        lines.append(Line("interest_income", -interest_total))
    if fee_total:
        lines.append(Line("fee_income", -fee_total))
    return updates, JournalEntry(day, "eod-accrual", tuple(lines))
