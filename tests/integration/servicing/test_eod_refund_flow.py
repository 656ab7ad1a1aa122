"""A loan that closes during end of day hands its surplus back: the refund is a fund-flow movement.

Money paid in advance waits in suspense and is applied on each due date by end of day; when the
last instalment settles, the rest goes back to the borrower. That cash leaves the platform at night,
so end of day must store its movement in the outbox like a money command does — and the loan's
movements must still reconcile with its journal's cash to the fen.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app import servicing
from xindai.app.eod import run_eod
from xindai.bootstrap import Platform
from xindai.money.money import parse_yuan

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)

START = date(2026, 1, 15)


def test_surplus_refunded_at_night_is_a_movement(platform: Platform) -> None:
    opened = servicing.open_loan(
        platform.uow,
        platform.products,
        servicing.OpenLoan(
            product_code="consumer-instalment",
            principal=parse_yuan("3000"),
            term=3,
            method="equal-installment",
            annual_rate=Decimal("0.12"),
            start_date=START,
        ),
    )
    loan = opened["id"]
    servicing.disburse(platform.uow, platform.products, loan, parse_yuan("3000"), START, "d-1")
    schedule = servicing.show_loan(platform.uow, loan)["schedule"]  # fixed at disbursement
    total = sum(parse_yuan(row["total"]) for row in schedule)
    surplus = parse_yuan("1.23")
    paid_on = START + timedelta(days=1)
    servicing.repay(platform.uow, platform.products, loan, total + surplus, paid_on, "r-1")
    day = paid_on
    last_due = date.fromisoformat(schedule[-1]["due_date"])
    while day < last_due:
        day += timedelta(days=1)
        run_eod(platform.uow, platform.products, day)

    view = servicing.show_loan(platform.uow, loan)
    assert view["status"] == "closed" and view["balances"]["suspense"] == "0.00"
    with platform.uow() as uow:
        moves = uow.fund_movements.of_loan(view["id"])
        received, paid_out = uow.fund_movements.cash_postings(view["internal_id"])
    refunds = [m for m in moves if m["kind"] == "refund"]
    assert [(m["source"], m["target"], m["amount"]) for m in refunds] == [
        ("repayment", "borrower", surplus)
    ]
    assert str(refunds[0]["value_date"]) == last_due.isoformat()
    # the movements reconcile with the journal's cash, to the fen
    into_repayment = sum(m["amount"] for m in moves if m["target"] == "repayment")
    out_of_platform = sum(m["amount"] for m in moves if m["source"] == "platform")
    assert into_repayment == received == total + surplus
    assert out_of_platform + surplus == paid_out
