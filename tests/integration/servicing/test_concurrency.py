"""Concurrent repayments: 8 threads post 1,000 repayments to 100 loans, 10% with a repeated
idempotency key. Totals are exact: nothing lost, nothing doubled."""

from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app import servicing
from xindai.bootstrap import Platform

LOANS = 100
COMMANDS = 1_000
DUPLICATE_SHARE = 0.10


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_concurrent_repayments_are_exact(platform: Platform) -> None:
    start, value_date = date(2026, 1, 15), date(2026, 2, 15)
    numbers = []
    for n in range(LOANS):
        view = servicing.open_loan(
            platform.uow,
            platform.products,
            servicing.OpenLoan(
                "consumer-instalment", 1_000_000, 12, "equal-installment", Decimal("0.12"), start
            ),
        )
        servicing.disburse(
            platform.uow, platform.products, view["number"], 1_000_000, start, f"disb-{n}"
        )
        numbers.append(view["number"])
    rng = random.Random(2026)
    unique = int(COMMANDS * (1 - DUPLICATE_SHARE))
    commands = [(f"pay-{i}", rng.choice(numbers), rng.randint(1, 60_000)) for i in range(unique)]
    commands += [rng.choice(commands[:unique]) for _ in range(COMMANDS - unique)]
    rng.shuffle(commands)

    def post(cmd: tuple[str, str, int]) -> dict[str, object]:
        key, number, amount = cmd
        return servicing.repay(platform.uow, platform.products, number, amount, value_date, key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, commands))

    firsts: dict[str, int] = defaultdict(int)
    for (key, _number, _amount), result in zip(commands, results, strict=True):
        if not result["replayed"]:
            firsts[key] += 1
    assert len(firsts) == unique and set(firsts.values()) == {1}, "each key applied exactly once"

    expected: dict[str, int] = defaultdict(int)
    for _key, number, amount in {c[0]: c for c in commands}.values():
        expected[number] += amount
    with platform.uow() as uow:
        tb = uow.journal.trial_balance()
        assert sum(tb.values()) == 0
        assert tb["cash"] == -LOANS * 1_000_000 + sum(expected.values())
        posted = uow.journal.loan_balances()
        for number in numbers:
            loan_id = uow.loans.id_for(number)
            loan = uow.loans.get(loan_id)
            paid = sum(i.paid_principal + i.paid_interest + i.paid_fee for i in loan.installments)
            assert paid + loan.penalty_paid + loan.suspense == expected[number]
            assert loan.balances() == {k: posted[loan_id].get(k, 0) for k in loan.balances()}
