"""The end-of-day fast path gives exactly what the per-loan path gives.

A demo book is built, then the same days are run on two copies: one with the fast path, one with
every loan through ``lifecycle.catch_up``. Loans, instalments and sub-ledgers must be identical."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from xindai.app.demo import seed_demo
from xindai.app.eod import run_eod
from xindai.app.servicing import repay, show_loan
from xindai.bootstrap import bootstrap, upgrade_database
from xindai.money.money import parse_yuan

UNTIL = date(2026, 5, 31)
LOANS = 30


def test_fast_path_matches_per_loan_path(tmp_path: Path) -> None:
    base = tmp_path / "base.db"
    upgrade_database(f"sqlite:///{base}")
    p = bootstrap(database_url=f"sqlite:///{base}")
    seed_demo(p.uow, p.products, loans=LOANS, seed=5, until=UNTIL)
    p.close()
    shutil.copy(base, tmp_path / "slow.db")
    fast = bootstrap(database_url=f"sqlite:///{base}")
    slow = bootstrap(database_url=f"sqlite:///{tmp_path / 'slow.db'}")
    used_fast = 0
    try:
        for offset in range(1, 50):
            day = UNTIL + timedelta(days=offset)
            for n in range(1, LOANS + 1):
                view = show_loan(fast.uow, str(n))
                due_yesterday = any(
                    i["due_date"] == str(day - timedelta(days=1)) for i in view["schedule"]
                )
                if (
                    view["status"] == "active"
                    and due_yesterday
                    and n % 4
                    and view["due_now"] != "0.00"
                ):
                    # most borrowers pay the day after the due date (inside the grace days)
                    amount = parse_yuan(view["due_now"])
                    for book in (fast, slow):
                        repay(book.uow, book.products, str(n), amount, day, f"pay-{n}-{day}")
            used_fast += run_eod(fast.uow, fast.products, day, chunk_size=7).fast
            assert run_eod(slow.uow, slow.products, day, chunk_size=7, fast_path=False).fast == 0
        assert used_fast > 200, "the fast path was exercised"
        for n in range(1, LOANS + 1):
            a, b = show_loan(fast.uow, str(n)), show_loan(slow.uow, str(n))
            assert a == b
        with fast.uow() as ua, slow.uow() as ub:
            assert ua.journal.trial_balance() == ub.journal.trial_balance()
            assert ua.journal.loan_balances() == ub.journal.loan_balances()
            for n in range(1, LOANS + 1):
                loan = ua.loans.get(n)
                assert loan.balances() == {
                    k: ua.journal.loan_balances().get(n, {}).get(k, 0) for k in loan.balances()
                }
    finally:
        fast.close()
        slow.close()
