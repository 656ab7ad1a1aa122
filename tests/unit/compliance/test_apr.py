"""APR by IRR: the shared public vectors, the DOMAIN_RULES §1 table, exact cases and properties."""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.compliance.apr import AprResult, apr_from_cashflows, solve_periodic_irr
from xindai.kernel.errors import ValidationError
from xindai.money.money import parse_yuan

HERE = Path(__file__).resolve()
# the shared folder: XINDAI_SHARED_DIR (.ci/run finds it), else the repository's sibling `shared`
SHARED = Path(os.environ.get("XINDAI_SHARED_DIR") or HERE.parents[3].parent / "shared")
PUBLIC = SHARED / "vectors" / "apr" / "public.json"
OWN = HERE.parents[2] / "vectors" / "apr" / "domain_rules.json"


def q(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def run_vector(case: dict[str, Any]) -> AprResult:
    flows = [parse_yuan(v, "cash_flows") for v in case["cash_flows"]]
    f = case.get("first_period_fraction")
    return apr_from_cashflows(
        flows[0],
        [-v for v in flows[1:]],  # borrower's side: payments are negative
        periods_per_year=case["periods_per_year"],
        first_period_fraction=Fraction(f) if f else None,
    )


def check_vector(case: dict[str, Any]) -> None:
    result = run_vector(case)
    places = "1e-" + str(len(case["monthly_irr"].split(".")[1]))
    assert q(result.periodic_rate, places) == case["monthly_irr"], case["name"]
    assert q(result.apr_simple, "0.0001") == case["apr_simple"], case["name"]
    assert q(result.apr_compound, "0.0001") == case["apr_compound"], case["name"]


def _load(path: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return cases


def test_public_vectors() -> None:
    if not PUBLIC.exists():
        pytest.skip(f"shared APR vectors not found at {PUBLIC} (the ../shared checkout is absent)")
    cases = _load(PUBLIC)
    assert cases
    for case in cases:
        check_vector(case)


@pytest.mark.parametrize("case", _load(OWN), ids=lambda c: c["name"])
def test_domain_rules_table(case: dict[str, Any]) -> None:
    check_vector(case)


def test_exact_cases() -> None:
    # one period at exactly 1%
    assert solve_periodic_irr(10000, [10100]) == Decimal("0.01")
    # nothing charged: 0%
    assert solve_periodic_irr(1200, [100] * 12) == 0
    # an annuity at exactly 10% a period: 1000 = 1100/1.1 + 1210/1.21 ... use two equal payments
    # of 576.19047619... → not integral, so check the residual instead (below)
    a = apr_from_cashflows(10000, [10100], periods_per_year=12)
    assert a.apr_simple == Decimal("0.12")
    assert q(a.apr_compound, "1e-12") == "0.126825030132"  # 1.01^12 − 1


def test_irregular_first_period_discounting() -> None:
    # f = 1 is the regular case
    regular = solve_periodic_irr(10000, [5100, 5100])
    assert solve_periodic_irr(10000, [5100, 5100], first_period_fraction=Fraction(1)) == regular
    # a shorter first period means money comes back sooner: a higher rate for the same flows
    short = solve_periodic_irr(10000, [5100, 5100], first_period_fraction=Fraction(1, 3))
    assert short > regular
    # long stub, simple interest: 10000 × (1 + 1.5 r) = 10150 → r = 1%
    assert solve_periodic_irr(10000, [10150], first_period_fraction=Fraction(3, 2)) == Decimal(
        "0.01"
    )


def test_negative_rate_when_less_comes_back() -> None:
    r = solve_periodic_irr(10000, [4000, 4000])
    assert r < 0
    assert r > -1


# realistic loans: each payment 0…3 × the net proceeds (per-mille steps), at least all repaid
per_mille = st.lists(st.integers(0, 3000), min_size=1, max_size=72).filter(
    lambda xs: sum(xs) >= 1000
)


@given(
    net=st.integers(1000, 10**10),
    shares=per_mille,
    f=st.none() | st.fractions(Fraction(1, 31), Fraction(2), max_denominator=62),
)
def test_solution_zeroes_the_npv(net: int, shares: list[int], f: Fraction | None) -> None:
    payments = [net * s // 1000 for s in shares]
    if not any(payments):
        return
    r = solve_periodic_irr(net, payments, first_period_fraction=f)
    ff = f if f is not None else Fraction(1)
    with localcontext() as ctx:
        ctx.prec = 60
        first = 1 + r * Decimal(ff.numerator) / Decimal(ff.denominator)
        npv = sum((Decimal(p) / ((1 + r) ** k * first) for k, p in enumerate(payments)), Decimal(0))
        # a root good to 1e-20 leaves a residual of at most |dNPV/dr| × 1e-20
        slope = sum(
            (Decimal(p) * (k + 1) / ((1 + r) ** (k + 1) * first) for k, p in enumerate(payments)),
            Decimal(0),
        )
        assert abs(npv - net) <= slope * Decimal("1e-19") + Decimal("1e-15")


@given(
    net=st.integers(1000, 10**9),
    shares=per_mille,
    idx=st.integers(0, 71),
    bump=st.integers(1, 10**6),
)
def test_paying_more_never_lowers_the_rate(
    net: int, shares: list[int], idx: int, bump: int
) -> None:
    payments = [net * s // 1000 for s in shares]
    if not any(payments):
        return
    more = list(payments)
    more[idx % len(more)] += bump
    assert solve_periodic_irr(net, more) > solve_periodic_irr(net, payments)


@pytest.mark.parametrize(
    ("net", "payments", "kwargs", "field"),
    [
        (0, [100], {}, "net_proceeds"),
        (-5, [100], {}, "net_proceeds"),
        (100.0, [100], {}, "net_proceeds"),
        (100, [], {}, "payments"),
        (100, [0, 0], {}, "payments"),
        (100, [-1, 200], {}, "payments"),
        (100, [1.5], {}, "payments"),
        (100, "1,2", {}, "payments"),
        (100, [110], {"first_period_fraction": Fraction(0)}, "first_period_fraction"),
        (100, [110], {"first_period_fraction": 0.5}, "first_period_fraction"),
        (100, [110], {"periods_per_year": 0}, "periods_per_year"),
    ],
)
def test_bad_input(net: object, payments: object, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        apr_from_cashflows(net, payments, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
