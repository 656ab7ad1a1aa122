"""Golden schedule vectors: the cases, how a case is computed, and a regenerator.

Each file in tests/vectors/schedules/ holds one case: its inputs (``build`` and ``events``) and the
expected instalments as yuan strings. Regenerate (then check the diff by hand) with
``.venv/bin/python -m tests.unit.servicing.vectors``.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from xindai.money.money import format_yuan, parse_yuan
from xindai.servicing.schedule import (
    PrepaymentMode,
    Schedule,
    ScheduleTerms,
    build_schedule,
    rebalance,
)

VECTOR_DIR = Path(__file__).resolve().parents[2] / "vectors" / "schedules"

_BASE = {
    "principal": "10000.00",
    "term": 12,
    "annual_rate": "0.12",
    "monthly_fee_rate": "0",
    "start_date": "2026-01-15",
}

CASES: list[dict[str, Any]] = [
    *(
        {
            "name": f"{method}-12pct-12m-10000",
            "desc": f"{method} at 12% a year, 12 monthly periods, 10,000 yuan from 2026-01-15",
            "build": {**_BASE, "method": method},
            "events": [],
        }
        for method in ("equal-installment", "equal-principal", "interest-only", "bullet")
    ),
    {
        "name": "flat-fee-0.6pct-12m-10000",
        "desc": "BNPL: 10,000 in 12 instalments, fee 0.6% of the original principal a month, "
        "no interest (a bank's '7.2% for 12 periods')",
        "build": {**_BASE, "method": "flat-fee", "annual_rate": "0", "monthly_fee_rate": "0.006"},
        "events": [],
    },
    *(
        {
            "name": f"tranche-{method}-200000",
            "desc": f"200,000 staged line, {method} at 12% over 12 months from 2026-03-01, drawn "
            "50,000 on 2026-03-01, 80,000 on 2026-05-10 and 70,000 on 2026-08-20",
            "build": {
                **_BASE,
                "method": method,
                "principal": "50000.00",
                "start_date": "2026-03-01",
            },
            "events": [
                {"on": "2026-05-10", "draw": "80000.00"},
                {"on": "2026-08-20", "draw": "70000.00"},
            ],
        }
        for method in ("interest-only", "equal-installment")
    ),
    *(
        {
            "name": f"prepay-3000-{mode}",
            "desc": f"equal-installment 10,000 at 12%, 3,000 prepaid on 2026-06-20 ({mode})",
            "build": {**_BASE, "method": "equal-installment"},
            "events": [{"on": "2026-06-20", "prepay": "3000.00", "mode": mode}],
        }
        for mode in ("reduce-term", "reduce-installment")
    ),
    {
        "name": "prepay-full-2026-06-20",
        "desc": "equal-installment 10,000 at 12%, repaid in full on 2026-06-20: period 6 keeps "
        "only the interest for the 5 days used",
        "build": {**_BASE, "method": "equal-installment"},
        "events": [{"on": "2026-06-20", "prepay": "all"}],
    },
]


def terms_of(build: dict[str, Any]) -> ScheduleTerms:
    return ScheduleTerms(
        annual_rate=Decimal(build["annual_rate"]),
        method=build["method"],
        monthly_fee_rate=Decimal(build["monthly_fee_rate"]),
    )


def balance_held_on(schedule: Schedule, on: date) -> int:
    for inst in schedule.installments:
        if inst.start_date <= on < inst.due_date:
            return inst.balance_before
    raise AssertionError(f"{on} is outside the schedule")


def compute(case: dict[str, Any]) -> Schedule:
    build = case["build"]
    terms = terms_of(build)
    schedule = build_schedule(
        principal=parse_yuan(build["principal"], "principal"),
        term=build["term"],
        terms=terms,
        start_date=date.fromisoformat(build["start_date"]),
    )
    for event in case["events"]:
        on = date.fromisoformat(event["on"])
        held = balance_held_on(schedule, on)
        if "draw" in event:
            new_balance = held + parse_yuan(event["draw"], "draw")
        elif event["prepay"] == "all":
            new_balance = 0
        else:
            new_balance = held - parse_yuan(event["prepay"], "prepay")
        mode = PrepaymentMode(event.get("mode", PrepaymentMode.REDUCE_INSTALLMENT))
        schedule = rebalance(schedule, terms=terms, on=on, new_balance=new_balance, mode=mode)
    return schedule


def render(schedule: Schedule) -> dict[str, Any]:
    return {
        "installments": [
            {
                "period": i.period,
                "start_date": i.start_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "principal": format_yuan(i.principal),
                "interest": format_yuan(i.interest),
                "fee": format_yuan(i.fee),
                "total": format_yuan(i.total),
                "balance_after": format_yuan(i.balance_after),
            }
            for i in schedule.installments
        ],
        "total_principal": format_yuan(schedule.total_principal),
        "total_interest": format_yuan(schedule.total_interest),
        "total_fees": format_yuan(schedule.total_fees),
        "total": format_yuan(schedule.total),
    }


def regenerate() -> None:
    VECTOR_DIR.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        doc = {**case, "expected": render(compute(case))}
        path = VECTOR_DIR / f"{case['name']}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(path)


if __name__ == "__main__":
    regenerate()
