"""The quote use case: the issue-2 contract, APR cross-checks, the cap, and bad input."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.app.quoting import (
    Quote,
    QuoteRequest,
    build_quote,
    ensure_within_cap,
    parse_quote_request,
    quote_to_dict,
)
from xindai.compliance.caps import CostCaps
from xindai.kernel.errors import ValidationError
from xindai.kernel.findings import Severity
from xindai.servicing.schedule import RepaymentMethod

YUAN = re.compile(r"-?\d+\.\d{2}")
FRACTION4 = re.compile(r"-?\d+\.\d{4}")

BASE: dict[str, object] = {
    "principal": "10000",
    "term": "12",
    "method": "equal-installment",
    "annual_rate": "0.12",
    "start_date": "2026-01-15",
}


def quote(**overrides: object) -> Quote:
    return build_quote(parse_quote_request(BASE | overrides))


def as_dict(**overrides: object) -> dict[str, Any]:
    return quote_to_dict(quote(**overrides))


def test_contract_shape_and_domain_rules_cross_check() -> None:
    d = as_dict()
    json.dumps(d)  # serialisable as is
    assert len(d["installments"]) == 12
    first = d["installments"][0]
    assert first == {
        "period": 1,
        "start_date": "2026-01-15",
        "due_date": "2026-02-15",
        "principal": "788.49",
        "interest": "100.00",
        "fee": "0.00",
        "total": "888.49",
        "balance_after": "9211.51",
    }
    for row in d["installments"]:
        for key in ("principal", "interest", "fee", "total", "balance_after"):
            assert YUAN.fullmatch(row[key]), (key, row[key])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["due_date"])
    assert d["installments"][-1]["balance_after"] == "0.00"
    assert (d["total_interest"], d["total_fees"]) == ("661.86", "0.00")
    assert (d["apr_simple"], d["apr_compound"]) == ("0.1200", "0.1268")
    assert FRACTION4.fullmatch(d["apr_simple"]) and FRACTION4.fullmatch(d["apr_compound"])
    assert d["within_cap"] is True
    assert d["monthly_irr"] == "0.010000"
    assert d["net_proceeds"] == "10000.00"


@pytest.mark.parametrize(
    ("fee_rate", "simple", "compound", "within"),
    [
        ("0.006", "0.1303", "0.1384", True),  # DOMAIN_RULES §1: a bank's "7.2% for 12 periods"
        ("0.01", "0.2146", "0.2370", True),  # 1%/month flat: 21.46% < 24%
        ("0.012", "0.2560", "0.2882", False),  # 1.2%/month flat: 25.60% > 24%
    ],
)
def test_flat_fee_apr_and_cap(fee_rate: str, simple: str, compound: str, within: bool) -> None:
    q = quote(method="flat-fee", annual_rate="0", monthly_fee_rate=fee_rate)
    d = quote_to_dict(q)
    assert (d["apr_simple"], d["apr_compound"], d["within_cap"]) == (simple, compound, within)
    assert d["total_interest"] == "0.00"
    if within:
        ensure_within_cap(q)
    else:
        with pytest.raises(ValidationError) as err:
            ensure_within_cap(q)
        assert err.value.field == "monthly_fee_rate"
        assert err.value.reason == "all-in APR 0.2560 exceeds the 24% cap"


def test_upfront_fee_is_in_the_apr_and_flagged() -> None:
    # DOMAIN_RULES §1 row 5: 先息后本 1%/month with 2% deducted up front → 14.16% / 15.11%
    q = quote(method="interest-only", upfront_fee="200")
    d = quote_to_dict(q)
    assert (d["apr_simple"], d["apr_compound"]) == ("0.1416", "0.1511")
    assert d["net_proceeds"] == "9800.00" and d["upfront_fee"] == "200.00"
    assert d["total_cost"] == "1400.00"
    assert [f.field for f in q.findings if f.severity is Severity.WARNING] == ["upfront_fee"]


def test_rate_above_cap_names_annual_rate() -> None:
    q = quote(annual_rate="0.30")
    assert not q.within_cap
    with pytest.raises(ValidationError) as err:
        ensure_within_cap(q)
    assert err.value.field == "annual_rate"
    assert err.value.reason.startswith("all-in APR 0.3000 exceeds the 24% cap")


def test_daily_interest_at_24pct_act360_is_above_the_cap() -> None:
    # 24% a year on ACT/360 days is 24.33% on a 365-day year: the true cost exceeds the cap
    q = quote(annual_rate="0.24", method="interest-only", daily_interest="true")
    assert not q.within_cap
    assert quote(annual_rate="0.24").within_cap  # monthly 2%: exactly 24.00%


def test_configurable_caps_and_bullet_and_irregular_first_period() -> None:
    q = build_quote(parse_quote_request(BASE), CostCaps(all_in_annual=Decimal("0.10")))
    assert not q.within_cap
    bullet = as_dict(method="bullet")
    # one payment of 11,200 after 12 months: (1.12)^(1/12) − 1 a month
    assert len(bullet["installments"]) == 1
    assert (bullet["apr_simple"], bullet["apr_compound"]) == ("0.1139", "0.1200")
    stub = as_dict(first_due_date="2026-02-05")
    assert stub["installments"][0]["interest"] == "67.74"  # 21 of 31 days
    assert stub["apr_simple"] == "0.1200"


def test_parse_accepts_ints_decimals_dates_and_defaults() -> None:
    req = parse_quote_request(
        {
            "principal": 10000,
            "term": 12,
            "method": RepaymentMethod.BULLET,
            "annual_rate": Decimal("0.12"),
            "upfront_fee": None,
            "start_date": None,
            "daily_interest": False,
            "day_count": "ACT/365",
            "unknown": "ignored",
        },
        default_start_date=date(2026, 3, 1),
    )
    assert req == QuoteRequest(
        principal=1_000_000,
        term=12,
        method=RepaymentMethod.BULLET,
        annual_rate=Decimal("0.12"),
        start_date=date(2026, 3, 1),
        day_count=req.day_count,
    )
    assert req.day_count.value == "ACT/365"
    assert parse_quote_request(BASE | {"principal": "10000.50"}).principal == 1_000_050


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": "-100"}, "principal"),
        ({"principal": "0"}, "principal"),
        ({"principal": 10000.0}, "principal"),
        ({"principal": "10000.001"}, "principal"),
        ({"principal": "ten"}, "principal"),
        ({"principal": None}, "principal"),
        ({"term": "0"}, "term"),
        ({"term": 0}, "term"),
        ({"term": 12.0}, "term"),
        ({"term": "1.5"}, "term"),
        ({"term": True}, "term"),
        ({"term": "601"}, "term"),
        ({"method": "weird"}, "method"),
        ({"method": 3}, "method"),
        ({"annual_rate": 0.12}, "annual_rate"),
        ({"annual_rate": "-0.1"}, "annual_rate"),
        ({"annual_rate": "twelve"}, "annual_rate"),
        ({"upfront_fee": 0.5}, "upfront_fee"),
        ({"upfront_fee": "-1"}, "upfront_fee"),
        ({"upfront_fee": "10000"}, "upfront_fee"),
        ({"monthly_fee_rate": "2"}, "monthly_fee_rate"),
        ({"monthly_fee_rate": 0.01}, "monthly_fee_rate"),
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"start_date": "2026/01/15"}, "start_date"),
        ({"start_date": "20260115"}, "start_date"),
        ({"start_date": None}, "start_date"),
        ({"first_due_date": "2026-01-10"}, "first_due_date"),
        ({"first_due_date": "2026-02-30"}, "first_due_date"),
        ({"daily_interest": "maybe"}, "daily_interest"),
        ({"day_count": "ACT/366"}, "day_count"),
    ],
)
def test_parse_rejects_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_quote_request(BASE | overrides)
    assert err.value.field == field


def test_build_quote_rejects_an_upfront_fee_eating_the_principal() -> None:
    req = QuoteRequest(
        principal=100,
        term=1,
        method=RepaymentMethod.BULLET,
        annual_rate=Decimal("0.1"),
        upfront_fee=100,
        start_date=date(2026, 1, 1),
    )
    with pytest.raises(ValidationError) as err:
        build_quote(req)
    assert err.value.field == "upfront_fee"


@given(
    principal=st.integers(1, 10**9),
    term=st.integers(1, 60),
    rate=st.decimals(min_value=0, max_value=Decimal("0.36"), places=4),
    fee=st.decimals(min_value=0, max_value=Decimal("0.02"), places=4),
    method=st.sampled_from(list(RepaymentMethod)),
)
def test_quote_totals_are_consistent(
    principal: int, term: int, rate: Decimal, fee: Decimal, method: RepaymentMethod
) -> None:
    req = QuoteRequest(
        principal=principal,
        term=term,
        method=method,
        annual_rate=rate,
        monthly_fee_rate=fee,
        start_date=date(2026, 1, 15),
    )
    q = build_quote(req)
    d = quote_to_dict(q)

    def fen(s: str) -> int:
        return int(Decimal(s) * 100)

    rows = d["installments"]
    assert sum(fen(r["principal"]) for r in rows) == principal
    assert sum(fen(r["total"]) for r in rows) == fen(d["total_repayment"])
    assert sum(fen(r["interest"]) for r in rows) == fen(d["total_interest"])
    assert sum(fen(r["fee"]) for r in rows) == fen(d["total_fees"])
    assert d["within_cap"] == (Decimal(d["apr_simple"]) <= Decimal("0.24"))
    cost = q.schedule.total_interest + q.schedule.total_fees
    assert (q.apr.periodic_rate > 0) == (cost > 0)
