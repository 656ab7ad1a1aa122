"""Random operations over months: the books balance after every step, on SQLite and PostgreSQL.

Loans of every product are disbursed (supply-chain lines in tranches), repaid by random amounts on
random dates, prepaid in full or in part, written off, and run through end of day daily. After every
step the trial balance is zero and each loan's derived balances equal the sum of its postings.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app import servicing
from xindai.app.eod import run_eod
from xindai.bootstrap import Platform
from xindai.kernel.errors import ConflictError, ValidationError
from xindai.servicing.schedule import PrepaymentMode

PLANS = [
    ("consumer-instalment", "equal-installment", 12, "0.12", 1_000_000),
    ("consumer-instalment", "equal-principal", 6, "0.18", 300_000),
    ("bnpl-flat-fee", "flat-fee", 6, "0", 120_000),
    ("cash-bullet", "bullet", 3, "0.15", 500_000),
    ("supply-chain-line", "interest-only", 12, "0.06", 20_000_000),
    ("supply-chain-line", "equal-installment", 9, "0.08", 10_000_000),
]


def assert_books_balance(platform: Platform) -> None:
    with platform.uow() as uow:
        tb = uow.journal.trial_balance()
        assert sum(tb.values()) == 0, tb
        posted = uow.journal.loan_balances()
        for loan_id in range(1, len(PLANS) + 1):
            loan = uow.loans.get(loan_id)
            loan.check()
            derived = {k: v for k, v in loan.balances().items()}
            from_journal = {k: posted.get(loan_id, {}).get(k, 0) for k in derived}
            assert derived == from_journal, (loan.number, derived, from_journal)


def _run(platform: Platform, seed: int, days: int) -> None:
    rng = random.Random(seed)
    start = date(2026, 1, 10)
    numbers = []
    for code, method, term, rate, principal in PLANS:
        view = servicing.open_loan(
            platform.uow,
            platform.products,
            servicing.OpenLoan(code, principal, term, method, Decimal(rate), start),
        )
        numbers.append(view["number"])
    for n, (code, *_rest, principal) in enumerate(PLANS):
        first = principal // 4 if code == "supply-chain-line" else principal
        servicing.disburse(platform.uow, platform.products, numbers[n], first, start, f"d{n}")
    assert_books_balance(platform)
    day = start
    for step in range(days):
        day = start + timedelta(days=step + 1)
        for n, number in enumerate(numbers):
            roll = rng.random()
            key = f"s{seed}-{step}-{n}"
            try:
                if roll < 0.08:
                    amount = rng.randint(1, 400_000)
                    servicing.repay(platform.uow, platform.products, number, amount, day, key)
                elif roll < 0.09 and PLANS[n][0] == "supply-chain-line":
                    servicing.disburse(
                        platform.uow,
                        platform.products,
                        number,
                        rng.randint(1, PLANS[n][4] // 3),
                        day,
                        key,
                    )
                elif roll < 0.095:
                    mode = rng.choice(list(PrepaymentMode))
                    servicing.prepay(
                        platform.uow,
                        platform.products,
                        number,
                        rng.randint(1, 2_000_000),
                        day,
                        key,
                        mode,
                    )
                elif roll < 0.097:
                    servicing.write_off(platform.uow, platform.products, number, day, key)
                else:
                    continue
            except (ConflictError, ValidationError):
                pass  # refused commands (closed loan, line exhausted, ...) change nothing
            assert_books_balance(platform)
        run_eod(platform.uow, platform.products, day, chunk_size=4)
        assert_books_balance(platform)


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_random_operations_keep_the_books_balanced(platform: Platform) -> None:
    _run(platform, seed=11, days=200)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_operations_more_seeds_sqlite(platform: Platform, seed: int) -> None:
    _run(platform, seed=seed, days=300)
