"""Repayment schedules exact to the fen: build one, and rebuild it after a draw or a prepayment.

Methods (DOMAIN_RULES §3): 等额本息 ``equal-installment``, 等额本金 ``equal-principal``, 先息后本
``interest-only``, 到期一次还本付息 ``bullet`` and the BNPL ``flat-fee`` plan (equal principal plus a
fee on the original principal each period, no interest).

Invariants of every schedule built here:

* amounts are integer fen, never negative; rounding happens once per amount, under
  ``ScheduleTerms.rounding``;
* principal parts sum to the principal exactly — the last instalment absorbs every residue — and the
  balance after each instalment never rises and ends at 0;
* after ``rebalance`` the principal parts of the periods from the rebuilt period on sum to the new
  balance exactly (periods before it are returned unchanged).

Interest (exact choices, documented in docs/guide/schedules-and-apr.md):

* monthly periods use ``r = annual / 12`` exactly (a ``Fraction``); interest_k = round(B_{k-1} × ρ_k)
  where ρ_k = r for a regular period;
* an irregular period (a first due date that is not one month after the start, or a bullet spanning
  the whole term) uses ρ = r × ``period_months(start, due)``: the whole months counted back from the
  due date plus a stub, the stub being days(start, boundary) / days(boundary − 1 month, boundary)
  under the day count — for a short first period this is days(start, first_due) /
  days(first_due − 1 month, first_due);
* ``daily_interest=True``: ρ_k = annual × days(start_k, due_k) / year_days under the day count.

The hot path works on plain integers (rates as numerator/denominator pairs cached per rate and term)
because schedules are rebuilt in bulk; results are identical to the exact ``Fraction`` formulas.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import TypeAlias, TypeVar

from xindai.kernel.errors import ValidationError
from xindai.kernel.findings import Finding, raise_if_errors
from xindai.money.daycount import DayCount, days_between
from xindai.money.rounding import Rounding, div_round

MAX_TERM = 600
"""Longest schedule accepted, in monthly periods (50 years); longer terms are surely a typo."""

_E = TypeVar("_E", bound=StrEnum)

MAX_ANNUAL_RATE = Decimal(10)
MAX_MONTHLY_FEE_RATE = Decimal(1)


class RepaymentMethod(StrEnum):
    EQUAL_INSTALLMENT = "equal-installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_ONLY = "interest-only"  # 先息后本
    BULLET = "bullet"  # 到期一次还本付息
    FLAT_FEE = "flat-fee"  # BNPL: equal principal + fee on the original principal, zero interest


class PrepaymentMode(StrEnum):
    REDUCE_TERM = "reduce-term"  # keep the instalment, fewer periods
    REDUCE_INSTALLMENT = "reduce-installment"  # keep the term, smaller instalments


def _coerce_enum(cls: type[_E], value: object, field: str) -> _E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    choices = ", ".join(m.value for m in cls)
    raise ValidationError(field, f"unknown {field} {value!r}; expected one of {choices}")


def _check_rate(value: object, field: str, ceiling: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValidationError(field, f"must be a Decimal, not {type(value).__name__}")
    rate = Decimal(value)
    if not rate.is_finite():
        raise ValidationError(field, "must be finite")
    if rate < 0:
        raise ValidationError(field, "must not be negative")
    if rate > ceiling:
        raise ValidationError(field, f"{rate} is above {ceiling} (rates are fractions: 0.12 = 12%)")
    return rate


@dataclass(frozen=True, slots=True)
class ScheduleTerms:
    """How a schedule is priced. Validated on construction (``ValidationError`` naming the field).

    ``method``, ``day_count`` and ``rounding`` may be given as their string values.
    """

    annual_rate: Decimal
    method: RepaymentMethod
    monthly_fee_rate: Decimal = Decimal(0)  # periodic fee, on fee_base (original principal)
    day_count: DayCount = DayCount.ACT_360
    daily_interest: bool = False  # True: interest = balance × annual × days / year_days
    rounding: Rounding = Rounding.HALF_UP

    def __post_init__(self) -> None:
        # frozen: coerce through object.__setattr__ so callers may pass plain strings from data files
        object.__setattr__(
            self, "annual_rate", _check_rate(self.annual_rate, "annual_rate", MAX_ANNUAL_RATE)
        )
        object.__setattr__(
            self,
            "monthly_fee_rate",
            _check_rate(self.monthly_fee_rate, "monthly_fee_rate", MAX_MONTHLY_FEE_RATE),
        )
        object.__setattr__(self, "method", _coerce_enum(RepaymentMethod, self.method, "method"))
        object.__setattr__(self, "day_count", _coerce_enum(DayCount, self.day_count, "day_count"))
        object.__setattr__(self, "rounding", _coerce_enum(Rounding, self.rounding, "rounding"))
        if not isinstance(self.daily_interest, bool):
            raise ValidationError("daily_interest", "must be true or false")


@dataclass(frozen=True, slots=True)
class Installment:
    """One period: what falls due on ``due_date`` and the principal balance left after paying it."""

    period: int
    start_date: date
    due_date: date
    principal: int
    interest: int
    fee: int
    balance_after: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee

    @property
    def balance_before(self) -> int:
        """Principal outstanding during the period (after any draw or prepayment priced into it)."""
        return self.balance_after + self.principal


# The engine builds millions of instalments in a batch; the frozen-dataclass __init__ costs
# ~1.7 µs each (one object.__setattr__ per field). Writing the slots directly gives the very same
# object (equal, hashable, still frozen) at a third of the cost. Outside the engine, use the class.
_new_object = object.__new__
_SLOT_SETTERS = tuple(
    getattr(Installment, name).__set__
    for name in (
        "period",
        "start_date",
        "due_date",
        "principal",
        "interest",
        "fee",
        "balance_after",
    )
)


def _installment(
    period: int, start: date, due: date, principal: int, interest: int, fee: int, balance: int
) -> Installment:
    inst: Installment = _new_object(Installment)
    s_period, s_start, s_due, s_principal, s_interest, s_fee, s_balance = _SLOT_SETTERS
    s_period(inst, period)
    s_start(inst, start)
    s_due(inst, due)
    s_principal(inst, principal)
    s_interest(inst, interest)
    s_fee(inst, fee)
    s_balance(inst, balance)
    return inst


@dataclass(frozen=True, slots=True)
class Schedule:
    """An ordered, immutable list of instalments (periods numbered from 1)."""

    installments: tuple[Installment, ...]

    @property
    def total_principal(self) -> int:
        return sum(i.principal for i in self.installments)

    @property
    def total_interest(self) -> int:
        return sum(i.interest for i in self.installments)

    @property
    def total_fees(self) -> int:
        return sum(i.fee for i in self.installments)

    @property
    def total(self) -> int:
        return sum(i.total for i in self.installments)


# -- dates ------------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the end of the target month."""
    y, m0 = divmod(day.month - 1 + months, 12)
    year = day.year + y
    month = m0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=8192)
def _due_dates(start: date, term: int, first_due: date | None) -> tuple[date, ...]:
    # Anchored on one day (not chained) so that Jan 31 → Feb 28 → Mar 31, never → Mar 28.
    if first_due is None:
        return tuple(add_months(start, k) for k in range(1, term + 1))
    return tuple(add_months(first_due, k) for k in range(term))


def monthly_due_dates(
    start_date: date, term: int, first_due_date: date | None = None
) -> list[date]:
    """Due dates of ``term`` monthly periods.

    Same day of month as ``start_date`` (clamped to the month end: Jan 31 → Feb 28 → Mar 31), or
    from ``first_due_date`` on, on that date's day of month.
    """
    raise_if_errors(_validate_dates(start_date, term, first_due_date))
    return list(_due_dates(start_date, term, first_due_date))


@lru_cache(maxsize=8192)
def period_months(start: date, due: date, day_count: DayCount = DayCount.ACT_360) -> Fraction:
    """Length of the period ``start``–``due`` in months: whole months counted back from ``due``
    plus a stub of days(start, boundary) / days(boundary − 1 month, boundary) under ``day_count``.

    Exactly ``m`` when ``due`` is ``m`` calendar months after ``start`` (with month-end clamping).
    """
    if due <= start:
        raise ValidationError("due_date", "must be after the period start")
    m0 = (due.year - start.year) * 12 + due.month - start.month
    if add_months(start, m0) == due:
        return Fraction(m0)
    m = m0
    while m > 0 and add_months(due, -m) < start:
        m -= 1
    boundary = add_months(due, -m)
    if boundary == start:
        return Fraction(m)
    previous = add_months(due, -(m + 1))
    return m + Fraction(
        days_between(start, boundary, day_count), days_between(previous, boundary, day_count)
    )


# -- validation -------------------------------------------------------------------------------------


def _is_date(value: object) -> bool:
    # datetime is a subclass of date; a timestamp where a business date is expected is a bug
    return isinstance(value, date) and not isinstance(value, datetime)


def _validate_dates(start_date: object, term: object, first_due_date: object) -> list[Finding]:
    findings: list[Finding] = []
    if isinstance(term, bool) or not isinstance(term, int):
        findings.append(Finding("term", f"must be an integer number of months, got {term!r}"))
    elif term <= 0:
        findings.append(Finding("term", "must be at least 1 month"))
    elif term > MAX_TERM:
        findings.append(Finding("term", f"must be at most {MAX_TERM} months"))
    if not _is_date(start_date):
        findings.append(Finding("start_date", f"must be a date (YYYY-MM-DD), got {start_date!r}"))
    elif start_date.year > 9000:  # type: ignore[attr-defined]
        findings.append(Finding("start_date", "is out of range"))
    if first_due_date is not None:
        if not _is_date(first_due_date):
            findings.append(
                Finding("first_due_date", f"must be a date (YYYY-MM-DD), got {first_due_date!r}")
            )
        elif _is_date(start_date):
            assert isinstance(start_date, date) and isinstance(first_due_date, date)
            if first_due_date <= start_date:
                findings.append(Finding("first_due_date", "must be after start_date"))
            elif start_date.year <= 9000 and first_due_date > add_months(start_date, 2):
                findings.append(
                    Finding("first_due_date", "must be at most two months after start_date")
                )
    return findings


def _validate_amount(value: object, field: str, *, allow_zero: bool) -> list[Finding]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [Finding(field, f"must be an integer number of fen, got {type(value).__name__}")]
    if value < 0 or (value == 0 and not allow_zero):
        return [Finding(field, "must be positive" if not allow_zero else "must not be negative")]
    return []


def validate_schedule_request(
    *,
    principal: object,
    term: object,
    terms: object,
    start_date: object,
    first_due_date: object = None,
    fee_base: object = None,
) -> list[Finding]:
    """Every problem with a ``build_schedule`` request at once (empty list: the request is fine)."""
    findings = _validate_amount(principal, "principal", allow_zero=False)
    findings += _validate_dates(start_date, term, first_due_date)
    if not isinstance(terms, ScheduleTerms):
        findings.append(Finding("terms", "must be ScheduleTerms"))
    if fee_base is not None:
        findings += _validate_amount(fee_base, "fee_base", allow_zero=True)
    return findings


# -- integer rate arithmetic ------------------------------------------------------------------------

_Ratio: TypeAlias = tuple[
    int, int
]  # (numerator >= 0, denominator > 0); not reduced — only rounded once
_ZERO: _Ratio = (0, 1)


@lru_cache(maxsize=1024)
def _ratio(rate: Decimal) -> _Ratio:
    return rate.as_integer_ratio()


@lru_cache(maxsize=4096)
def _annuity_factor(annual: Decimal, n: int) -> _Ratio:
    """pmt / P = r(1+r)^n / ((1+r)^n − 1) with r = annual/12, as an integer ratio (r = 0: 1/n)."""
    a, b = _ratio(annual)
    if a == 0:
        return (1, n)
    big_r = 12 * b  # r = a / big_r, 1 + r = (big_r + a) / big_r
    grown = (big_r + a) ** n
    return (a * grown, big_r * (grown - big_r**n))


def _monthly_rho(terms: ScheduleTerms, months: Fraction) -> _Ratio:
    a, b = _ratio(terms.annual_rate)
    return (a * months.numerator, 12 * b * months.denominator)


def _daily_rho(terms: ScheduleTerms, start: date, end: date) -> _Ratio:
    a, b = _ratio(terms.annual_rate)
    return (a * days_between(start, end, terms.day_count), b * terms.day_count.year_days)


@lru_cache(maxsize=4096)
def _daily_rhos(
    annual: Decimal, day_count: DayCount, spans: tuple[tuple[date, date], ...]
) -> tuple[_Ratio, ...]:
    a, b = _ratio(annual)
    year = b * day_count.year_days
    return tuple((a * days_between(s, d, day_count), year) for s, d in spans)


def _period_rho(terms: ScheduleTerms, start: date, due: date, regular: bool) -> _Ratio:
    """ρ for one period: the factor that turns the balance into the period's full interest."""
    if terms.method is RepaymentMethod.FLAT_FEE:
        return _ZERO
    if terms.daily_interest:
        return _daily_rho(terms, start, due)
    if regular:
        a, b = _ratio(terms.annual_rate)
        return (a, 12 * b)
    return _monthly_rho(terms, period_months(start, due, terms.day_count))


def _round(num: int, den: int, rounding: Rounding) -> int:
    return div_round(num, den, rounding) if num else 0


def _fee_for(terms: ScheduleTerms, fee_base: int, months: Fraction = Fraction(1)) -> int:
    if not fee_base or not terms.monthly_fee_rate:
        return 0
    a, b = _ratio(terms.monthly_fee_rate)
    return _round(fee_base * a * months.numerator, b * months.denominator, terms.rounding)


# -- the amortisation engine ------------------------------------------------------------------------


def _amortize(
    *,
    terms: ScheduleTerms,
    balance: int,
    spans: Sequence[tuple[date, date]],
    rhos: Sequence[_Ratio],
    fees: Sequence[int],
    first_number: int,
    payment: int | None,
    step: int | None,
    stop_when_repaid: bool,
) -> list[Installment]:
    """Lay ``balance`` out over ``spans``.

    ``payment`` (等额本息): principal = payment − interest; ``step`` (equal principal, flat fee):
    principal = step; neither (interest-only, bullet): all principal in the last period. Each
    principal part is clamped to [0, balance] and the last period takes whatever is left, so the
    parts always sum to ``balance``. ``stop_when_repaid`` drops the periods after the balance
    reaches 0 (reduce-term rebuilds).
    """
    rounding = terms.rounding
    half_up = rounding is Rounding.HALF_UP
    annuity = payment is not None
    # principal before the last period: payment − interest (annuity), step, or 0 (interest-only)
    fixed = payment if payment is not None else (step if step is not None else 0)
    out: list[Installment] = []
    append = out.append
    bal = balance
    last = len(spans) - 1
    for i, ((start, due), (num, den), fee) in enumerate(zip(spans, rhos, fees, strict=False)):
        if not (bal and num):
            interest = 0
        elif half_up:  # div_round's half-up branch, inlined: this loop is the hot path
            interest = (2 * bal * num + den) // (2 * den)
        else:
            interest = div_round(bal * num, den, rounding)
        if i == last:
            p = bal
        else:
            p = fixed - interest if annuity else fixed
            if p < 0:
                p = 0
            elif p > bal:
                p = bal
        bal -= p
        append(_installment(first_number + i, start, due, p, interest, fee, bal))
        if stop_when_repaid and bal == 0:
            break
    return out


@lru_cache(maxsize=8192)
def _spans(start_date: date, dues: tuple[date, ...]) -> tuple[tuple[date, date], ...]:
    starts = (start_date, *dues[:-1])
    return tuple(zip(starts, dues, strict=True))


def build_schedule(
    *,
    principal: int,
    term: int,
    terms: ScheduleTerms,
    start_date: date,
    first_due_date: date | None = None,
    fee_base: int | None = None,
) -> Schedule:
    """Build the schedule of a loan of ``principal`` fen over ``term`` monthly periods.

    ``fee_base`` (default: the principal) is what ``terms.monthly_fee_rate`` applies to every
    period. A bullet has one instalment, due at the end of the term, carrying all principal, all
    interest and the fee for every month. Raises ``ValidationError`` naming the bad field.
    """
    raise_if_errors(
        validate_schedule_request(
            principal=principal,
            term=term,
            terms=terms,
            start_date=start_date,
            first_due_date=first_due_date,
            fee_base=fee_base,
        )
    )
    base = principal if fee_base is None else fee_base
    dues = _due_dates(start_date, term, first_due_date)
    spans: Sequence[tuple[date, date]]
    if terms.method is RepaymentMethod.BULLET:
        due = dues[-1]
        spans = ((start_date, due),)
        rhos = [_period_rho(terms, start_date, due, regular=False)]
        fees = [_fee_for(terms, base, period_months(start_date, due, terms.day_count))]
    else:
        spans = _spans(start_date, dues)
        rhos = _rhos_for(terms, spans, first_is_regular=first_due_date is None)
        fees = [_fee_for(terms, base)] * term
    payment, step = _plan(terms, principal, term)
    installments = _amortize(
        terms=terms,
        balance=principal,
        spans=spans,
        rhos=rhos,
        fees=fees,
        first_number=1,
        payment=payment,
        step=step,
        stop_when_repaid=False,
    )
    return Schedule(tuple(installments))


def _rhos_for(
    terms: ScheduleTerms, spans: Sequence[tuple[date, date]], *, first_is_regular: bool
) -> list[_Ratio]:
    if terms.method is RepaymentMethod.FLAT_FEE:
        return [_ZERO] * len(spans)
    if terms.daily_interest:
        return list(_daily_rhos(terms.annual_rate, terms.day_count, tuple(spans)))
    a, b = _ratio(terms.annual_rate)
    regular: _Ratio = (a, 12 * b)
    rhos = [regular] * len(spans)
    if not first_is_regular:
        start, due = spans[0]
        rhos[0] = _period_rho(terms, start, due, regular=False)
    return rhos


def _plan(terms: ScheduleTerms, balance: int, periods: int) -> tuple[int | None, int | None]:
    """(payment, step) for laying ``balance`` out over ``periods`` by ``terms.method``."""
    method = terms.method
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        num, den = _annuity_factor(terms.annual_rate, periods)
        return _round(balance * num, den, terms.rounding), None
    if method in (RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.FLAT_FEE):
        return None, _round(balance, periods, terms.rounding)
    return None, None


# -- rebuilding after a draw or a prepayment --------------------------------------------------------


def _locate(schedule: Schedule, on: date) -> int:
    """Index (0-based) of the period with start_date <= on < due_date."""
    items = schedule.installments
    if on < items[0].start_date:
        raise ValidationError("on", f"{on} is before the schedule starts ({items[0].start_date})")
    for idx, inst in enumerate(items):
        if inst.start_date <= on < inst.due_date:
            return idx
    raise ValidationError(
        "on", f"{on} is on or after the last due date ({items[-1].due_date}); nothing to rebuild"
    )


def rebalance(
    schedule: Schedule,
    *,
    terms: ScheduleTerms,
    on: date,
    new_balance: int,
    mode: PrepaymentMode = PrepaymentMode.REDUCE_INSTALLMENT,
    fee_base: int | None = None,
) -> Schedule:
    """Rebuild ``schedule`` from the period containing ``on`` for a principal of ``new_balance``.

    Let k be the period with start ≤ on < due (on a due date: the next period). Periods before k
    are returned unchanged. With B_old the balance held during period k, period k's interest is
    round(B_old·ρ·elapsed) + round(B_new·ρ·remaining) — interest accrues only on principal
    actually held (``daily_interest``: the day-count days of each part). Principal from k on is
    rebuilt by the method on B_new over the remaining periods (``REDUCE_INSTALLMENT``) or, with
    ``REDUCE_TERM``, keeps the previous instalment (equal-installment) or principal part (equal
    principal, flat fee) and drops the periods no longer needed; the last period kept absorbs any
    residue (interest-only and bullet have nothing to shorten: both modes agree).

    ``new_balance == 0`` (full early repayment): period k alone remains, due on ``on``, carrying
    only the interest and the fee for the part of the period actually used (Civil Code 677).

    A second rebalance inside the same period keeps the interest already priced for the earlier
    part of the period: elapsed = (period k's interest) − round(B_old·ρ·remaining).

    ``fee_base`` defaults to the larger of the schedule's total principal and the principal lent
    so far including this change (a draw raises the base; a prepayment does not lower it).
    """
    if not isinstance(schedule, Schedule) or not schedule.installments:
        raise ValidationError("schedule", "must be a non-empty Schedule")
    if not isinstance(terms, ScheduleTerms):
        raise ValidationError("terms", "must be ScheduleTerms")
    if not _is_date(on):
        raise ValidationError("on", f"must be a date (YYYY-MM-DD), got {on!r}")
    raise_if_errors(_validate_amount(new_balance, "new_balance", allow_zero=True))
    if fee_base is not None:
        raise_if_errors(_validate_amount(fee_base, "fee_base", allow_zero=True))
    if not isinstance(mode, PrepaymentMode):
        mode = _coerce_enum(PrepaymentMode, mode, "mode")

    items = schedule.installments
    k = _locate(schedule, on)
    before = items[:k]
    cur = items[k]
    b_old = cur.balance_before
    b_new = new_balance
    rounding = terms.rounding
    start, due = cur.start_date, cur.due_date
    # only the first period can be irregular (a stub, or a bullet spanning the term)
    rho = _period_rho(terms, start, due, regular=k > 0)

    # the two parts of period k's interest: before `on` on B_old, from `on` on B_new
    if terms.daily_interest and terms.method is not RepaymentMethod.FLAT_FEE:
        el = _daily_rho(terms, start, on)
        rem = _daily_rho(terms, on, due)
    else:
        length = (due - start).days
        el = (rho[0] * (on - start).days, rho[1] * length)
        rem = (rho[0] * (due - on).days, rho[1] * length)
    fresh = cur.interest == _round(b_old * rho[0], rho[1], rounding)
    if fresh:
        elapsed_interest = _round(b_old * el[0], el[1], rounding)
    else:
        elapsed_interest = max(0, cur.interest - _round(b_old * rem[0], rem[1], rounding))

    if b_new == 0:
        used = Fraction((on - start).days, (due - start).days)
        closing = Installment(
            cur.period,
            start,
            on,
            0,
            elapsed_interest,
            _round(cur.fee * used.numerator, used.denominator, rounding),
            0,
        )
        return Schedule((*before, closing))

    lent_before = sum(i.principal for i in before)
    base = fee_base if fee_base is not None else max(schedule.total_principal, lent_before + b_new)
    rest = items[k:]
    spans = [(i.start_date, i.due_date) for i in rest]
    m = len(spans)
    if terms.method is RepaymentMethod.BULLET:
        fees = [_fee_for(terms, base, period_months(start, due, terms.day_count))]
    else:
        fees = [_fee_for(terms, base)] * m
    rhos = [rho] + [_period_rho(terms, s, d, regular=True) for s, d in spans[1:]]

    payment, step = _plan(terms, b_new, m)
    if mode is PrepaymentMode.REDUCE_TERM and m > 1:
        if terms.method is RepaymentMethod.EQUAL_INSTALLMENT:
            # the instalment in force: period k's principal plus its standard interest on B_old
            payment = cur.principal + _round(b_old * rho[0], rho[1], rounding)
        elif step is not None:
            step = cur.principal
    rebuilt = _amortize(
        terms=terms,
        balance=b_new,
        spans=spans,
        rhos=rhos,
        fees=fees,
        first_number=cur.period,
        payment=payment,
        step=step,
        stop_when_repaid=mode is PrepaymentMode.REDUCE_TERM,
    )
    head = rebuilt[0]
    interest_k = elapsed_interest + _round(b_new * rem[0], rem[1], rounding)
    rebuilt[0] = Installment(
        head.period,
        head.start_date,
        head.due_date,
        head.principal,
        interest_k,
        head.fee,
        head.balance_after,
    )
    return Schedule((*before, *rebuilt))
