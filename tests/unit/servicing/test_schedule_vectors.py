"""Golden schedule vectors (tests/vectors/schedules): the code reproduces every file exactly, and
the files agree with the independent Fraction reference where it covers the case."""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.unit.servicing.reference import Row, ref_build, ref_draw
from tests.unit.servicing.vectors import CASES, VECTOR_DIR, compute, render
from xindai.money.money import format_yuan, parse_yuan

FILES = sorted(VECTOR_DIR.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def test_every_case_has_a_file() -> None:
    assert {p.stem for p in FILES} == {c["name"] for c in CASES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_code_reproduces_golden_file(path: Path) -> None:
    doc = load(path)
    assert render(compute(doc)) == doc["expected"]


def rows_as_json(rows: list[Row]) -> list[dict[str, object]]:
    return [
        {
            "period": r.period,
            "start_date": r.start.isoformat(),
            "due_date": r.due.isoformat(),
            "principal": format_yuan(r.principal),
            "interest": format_yuan(r.interest),
            "fee": format_yuan(r.fee),
            "total": format_yuan(r.principal + r.interest + r.fee),
            "balance_after": format_yuan(r.balance_after),
        }
        for r in rows
    ]


@pytest.mark.parametrize(
    "path", [p for p in FILES if not p.stem.startswith("prepay")], ids=lambda p: p.stem
)
def test_golden_file_agrees_with_reference(path: Path) -> None:
    doc = load(path)
    build = doc["build"]
    annual = Fraction(build["annual_rate"])
    rows = ref_build(
        parse_yuan(build["principal"], "principal"),
        build["term"],
        annual,
        build["method"],
        date.fromisoformat(build["start_date"]),
        Fraction(build["monthly_fee_rate"]),
    )
    for event in doc["events"]:
        rows = ref_draw(
            rows,
            annual,
            build["method"],
            date.fromisoformat(event["on"]),
            parse_yuan(event["draw"], "draw"),
        )
    assert rows_as_json(rows) == doc["expected"]["installments"]


def test_tranche_line_figures_by_hand() -> None:
    doc = load(VECTOR_DIR / "tranche-interest-only-200000.json")
    interest = [i["interest"] for i in doc["expected"]["installments"]]
    # 50,000 at 1%/month; 80,000 more on 05-10 (9 of 31 days on 50,000, 22 on 130,000);
    # 70,000 more on 08-20 (19 of 31 days on 130,000 = 796.77, 12 on 200,000 = 774.19)
    assert interest == [
        "500.00",
        "500.00",
        "1067.74",
        "1300.00",
        "1300.00",
        "1570.96",
        *["2000.00"] * 6,
    ]
    assert doc["expected"]["total_principal"] == "200000.00"
