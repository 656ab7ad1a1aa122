"""The loan lifecycle as pure domain: disbursement, accrual, allocation, overdue, penalty, buckets,
prepayment, tranches, write-off and close — every movement a balanced entry."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from xindai.accounting.journal import JournalEntry
from xindai.accounting.ledger import loan_balances, trial_balance
from xindai.kernel.errors import ConflictError, ValidationError
from xindai.products.loan_product import LoanProduct, load_catalogue
from xindai.servicing import lifecycle
from xindai.servicing.delinquency import Bucket, bucket_for
from xindai.servicing.loan import Loan, LoanStatus
from xindai.servicing.schedule import PrepaymentMode

CATALOGUE = load_catalogue()
START = date(2026, 1, 15)


def make_loan(
    code: str = "consumer-instalment",
    method: str = "equal-installment",
    principal: int = 1_000_000,
    rate: str = "0.12",
    term: int = 12,
) -> tuple[Loan, LoanProduct, list[JournalEntry]]:
    product = CATALOGUE[code]
    loan = Loan(
        id=1,
        number="L1",
        product_code=code,
        currency="CNY",
        annual_rate=Decimal(rate),
        method=method,
        term=term,
        start_date=START,
        line_amount=principal,
    )
    first = principal if not product.multi_tranche else principal // 4
    return loan, product, [lifecycle.disburse(loan, product, START, first)]


def run_to(loan: Loan, product: LoanProduct, day: date, journal: list[JournalEntry]) -> None:
    journal.extend(lifecycle.catch_up(loan, product, day))


def assert_books(loan: Loan, journal: list[JournalEntry]) -> None:
    lines = [ln for e in journal for ln in e.lines]
    assert sum(trial_balance(lines).values()) == 0
    posted = loan_balances(lines).get(loan.id, {})
    assert loan.balances() == {k: posted.get(k, 0) for k in loan.balances()}
    loan.check()


def test_accrual_reaches_the_scheduled_interest_on_the_due_date() -> None:
    loan, product, journal = make_loan()
    run_to(loan, product, date(2026, 2, 14), journal)
    first = loan.installments[0]
    assert 0 < first.accrued_interest < first.interest == 10_000
    run_to(loan, product, date(2026, 2, 15), journal)
    assert first.accrued_interest == first.interest and first.fee_recognised
    assert loan.cursor == 2 and loan.dpd == 0
    assert_books(loan, journal)


def test_repayment_allocates_penalty_fee_interest_principal_oldest_first() -> None:
    loan, product, journal = make_loan()
    run_to(loan, product, date(2026, 3, 25), journal)  # two instalments due, first 38 days late
    assert loan.dpd == 38 and loan.bucket is Bucket.M2
    assert loan.penalty_receivable > 0
    penalty = loan.penalty_receivable
    allocation, entry = lifecycle.repay(
        loan, product, date(2026, 3, 25), penalty + 10_000 + 9_212 + 100
    )
    journal.append(entry)
    assert allocation.penalty == penalty
    assert allocation.interest == 10_000 + 9_212  # both periods' interest before any principal
    assert allocation.principal == 100  # then principal of the oldest instalment
    assert loan.installments[0].paid_principal == 100 and loan.installments[1].paid_principal == 0
    assert loan.dpd == 38  # still overdue: principal of period 1 is unpaid
    assert_books(loan, journal)


def test_overpayment_waits_in_suspense_and_pays_the_next_due_date() -> None:
    loan, product, journal = make_loan()
    run_to(loan, product, date(2026, 2, 1), journal)
    allocation, entry = lifecycle.repay(loan, product, date(2026, 2, 1), 88_849)
    journal.append(entry)
    assert allocation.suspense == 88_849 and loan.suspense == 88_849
    run_to(loan, product, date(2026, 2, 15), journal)
    assert loan.suspense == 0 and loan.installments[0].is_settled
    assert_books(loan, journal)


def test_penalty_uses_the_uplifted_rate_capped_and_exact() -> None:
    loan, product, journal = make_loan()
    assert lifecycle.penalty_rate(loan, product) == Decimal("0.18")
    run_to(loan, product, date(2026, 2, 18), journal)  # grace 3 days: not overdue yet
    assert loan.dpd == 0 and loan.penalty_charged == 0
    run_to(loan, product, date(2026, 2, 19), journal)
    assert loan.dpd == 4
    # one day on the overdue principal 788.49 at 18%/360 = 0.394245 yuan: 39 fen posted, 0.4245 carried
    assert loan.penalty_charged == 39 and loan.penalty_carry == 424_500
    high = make_loan(rate="0.18")[0]
    assert lifecycle.penalty_rate(high, product) == Decimal("0.24")  # never above the all-in cap


def test_write_off_at_the_products_dpd_then_recovery() -> None:
    loan, product, journal = make_loan(
        code="cash-bullet", method="bullet", principal=500_000, rate="0.15", term=3
    )
    due = loan.installments[-1].due_date
    run_to(loan, product, due + timedelta(days=product.write_off_dpd), journal)
    assert loan.status is LoanStatus.WRITTEN_OFF and loan.written_off_principal == 500_000
    assert loan.balances()["principal_receivable"] == 0
    _alloc, entry = lifecycle.repay(loan, product, loan.processed_through or due, 10_000)
    journal.append(entry)
    assert loan.recovered == 10_000
    assert_books(loan, journal)


def test_full_prepayment_charges_interest_only_for_days_used_and_closes() -> None:
    loan, product, journal = make_loan()
    day = date(2026, 2, 25)  # 10 days into period 2
    run_to(loan, product, day, journal)
    _a, entry = lifecycle.repay(loan, product, day, 88_849)
    journal.append(entry)
    accrued = loan.installments[1].accrued_interest
    assert 0 < accrued < loan.installments[1].interest
    owed = loan.principal_outstanding + accrued
    allocation, entry = lifecycle.prepay(loan, product, day, owed + 500)
    journal.append(entry)
    assert allocation.prepaid_principal == 1_000_000 - 78_849  # all principal after period 1
    assert loan.status is LoanStatus.CLOSED
    assert loan.installments[-1].period == 2 and loan.installments[1].interest == accrued
    assert loan.suspense == 0  # the 5 yuan extra went back to the borrower
    assert_books(loan, journal)


@pytest.mark.parametrize("mode", list(PrepaymentMode))
def test_partial_prepayment_re_amortises(mode: PrepaymentMode) -> None:
    loan, product, journal = make_loan()
    day = date(2026, 2, 15)
    run_to(loan, product, day, journal)
    journal.append(lifecycle.repay(loan, product, day, 88_849)[1])
    before = [i.principal + i.interest for i in loan.installments[1:]]
    allocation, entry = lifecycle.prepay(loan, product, day, 300_000, mode)
    journal.append(entry)
    assert allocation.prepaid_principal == 300_000
    after = [i.principal + i.interest for i in loan.installments[2:]]
    if mode is PrepaymentMode.REDUCE_TERM:
        assert len(loan.installments) < 12
    else:
        assert len(loan.installments) == 12 and after[0] < before[1]
    assert sum(i.principal for i in loan.installments) == loan.disbursed
    assert_books(loan, journal)


def test_tranches_accrue_interest_only_on_drawn_principal() -> None:
    loan, product, journal = make_loan(
        code="supply-chain-line", method="interest-only", principal=20_000_000, rate="0.06"
    )
    assert loan.disbursed == 5_000_000
    # period 1: interest on 50,000 only
    assert loan.installments[0].interest == 25_000
    draw = date(2026, 3, 25)  # 10 days into period 3 (Mar 15 → Apr 15, 31 days)
    run_to(loan, product, draw, journal)
    journal.append(lifecycle.disburse(loan, product, draw, 8_000_000))
    third = loan.installments[2]
    # 50,000 for the whole period plus 80,000 for the 21 of 31 days left
    expected = 25_000 + round(8_000_000 * Decimal("0.06") / 12 * 21 / 31)
    assert abs(third.interest - expected) <= 1
    assert loan.installments[3].interest == 65_000  # 130,000 × 0.5%
    assert sum(i.principal for i in loan.installments) == 13_000_000
    with pytest.raises(ValidationError, match="exceed the line"):
        lifecycle.disburse(loan, product, draw, 7_000_001)
    assert_books(loan, journal)


def test_refusals_change_nothing() -> None:
    loan, product, _journal = make_loan()
    snapshot = repr(loan)
    with pytest.raises(ValidationError):
        lifecycle.repay(loan, product, START, 0)
    with pytest.raises(ValidationError):
        lifecycle.repay(loan, product, START, -5)
    with pytest.raises(ValidationError):
        lifecycle.repay(loan, product, START, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        lifecycle.disburse(loan, product, START, 100)  # not a multi-tranche product
    with pytest.raises(ConflictError):
        lifecycle.repay(loan, product, START + timedelta(days=3), 100)  # not run through that date
    assert repr(loan) == snapshot


def test_closed_loan_refuses_repayment() -> None:
    loan, product, journal = make_loan(principal=100_000, term=3)
    run_to(loan, product, START, journal)
    journal.append(lifecycle.prepay(loan, product, START, 100_000)[1])
    assert loan.status is LoanStatus.CLOSED
    with pytest.raises(ConflictError, match="closed"):
        lifecycle.repay(loan, product, START, 100)


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (90, "M3"), (91, "M3+")],
)
def test_buckets(dpd: int, bucket: str) -> None:
    assert bucket_for(dpd).value == bucket


def test_run_day_is_idempotent_and_refuses_gaps() -> None:
    loan, product, journal = make_loan()
    run_to(loan, product, date(2026, 1, 20), journal)
    assert lifecycle.run_day(loan, product, date(2026, 1, 20)) is None
    with pytest.raises(ConflictError):
        lifecycle.run_day(loan, product, date(2026, 1, 25))
