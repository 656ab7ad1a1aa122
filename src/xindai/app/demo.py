"""A clearly-synthetic demo loan book, seeded and reproducible.

Borrowers are simulated day by day over the products in the catalogue: most pay on their due
dates, some pay late, some stop paying (and are written off at the product's DPD), some prepay in
full or in part, and supply-chain lines draw their tranches by stage. Every movement goes through
the real use cases and end of day, so the book, the journal and the trial balance are real.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from xindai.app.eod import run_eod
from xindai.app.ports import UnitOfWorkFactory
from xindai.app.servicing import OpenLoan, Products, disburse, open_loan, prepay, repay, show_loan
from xindai.kernel.errors import ConflictError
from xindai.money.money import parse_yuan
from xindai.servicing.schedule import PrepaymentMode

SYNTHETIC_TAG = "demo-synthetic"


@dataclass
class _Borrower:
    ref: str
    number: str
    behaviour: str  # on-time | late | defaulter | prepay-full | prepay-part
    start: date
    tranches: list[tuple[date, int]]
    late_days: int
    stop_after: int  # defaulters stop paying after this many instalments
    prepay_on: date | None
    paid_periods: int = 0
    due_dates: tuple[date, ...] = ()


_PLANS = (
    ("consumer-instalment", "equal-installment", 12, "0.12", (5_000, 80_000)),
    ("consumer-instalment", "equal-principal", 6, "0.096", (2_000, 30_000)),
    ("bnpl-flat-fee", "flat-fee", 6, "0", (300, 6_000)),
    ("cash-bullet", "bullet", 3, "0.15", (1_000, 20_000)),
    ("supply-chain-line", "interest-only", 12, "0.06", (200_000, 200_000)),
)


def _behaviour(rng: random.Random) -> str:
    x = rng.random()
    if x < 0.62:
        return "on-time"
    if x < 0.74:
        return "late"
    if x < 0.82:
        return "defaulter"
    if x < 0.92:
        return "prepay-full"
    return "prepay-part"


def seed_demo(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    *,
    loans: int = 60,
    seed: int = 7,
    until: date = date(2026, 11, 27),
    if_empty: bool = False,
) -> dict[str, Any]:
    """Build the demo book up to ``until``; return counts by status."""
    if if_empty:
        with uow_factory() as uow:
            existing = uow.loans.count()
        if existing:
            return {
                "loans": 0,
                "skipped": f"the database already holds {existing} loans",
                "by_status": {},
            }
    rng = random.Random(seed)
    first_day = until - timedelta(days=420)
    borrowers: list[_Borrower] = []
    for n in range(loans):
        code, method, term, rate, (lo, hi) = _PLANS[n % len(_PLANS)]
        start = first_day + timedelta(days=rng.randrange(0, 390))
        amount = rng.randrange(lo, hi + 1, 100) if hi > lo else lo
        view = open_loan(
            uow_factory,
            products,
            OpenLoan(
                product_code=code,
                principal=parse_yuan(amount),
                term=term,
                method=method,
                annual_rate=Decimal(rate),
                start_date=start,
                borrower_ref=f"{SYNTHETIC_TAG}-{n:05d}",
            ),
        )
        if code == "supply-chain-line":  # sowing 50,000 · growing 80,000 · harvest 70,000
            tranches = [
                (start, parse_yuan(50_000)),
                (start + timedelta(days=70), parse_yuan(80_000)),
                (start + timedelta(days=170), parse_yuan(70_000)),
            ]
        else:
            tranches = [(start, parse_yuan(amount))]
        behaviour = _behaviour(rng)
        prepay_on = (
            start + timedelta(days=rng.randrange(40, 120))
            if behaviour.startswith("prepay")
            else None
        )
        borrowers.append(
            _Borrower(
                view["number"],
                view["number"],
                behaviour,
                start,
                tranches,
                rng.randrange(5, 40),
                rng.randrange(0, 3),
                prepay_on,
            )
        )
    day = first_day
    while day <= until:
        for b in borrowers:
            # a loan may close when end of day applies cash held for it: then there is nothing to pay
            with contextlib.suppress(ConflictError):
                _act(uow_factory, products, b, day)

        run_eod(uow_factory, products, day)
        day += timedelta(days=1)
    by_status: dict[str, int] = {}
    for b in borrowers:
        status = str(show_loan(uow_factory, b.number)["status"])
        by_status[status] = by_status.get(status, 0) + 1
    return {"loans": loans, "until": until.isoformat(), "by_status": by_status, "synthetic": True}


def _act(uow_factory: UnitOfWorkFactory, products: Products, b: _Borrower, day: date) -> None:
    for n, (when, amount) in enumerate(b.tranches):
        if when == day and (n == 0 or show_loan(uow_factory, b.number)["status"] == "active"):
            disburse(uow_factory, products, b.number, amount, day, f"demo-{b.number}-draw-{n}")
            b.due_dates = _due_dates(uow_factory, b)
    if day <= b.start:
        return
    delay = timedelta(days=b.late_days if b.behaviour == "late" else 0)
    pay_day = any(d + delay == day for d in b.due_dates)
    if b.prepay_on != day and not pay_day:
        return  # nothing to do today: skip reading the loan
    view = show_loan(uow_factory, b.number)
    if view["status"] != "active":
        return
    if b.prepay_on == day:
        amount = (
            parse_yuan(view["balances"]["principal_receivable"])
            + parse_yuan(view["due_now"])
            + parse_yuan("500")
        )
        if b.behaviour == "prepay-part":
            amount //= 3
        prepay(
            uow_factory,
            products,
            b.number,
            amount,
            day,
            f"demo-{b.number}-prepay",
            PrepaymentMode.REDUCE_INSTALLMENT,
        )
        b.due_dates = _due_dates(uow_factory, b)
        return
    if b.behaviour == "defaulter" and b.paid_periods >= b.stop_after:
        return
    if pay_day:
        # the loan view is as of the last end of day; run-through happens inside repay
        owed = parse_yuan(view["due_now"])
        upcoming = [i for i in view["schedule"] if i["due_date"] == day.isoformat()]
        owed += sum(parse_yuan(i["total"]) for i in upcoming)
        if owed > 0:
            # late payers add a little to cover penalty accrued since the view; the excess is held
            # in suspense and applied on the next due date
            buffer = parse_yuan(50) if b.behaviour == "late" else 0
            repay(uow_factory, products, b.number, owed + buffer, day, f"demo-{b.number}-{day}")
            b.paid_periods += 1


def _due_dates(uow_factory: UnitOfWorkFactory, b: _Borrower) -> tuple[date, ...]:
    return tuple(
        date.fromisoformat(str(i["due_date"])) for i in show_loan(uow_factory, b.number)["schedule"]
    )
