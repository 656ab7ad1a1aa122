"""Loan lifecycle commands: disburse (single or tranche), end-of-day step, repay, prepay, write off.

Every command mutates the ``Loan`` aggregate and returns the balanced ``JournalEntry`` objects that
record the money it moved; the use case persists both in one transaction. Commands validate first
and change nothing when they refuse (a ``ValidationError`` naming the field, or a ``ConflictError``
when the loan's state forbids the command).

Conventions (documented in docs/guide/servicing.md):
* Business dates are processed "end of day": ``run_day(d)`` accrues the interest of day ``d``,
  makes instalments due on ``d`` payable, marks overdue after the grace days, charges penalty
  interest on overdue principal, and writes off at the product's DPD. A payment value-dated ``d``
  is applied after ``d`` has been run (the use case catches the loan up first).
* Payments cover what is due in the product's allocation order (default penalty → fees → interest
  → principal), each component oldest instalment first; anything left is held in suspense and
  applied automatically on the next due date.
* A tranche draw or a partial prepayment inside a period re-amortises the rest of the schedule
  from that date; interest for the period is what accrued on the old balance plus the new balance's
  share of the remaining days — interest accrues only on principal actually held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from xindai.accounting.journal import JournalEntry, Line, credit, debit
from xindai.kernel.errors import ConflictError, ValidationError
from xindai.money.money import require_positive_fen
from xindai.money.rounding import round_fen
from xindai.products.loan_product import LoanProduct
from xindai.servicing.accrual import accrued_through, penalty_micro, post_penalty, rate_parts
from xindai.servicing.loan import InstallmentState, Loan, LoanStatus
from xindai.servicing.schedule import (
    Installment,
    PrepaymentMode,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    build_schedule,
    rebalance,
)

_RECEIVABLE = {
    "principal": "principal_receivable",
    "interest": "interest_receivable",
    "fee": "fee_receivable",
    "penalty": "penalty_receivable",
}


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was applied, in fen per component (and what went to suspense)."""

    penalty: int = 0
    fee: int = 0
    interest: int = 0
    principal: int = 0
    suspense: int = 0
    prepayment_fee: int = 0
    prepaid_principal: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


# ------------------------------------------------------------------------------------------------
# helpers


def schedule_terms(loan: Loan, product: LoanProduct) -> ScheduleTerms:
    return ScheduleTerms(
        annual_rate=loan.annual_rate,
        method=RepaymentMethod(loan.method),
        monthly_fee_rate=product.monthly_fee_rate,
        day_count=product.day_count,
        daily_interest=product.daily_interest,
    )


def penalty_rate(loan: Loan, product: LoanProduct) -> Decimal:
    """Contract rate plus the product's uplift, never above the all-in cap (DOMAIN_RULES §3)."""
    return min(loan.annual_rate * (1 + product.penalty_uplift), product.all_in_cap)


def _period_share(loan: Loan, product: LoanProduct, inst: InstallmentState, on: date) -> Fraction:
    """The interest rate for the days (on, due] of ``inst``'s period, as an exact fraction."""
    remaining = (inst.due_date - on).days
    if product.daily_interest:
        return Fraction(loan.annual_rate) * remaining / product.day_count.year_days
    span = (inst.due_date - inst.start_date).days
    return Fraction(loan.annual_rate) / 12 * Fraction(remaining, span)


def _to_states(schedule: Schedule) -> list[InstallmentState]:
    return [
        InstallmentState(i.period, i.start_date, i.due_date, i.principal, i.interest, i.fee)
        for i in schedule.installments
    ]


def _as_schedule(loan: Loan) -> Schedule:
    balance = loan.disbursed
    out = []
    for i in loan.installments:
        balance -= i.principal
        out.append(
            Installment(
                period=i.period,
                start_date=i.start_date,
                due_date=i.due_date,
                principal=i.principal,
                interest=i.interest,
                fee=i.fee,
                balance_after=balance,
            )
        )
    return Schedule(tuple(out))


def _entry(loan: Loan, on: date, kind: str, lines: list[Line], memo: str = "") -> JournalEntry:
    return JournalEntry.of(on, kind, lines, loan_id=loan.id, memo=memo)


# ------------------------------------------------------------------------------------------------
# disbursement


def disburse(loan: Loan, product: LoanProduct, on: date, amount: int) -> JournalEntry:
    """Pay out the loan, or draw one more tranche of a multi-tranche line, on ``on``.

    The first draw builds the schedule from ``on``; a later draw re-amortises from ``on`` so that
    interest accrues only on principal actually disbursed. The caller must have run the loan
    through ``on`` (``catch_up``) before a later draw.
    """
    require_positive_fen(amount, "amount")
    if loan.status in (LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF):
        raise ConflictError(f"loan {loan.number} is {loan.status.value}; nothing can be disbursed")
    if loan.status is LoanStatus.ACTIVE and not product.multi_tranche:
        raise ConflictError(f"product {product.code} does not allow further tranches")
    if loan.disbursed + amount > loan.line_amount:
        raise ValidationError(
            "amount",
            f"draw of {amount} fen would exceed the line: {loan.line_amount - loan.disbursed} fen left",
        )
    if on < loan.start_date:
        raise ValidationError("on", f"{on} is before the contract start {loan.start_date}")
    if loan.status is LoanStatus.CONTRACTED:
        schedule = build_schedule(
            principal=amount,
            term=loan.term,
            terms=schedule_terms(loan, product),
            start_date=on,
            first_due_date=loan.first_due_date,
            fee_base=amount,
        )
        loan.installments = _to_states(schedule)
        loan.disbursed = amount
        loan.status = LoanStatus.ACTIVE
        loan.cursor = 1
        loan.anchor_date = on
        loan.anchor_accrued = 0
        loan.processed_through = on
    else:
        if loan.processed_through != on:
            raise ConflictError("the loan must be run through the draw date before a tranche")
        inst = loan.current_installment()
        if inst is None or on >= loan.installments[-1].due_date:
            raise ValidationError("on", "a tranche cannot be drawn on or after the line's maturity")
        old = loan.future_principal()
        loan.disbursed += amount
        _rebuild_from(loan, product, on, old + amount, PrepaymentMode.REDUCE_INSTALLMENT)
    loan.check()
    return _entry(
        loan,
        on,
        "disbursement",
        [debit("principal_receivable", amount, loan.id), credit("cash", amount)],
        memo=f"tranche {amount} fen",
    )


def _rebuild_from(
    loan: Loan, product: LoanProduct, on: date, new_balance: int, mode: PrepaymentMode
) -> None:
    """Re-amortise the schedule from the period containing ``on`` on ``new_balance``.

    Period k keeps what it has accrued and paid; its interest becomes accrued-so-far plus the new
    balance's share of the remaining days; later periods come from ``schedule.rebalance``.
    """
    inst = loan.current_installment()
    assert inst is not None
    rebuilt = rebalance(
        _as_schedule(loan),
        terms=schedule_terms(loan, product),
        on=on,
        new_balance=new_balance,
        mode=mode,
        fee_base=loan.disbursed,
    )
    by_period = {i.period: i for i in rebuilt.installments}
    new_k = by_period.get(inst.period)
    keep = [i for i in loan.installments if i.period < inst.period]
    prepaid_in_k = inst.paid_principal  # principal settled inside period k by a prepayment
    inst.principal = prepaid_in_k + (new_k.principal if new_k else 0)
    inst.interest = inst.accrued_interest + round_fen(
        new_balance * _period_share(loan, product, inst, on)
    )
    if not inst.fee_recognised:
        # a fully repaid loan owes no fee for a period it did not complete
        inst.fee = new_k.fee if (new_k is not None and new_balance) else 0
    later = [_to_states(Schedule((i,)))[0] for i in rebuilt.installments if i.period > inst.period]
    loan.installments = [*keep, inst, *later] if new_balance else [*keep, inst]
    loan.anchor_date = on
    loan.anchor_accrued = inst.accrued_interest


# ------------------------------------------------------------------------------------------------
# end of day


def catch_up(loan: Loan, product: LoanProduct, through: date) -> list[JournalEntry]:
    """Run every business date after ``processed_through`` up to ``through``, one day at a time."""
    entries: list[JournalEntry] = []
    if loan.processed_through is None:
        return entries
    day = loan.processed_through + timedelta(days=1)
    while day <= through:
        entry = run_day(loan, product, day)
        if entry is not None:
            entries.append(entry)
        day += timedelta(days=1)
    return entries


def run_day(loan: Loan, product: LoanProduct, day: date) -> JournalEntry | None:
    """End of day for one loan and one business date. Idempotent: a processed date is skipped."""
    if loan.processed_through is not None and day <= loan.processed_through:
        return None
    if loan.processed_through is not None and day > loan.processed_through + timedelta(days=1):
        raise ConflictError(
            f"loan {loan.number} must be run through {day - timedelta(days=1)} first"
        )
    if loan.status is not LoanStatus.ACTIVE:
        loan.processed_through = day
        return None
    lid = loan.id
    lines: list[Line] = []
    # 1. accrue the current period's interest through `day`; roll to the next period on its due date
    inst = loan.current_installment()
    if inst is not None and loan.anchor_date is not None:
        target = accrued_through(
            inst.interest, loan.anchor_date, loan.anchor_accrued, inst.due_date, day
        )
        delta = target - inst.accrued_interest
        if delta:
            lines += [debit("interest_receivable", delta, lid), credit("interest_income", delta)]
            inst.accrued_interest = target
        if inst.due_date <= day:
            if inst.fee and not inst.fee_recognised:
                lines += [debit("fee_receivable", inst.fee, lid), credit("fee_income", inst.fee)]
            inst.fee_recognised = True
            loan.cursor += 1
            nxt = loan.current_installment()
            loan.anchor_date = nxt.start_date if nxt else None
            loan.anchor_accrued = 0
    # 2. cash held in suspense pays what has fallen due
    if loan.suspense and loan.due_installments(day):
        applied = _apply(loan, product, day, loan.suspense)
        used = loan.suspense - applied.suspense
        if used:
            lines.append(debit("suspense", used, lid))
            lines += _credit_lines(lid, applied)
            loan.suspense -= used
    # 3. overdue after grace: late fee once per instalment, penalty interest on overdue principal
    grace = product.grace_days
    overdue = [i for i in loan.due_installments(day) if (day - i.due_date).days > grace]
    for i in overdue:
        if product.late_fee and i.late_fee == 0 and (day - i.due_date).days == grace + 1:
            i.late_fee = product.late_fee
            lines += [debit("fee_receivable", i.late_fee, lid), credit("fee_income", i.late_fee)]
    overdue_principal = sum(i.unpaid_principal for i in overdue)
    if overdue_principal:
        num, den = rate_parts(penalty_rate(loan, product))
        micro = penalty_micro(overdue_principal, num, den, product.day_count.year_days)
        fen, loan.penalty_carry = post_penalty(loan.penalty_carry, micro)
        if fen:
            loan.penalty_charged += fen
            lines += [debit("penalty_receivable", fen, lid), credit("penalty_income", fen)]
    _refresh_delinquency(loan, product, day)
    # 4. write-off at the product's DPD
    if loan.dpd >= product.write_off_dpd:
        lines += _write_off(loan, product, day)
    else:
        lines += _close_if_settled(loan, day)
    loan.processed_through = day
    loan.check()
    return _entry(loan, day, "eod", lines) if lines else None


def _refresh_delinquency(loan: Loan, product: LoanProduct, day: date) -> None:
    oldest = loan.oldest_unpaid_due(day)
    late = (day - oldest).days if oldest else 0
    loan.dpd = late if late > product.grace_days else 0


# ------------------------------------------------------------------------------------------------
# payments


def _apply(loan: Loan, product: LoanProduct, on: date, amount: int) -> Allocation:
    """Apply ``amount`` to what is due on ``on`` in the product's order; the rest is suspense."""
    left = amount
    paid = dict.fromkeys(("penalty", "fee", "interest", "principal"), 0)
    due = loan.due_installments(on)
    for component in product.allocation_order:
        if left == 0:
            break
        if component == "penalty":
            take = min(left, loan.penalty_receivable)
            loan.penalty_paid += take
            paid["penalty"] += take
            left -= take
            continue
        for inst in due:
            if left == 0:
                break
            if component == "fee":
                take = min(left, inst.payable_fee)
                inst.paid_fee += take
            elif component == "interest":
                take = min(left, inst.accrued_interest - inst.paid_interest)
                inst.paid_interest += take
            else:
                take = min(left, inst.unpaid_principal)
                inst.paid_principal += take
            paid[component] += take
            left -= take
    return Allocation(suspense=left, **paid)


def _credit_lines(lid: int, a: Allocation) -> list[Line]:
    return [
        credit(_RECEIVABLE[c], getattr(a, c), lid)
        for c in ("penalty", "fee", "interest", "principal")
        if getattr(a, c)
    ]


def repay(
    loan: Loan, product: LoanProduct, on: date, amount: int
) -> tuple[Allocation, JournalEntry]:
    """Apply a repayment value-dated ``on`` (the loan must already be run through ``on``)."""
    require_positive_fen(amount, "amount")
    if loan.status is LoanStatus.CLOSED:
        raise ConflictError(f"loan {loan.number} is closed; a repayment cannot be applied")
    if loan.status is LoanStatus.CONTRACTED:
        raise ConflictError(f"loan {loan.number} has not been disbursed")
    if loan.processed_through is None or on < loan.processed_through:
        raise ValidationError(
            "on", f"value date {on} is before the last processed date {loan.processed_through}"
        )
    if on > loan.processed_through:
        raise ConflictError("the loan must be run through the value date first")
    lid = loan.id
    if loan.status is LoanStatus.WRITTEN_OFF:
        loan.recovered += amount
        entry = _entry(
            loan, on, "recovery", [debit("cash", amount), credit("write_off_expense", amount, lid)]
        )
        return Allocation(), entry
    allocation = _apply(loan, product, on, amount)
    loan.suspense += allocation.suspense
    lines = [debit("cash", amount), *_credit_lines(lid, allocation)]
    if allocation.suspense:
        lines.append(credit("suspense", allocation.suspense, lid))
    _refresh_delinquency(loan, product, on)
    lines += _close_if_settled(loan, on)
    loan.check()
    return allocation, _entry(loan, on, "repayment", lines)


def prepay(
    loan: Loan,
    product: LoanProduct,
    on: date,
    amount: int,
    mode: PrepaymentMode = PrepaymentMode.REDUCE_INSTALLMENT,
) -> tuple[Allocation, JournalEntry]:
    """Early repayment: settle what is due, then this period's accrued interest, then principal.

    Interest is charged only for the days actually used (Civil Code 677); the product's prepayment
    fee applies to the principal prepaid. Enough money settles the loan in full (and closes it);
    less re-amortises the rest per ``mode``. Money beyond a full settlement goes back to the borrower.
    """
    require_positive_fen(amount, "amount")
    if loan.status is not LoanStatus.ACTIVE:
        raise ConflictError(f"loan {loan.number} is {loan.status.value}; it cannot be prepaid")
    if loan.processed_through != on:
        raise ConflictError("the loan must be run through the prepayment date first")
    lid = loan.id
    due = _apply(loan, product, on, amount)
    left = due.suspense
    inst = loan.current_installment()
    lines: list[Line] = [debit("cash", amount)]
    interest_now = fee_now = principal_now = 0
    if left and inst is not None and not loan.due_installments(on):
        interest_now = min(left, inst.accrued_interest - inst.paid_interest)
        inst.paid_interest += interest_now
        left -= interest_now
        outstanding = loan.future_principal()
        fee_rate = Fraction(product.prepayment_fee_rate)
        full_fee = round_fen(outstanding * fee_rate)
        if left >= outstanding + full_fee:
            principal_now, fee_now = outstanding, full_fee
        else:
            principal_now = int(left / (1 + fee_rate))
            fee_now = round_fen(principal_now * fee_rate)
            while principal_now + fee_now > left:
                principal_now -= 1
                fee_now = round_fen(principal_now * fee_rate)
        left -= principal_now + fee_now
        if principal_now:
            inst.paid_principal += principal_now
            # the prepaid principal stays in period k (as paid); the rest is re-amortised
            _rebuild_from(loan, product, on, outstanding - principal_now, mode)
        if fee_now:
            inst.prepayment_fee += fee_now
            inst.paid_fee += fee_now
            lines += [debit("fee_receivable", fee_now, lid), credit("fee_income", fee_now)]
    allocation = Allocation(
        penalty=due.penalty,
        fee=due.fee + fee_now,
        interest=due.interest + interest_now,
        principal=due.principal + principal_now,
        suspense=left,
        prepayment_fee=fee_now,
        prepaid_principal=principal_now,
    )
    lines += _credit_lines(lid, allocation)
    if left:
        loan.suspense += left
        lines.append(credit("suspense", left, lid))
    _refresh_delinquency(loan, product, on)
    lines += _close_if_settled(loan, on)
    loan.check()
    return allocation, _entry(loan, on, "prepayment", lines)


def _close_if_settled(loan: Loan, on: date) -> list[Line]:
    """Close a loan with nothing left to pay; hand back any cash still held for the borrower."""
    if loan.status is not LoanStatus.ACTIVE or loan.principal_outstanding != 0:
        return []
    if any(not i.is_settled for i in loan.installments):
        return []
    if loan.interest_receivable or loan.fee_receivable or loan.penalty_receivable:
        return []
    lines: list[Line] = []
    if loan.suspense:
        lines = [debit("suspense", loan.suspense, loan.id), credit("cash", loan.suspense)]
        loan.suspense = 0
    if loan.penalty_carry:
        loan.penalty_carry = 0  # below one fen, never posted: nothing was charged
    loan.status = LoanStatus.CLOSED
    loan.closed_on = on
    loan.dpd = 0
    return lines


# ------------------------------------------------------------------------------------------------
# write-off


def _absorb_suspense(loan: Loan, product: LoanProduct, on: date) -> list[Line]:
    """Before a write-off, cash held for the borrower pays what it can: what is due, this
    period's accrued interest, then principal — so the loss written off is only what is unpaid."""
    if not loan.suspense:
        return []
    lid = loan.id
    due = _apply(loan, product, on, loan.suspense)
    left = due.suspense
    inst = loan.current_installment()
    interest = 0
    if left and inst is not None:
        interest = min(left, inst.accrued_interest - inst.paid_interest)
        inst.paid_interest += interest
        left -= interest
    principal = min(left, loan.principal_outstanding)
    _take_principal(loan, principal)
    left -= principal
    used = loan.suspense - left
    loan.suspense = left
    paid = Allocation(
        penalty=due.penalty,
        fee=due.fee,
        interest=due.interest + interest,
        principal=due.principal + principal,
    )
    return [debit("suspense", used, lid), *_credit_lines(lid, paid)]


def _write_off(loan: Loan, product: LoanProduct, on: date) -> list[Line]:
    """Write off whatever the borrower still owes after cash held for them is used."""
    lines = _absorb_suspense(loan, product, on)
    lines += _close_if_settled(loan, on)
    if loan.status is not LoanStatus.ACTIVE:
        return lines
    lid = loan.id
    parts = {
        "principal_receivable": loan.principal_outstanding,
        "interest_receivable": loan.interest_receivable,
        "fee_receivable": loan.fee_receivable,
        "penalty_receivable": loan.penalty_receivable,
    }
    loan.written_off_principal += parts["principal_receivable"]
    loan.written_off_interest += parts["interest_receivable"]
    loan.written_off_fee += parts["fee_receivable"]
    loan.written_off_penalty += parts["penalty_receivable"]
    total = sum(parts.values())
    if total:
        lines.append(debit("write_off_expense", total, lid))
        lines += [credit(acct, amt, lid) for acct, amt in parts.items() if amt]
    loan.status = LoanStatus.WRITTEN_OFF
    loan.penalty_carry = 0
    return lines


def _take_principal(loan: Loan, amount: int) -> None:
    """Apply ``amount`` to unpaid principal, oldest instalment first (used before a write-off)."""
    for inst in loan.installments:
        take = min(amount, inst.unpaid_principal)
        inst.paid_principal += take
        amount -= take
        if amount == 0:
            return
    assert amount == 0, "suspense exceeded the principal outstanding"


def write_off(loan: Loan, product: LoanProduct, on: date) -> JournalEntry:
    """Write the loan off now (an operator decision, before the product's automatic DPD)."""
    if loan.status is not LoanStatus.ACTIVE:
        raise ConflictError(
            f"loan {loan.number} is {loan.status.value}; only active loans are written off"
        )
    if loan.processed_through != on:
        raise ConflictError("the loan must be run through the write-off date first")
    lines = _write_off(loan, product, on)
    loan.check()
    return _entry(loan, on, "write-off", lines)


__all__ = [
    "Allocation",
    "catch_up",
    "disburse",
    "penalty_rate",
    "prepay",
    "repay",
    "run_day",
    "schedule_terms",
    "write_off",
]
