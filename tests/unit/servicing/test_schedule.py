"""Schedules: hand-checked figures, the slow reference, bad input, and Hypothesis invariants."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.servicing.reference import ref_build
from xindai.kernel.errors import ValidationError
from xindai.money import DayCount, Rounding
from xindai.servicing.schedule import (
    Installment,
    PrepaymentMode,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    build_schedule,
    monthly_due_dates,
    period_months,
    rebalance,
    validate_schedule_request,
)

D = Decimal
START = date(2026, 1, 15)


def terms(method: str, rate: str = "0.12", **kw: object) -> ScheduleTerms:
    return ScheduleTerms(D(rate), RepaymentMethod(method), **kw)  # type: ignore[arg-type]


def check_invariants(s: Schedule, principal: int) -> None:
    items = s.installments
    assert s.total_principal == principal
    bal = principal
    for n, inst in enumerate(items, start=1):
        assert inst.period == n
        assert min(inst.principal, inst.interest, inst.fee, inst.balance_after) >= 0
        assert inst.start_date < inst.due_date
        if n > 1:
            assert inst.start_date == items[n - 2].due_date
        bal -= inst.principal
        assert inst.balance_after == bal
        assert inst.total == inst.principal + inst.interest + inst.fee
    assert bal == 0
    assert s.total == s.total_principal + s.total_interest + s.total_fees


# -- hand-checked figures ----------------------------------------------------------------------------


def test_equal_installment_matches_domain_rules() -> None:
    s = build_schedule(
        principal=1_000_000, term=12, terms=terms("equal-installment"), start_date=START
    )
    # DOMAIN_RULES §3: 888.49 a month; the last absorbs the residue (11 × 888.49 + 888.47)
    assert [i.total for i in s.installments] == [88849] * 11 + [88847]
    assert s.installments[0].interest == 10000  # 10,000 × 1%
    assert s.installments[1].interest == 9212  # 9,211.51 × 1% = 92.1151
    assert s.total_interest == 66186


def test_equal_principal_interest_only_bullet_flat_fee_by_hand() -> None:
    ep = build_schedule(
        principal=1_000_000, term=12, terms=terms("equal-principal"), start_date=START
    )
    assert [i.principal for i in ep.installments] == [83333] * 11 + [83337]
    assert ep.installments[1].interest == 9167  # 9,166.67 × 1%
    io = build_schedule(
        principal=1_000_000, term=12, terms=terms("interest-only"), start_date=START
    )
    assert [i.total for i in io.installments] == [10000] * 11 + [1_010_000]
    bullet = build_schedule(principal=1_000_000, term=12, terms=terms("bullet"), start_date=START)
    assert len(bullet.installments) == 1
    only = bullet.installments[0]
    assert (only.due_date, only.principal, only.interest) == (date(2027, 1, 15), 1_000_000, 120_000)
    ff = build_schedule(
        principal=1_000_000,
        term=12,
        terms=terms("flat-fee", "0", monthly_fee_rate=D("0.006")),
        start_date=START,
    )
    assert [i.total for i in ff.installments] == [89333] * 11 + [89337]
    assert ff.total_interest == 0 and ff.total_fees == 72000


def test_zero_rate_equal_installment() -> None:
    s = build_schedule(
        principal=1000, term=3, terms=terms("equal-installment", "0"), start_date=START
    )
    assert [i.principal for i in s.installments] == [333, 333, 334]
    assert s.total_interest == 0


def test_fee_base_and_fee_on_every_method() -> None:
    t = terms("equal-installment", monthly_fee_rate=D("0.001"))
    s = build_schedule(principal=1_000_000, term=3, terms=t, start_date=START, fee_base=500_000)
    assert [i.fee for i in s.installments] == [500, 500, 500]
    b = build_schedule(
        principal=1_000_000,
        term=6,
        terms=terms("bullet", monthly_fee_rate=D("0.001")),
        start_date=START,
    )
    assert b.installments[0].fee == 6000  # one fee per month of the term


def test_daily_interest_uses_the_day_count() -> None:
    t = terms("interest-only", daily_interest=True)
    s = build_schedule(principal=3_600_000, term=2, terms=t, start_date=START)
    # Jan 15 → Feb 15: 31 days; Feb 15 → Mar 15: 28 days; 36,000 × 12% / 360 = 12 a day
    assert [i.interest for i in s.installments] == [37200, 33600]
    t365 = terms("interest-only", daily_interest=True, day_count=DayCount.ACT_365)
    s365 = build_schedule(principal=3_650_000, term=1, terms=t365, start_date=START)
    assert s365.installments[0].interest == 37200  # 36,500 × 12% / 365 × 31


def test_irregular_first_period() -> None:
    t = terms("interest-only")
    short = build_schedule(
        principal=1_000_000, term=2, terms=t, start_date=START, first_due_date=date(2026, 2, 5)
    )
    # 21 days of the 31-day regular period Jan 5 → Feb 5: 10,000 × 1% × 21/31 = 67.74
    assert short.installments[0].interest == 6774
    assert short.installments[1].due_date == date(2026, 3, 5)
    assert short.installments[1].interest == 10000
    long = build_schedule(
        principal=1_000_000, term=2, terms=t, start_date=START, first_due_date=date(2026, 2, 25)
    )
    # one month (Jan 25 → Feb 25) plus a 10-day stub of Dec 25 → Jan 25 (31 days)
    assert period_months(START, date(2026, 2, 25)) == 1 + Fraction(10, 31)
    assert long.installments[0].interest == 13226  # 100 × 41/31 = 132.258


def test_due_dates_clamp_to_month_end_without_drifting() -> None:
    assert monthly_due_dates(date(2026, 1, 31), 4) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert monthly_due_dates(date(2027, 12, 31), 2) == [date(2028, 1, 31), date(2028, 2, 29)]
    assert monthly_due_dates(START, 3, date(2026, 2, 28)) == [
        date(2026, 2, 28),
        date(2026, 3, 28),
        date(2026, 4, 28),
    ]
    assert period_months(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert period_months(date(2026, 2, 28), date(2026, 3, 31)) == 1


def test_rounding_policy_is_applied() -> None:
    def first_interest(principal: int, rounding: Rounding) -> int:
        t = terms("interest-only", rounding=rounding)
        s = build_schedule(principal=principal, term=2, terms=t, start_date=START)
        return s.installments[0].interest

    # 1,000.50 × 1% = 10.005 yuan = 1000.5 fen
    assert first_interest(100_050, Rounding.HALF_UP) == 1001
    assert first_interest(100_050, Rounding.HALF_EVEN) == 1000
    assert first_interest(100_150, Rounding.HALF_EVEN) == 1002  # 1001.5 → even
    assert first_interest(100_050, Rounding.DOWN) == 1000
    assert first_interest(100_001, Rounding.UP) == 1001  # 1000.01 → up


# -- the slow reference --------------------------------------------------------------------------------

METHODS = [m.value for m in RepaymentMethod]


@given(
    principal=st.integers(1, 1_000_000_000),
    term=st.integers(1, 60),
    rate=st.decimals(min_value=0, max_value=D("0.36"), places=4),
    fee=st.decimals(min_value=0, max_value=D("0.02"), places=4),
    method=st.sampled_from(METHODS),
    start=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
)
def test_fast_engine_agrees_with_fraction_reference(
    principal: int, term: int, rate: Decimal, fee: Decimal, method: str, start: date
) -> None:
    s = build_schedule(
        principal=principal,
        term=term,
        terms=ScheduleTerms(rate, RepaymentMethod(method), monthly_fee_rate=fee),
        start_date=start,
    )
    ref = ref_build(principal, term, Fraction(rate), method, start, Fraction(fee))
    got = [
        (i.period, i.start_date, i.due_date, i.principal, i.interest, i.fee, i.balance_after)
        for i in s.installments
    ]
    want = [
        (r.period, r.start, r.due, r.principal, r.interest, r.fee, r.balance_after) for r in ref
    ]
    assert got == want


# -- invariants --------------------------------------------------------------------------------------

schedule_inputs = st.fixed_dictionaries(
    {
        "principal": st.integers(1, 1_000_000_000),
        "term": st.integers(1, 60),
        "rate": st.decimals(min_value=0, max_value=D("0.36"), places=6),
        "fee": st.decimals(min_value=0, max_value=D("0.02"), places=4),
        "method": st.sampled_from(METHODS),
        "rounding": st.sampled_from(list(Rounding)),
        "daily": st.booleans(),
        "day_count": st.sampled_from(list(DayCount)),
        "start": st.dates(date(2000, 1, 1), date(2100, 12, 31)),
        "first_due_offset": st.none() | st.integers(1, 59),
    }
)


def make(inp: dict[str, object]) -> tuple[Schedule, ScheduleTerms]:
    t = ScheduleTerms(
        inp["rate"],  # type: ignore[arg-type]
        RepaymentMethod(inp["method"]),
        monthly_fee_rate=inp["fee"],  # type: ignore[arg-type]
        rounding=inp["rounding"],  # type: ignore[arg-type]
        daily_interest=inp["daily"],  # type: ignore[arg-type]
        day_count=inp["day_count"],  # type: ignore[arg-type]
    )
    start: date = inp["start"]  # type: ignore[assignment]
    offset = inp["first_due_offset"]
    first_due = None if offset is None else start + timedelta(days=offset)  # type: ignore[operator]
    s = build_schedule(
        principal=inp["principal"],  # type: ignore[arg-type]
        term=inp["term"],  # type: ignore[arg-type]
        terms=t,
        start_date=start,
        first_due_date=first_due,
    )
    return s, t


@given(schedule_inputs)
def test_build_invariants(inp: dict[str, object]) -> None:
    s, t = make(inp)
    check_invariants(s, inp["principal"])  # type: ignore[arg-type]
    expected_len = 1 if t.method is RepaymentMethod.BULLET else inp["term"]
    assert len(s.installments) == expected_len
    if t.method is RepaymentMethod.FLAT_FEE:
        assert s.total_interest == 0


@given(
    schedule_inputs,
    st.lists(
        st.tuples(
            st.integers(0, 1900),
            st.integers(0, 2_000_000_000),
            st.sampled_from(list(PrepaymentMode)),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_rebalance_invariants(
    inp: dict[str, object], events: list[tuple[int, int, PrepaymentMode]]
) -> None:
    s, t = make(inp)
    first = s.installments[0].start_date
    for day_offset, new_balance, mode in sorted(events):
        on = first + timedelta(days=day_offset)
        if on >= s.installments[-1].due_date:
            continue  # past the end (or after a full repayment): nothing to rebuild
        before = s
        s = rebalance(before, terms=t, on=on, new_balance=new_balance, mode=mode)
        k = next(i for i, x in enumerate(before.installments) if x.start_date <= on < x.due_date)
        assert s.installments[:k] == before.installments[:k]
        tail = s.installments[k:]
        assert sum(i.principal for i in tail) == new_balance
        bal = new_balance
        for n, inst in enumerate(tail):
            assert inst.period == k + 1 + n
            assert min(inst.principal, inst.interest, inst.fee, inst.balance_after) >= 0
            bal -= inst.principal
            assert inst.balance_after == bal
        assert bal == 0
        if new_balance == 0:
            assert len(tail) == 1 and tail[0].due_date == on and tail[0].principal == 0
        elif mode is PrepaymentMode.REDUCE_INSTALLMENT:
            assert len(s.installments) == len(before.installments)
        else:
            assert len(s.installments) <= len(before.installments)


def test_rebalance_split_interest_and_unchanged_prefix() -> None:
    t = terms("interest-only")
    s = build_schedule(principal=5_000_000, term=12, terms=t, start_date=date(2026, 3, 1))
    r = rebalance(s, terms=t, on=date(2026, 5, 10), new_balance=13_000_000)
    assert r.installments[:2] == s.installments[:2]
    # 50,000 × 1% × 9/31 = 145.16 plus 130,000 × 1% × 22/31 = 922.58
    assert r.installments[2].interest == 14516 + 92258
    assert r.installments[3].interest == 130000


def test_rebalance_on_a_due_date_rebuilds_the_next_period() -> None:
    t = terms("equal-installment")
    s = build_schedule(principal=1_000_000, term=12, terms=t, start_date=START)
    on = s.installments[2].due_date
    r = rebalance(s, terms=t, on=on, new_balance=s.installments[2].balance_after)
    assert r.installments[:3] == s.installments[:3]
    # nothing elapsed and nothing changed: period 4 keeps its interest
    assert r.installments[3].interest == s.installments[3].interest


def test_two_draws_in_one_period_keep_the_interest_already_priced() -> None:
    t = terms("interest-only")
    s = build_schedule(principal=3_000_000, term=3, terms=t, start_date=date(2026, 4, 1))
    once = rebalance(s, terms=t, on=date(2026, 4, 11), new_balance=6_000_000)
    twice = rebalance(once, terms=t, on=date(2026, 4, 21), new_balance=9_000_000)
    # 30,000 for 10 days, 60,000 for 10 days, 90,000 for 10 days of a 30-day period at 1%/month
    assert twice.installments[0].interest == 10000 + 20000 + 30000


def test_full_prepayment_prices_only_the_days_used() -> None:
    t = terms("flat-fee", "0", monthly_fee_rate=D("0.006"))
    s = build_schedule(principal=1_000_000, term=12, terms=t, start_date=START)
    r = rebalance(s, terms=t, on=date(2026, 3, 25), new_balance=0)
    assert len(r.installments) == 3
    closing = r.installments[-1]
    assert closing.due_date == date(2026, 3, 25) and closing.principal == 0
    assert closing.fee == 1935  # 60.00 × 10/31 days used = 19.35


def test_reduce_term_keeps_the_instalment() -> None:
    t = terms("equal-installment")
    s = build_schedule(principal=1_000_000, term=12, terms=t, start_date=START)
    held = s.installments[5].balance_before
    r = rebalance(s, terms=t, on=date(2026, 6, 15), new_balance=held - 300_000, mode="reduce-term")  # type: ignore[arg-type]
    assert len(r.installments) == 9
    assert all(i.total == 88849 for i in r.installments[6:-1])


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"principal": 0}, "principal"),
        ({"principal": -100}, "principal"),
        ({"principal": 10.5}, "principal"),
        ({"principal": True}, "principal"),
        ({"principal": "1000"}, "principal"),
        ({"term": 0}, "term"),
        ({"term": -3}, "term"),
        ({"term": 12.0}, "term"),
        ({"term": 601}, "term"),
        ({"start_date": "2026-01-15"}, "start_date"),
        ({"start_date": datetime(2026, 1, 15)}, "start_date"),
        ({"first_due_date": date(2026, 1, 15)}, "first_due_date"),
        ({"first_due_date": date(2026, 3, 16)}, "first_due_date"),
        ({"fee_base": -1}, "fee_base"),
    ],
)
def test_build_schedule_rejects(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "principal": 1_000_000,
        "term": 12,
        "terms": terms("equal-installment"),
        "start_date": START,
    } | kwargs
    with pytest.raises(ValidationError) as err:
        build_schedule(**args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert validate_schedule_request(**args)[0].field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "weird"}, "method"),
        ({"annual_rate": 0.12}, "annual_rate"),
        ({"annual_rate": D("-0.01")}, "annual_rate"),
        ({"annual_rate": D("NaN")}, "annual_rate"),
        ({"annual_rate": D("11")}, "annual_rate"),
        ({"monthly_fee_rate": D("-0.001")}, "monthly_fee_rate"),
        ({"monthly_fee_rate": D("1.5")}, "monthly_fee_rate"),
        ({"day_count": "ACT/366"}, "day_count"),
        ({"rounding": "sideways"}, "rounding"),
        ({"daily_interest": "yes"}, "daily_interest"),
    ],
)
def test_schedule_terms_reject(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"annual_rate": D("0.12"), "method": "equal-installment"} | kwargs
    with pytest.raises(ValidationError) as err:
        ScheduleTerms(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_schedule_terms_accept_strings() -> None:
    t = ScheduleTerms(D("0.12"), "bullet", day_count="30/360", rounding="down")  # type: ignore[arg-type]
    assert t.method is RepaymentMethod.BULLET
    assert t.day_count is DayCount.THIRTY_360 and t.rounding is Rounding.DOWN


@pytest.mark.parametrize(
    ("on", "new_balance", "field"),
    [
        (date(2026, 1, 14), 500_000, "on"),
        (date(2027, 1, 15), 500_000, "on"),
        ("2026-03-01", 500_000, "on"),
        (date(2026, 3, 1), -1, "new_balance"),
        (date(2026, 3, 1), 5000.0, "new_balance"),
    ],
)
def test_rebalance_rejects(on: object, new_balance: object, field: str) -> None:
    t = terms("equal-installment")
    s = build_schedule(principal=1_000_000, term=12, terms=t, start_date=START)
    with pytest.raises(ValidationError) as err:
        rebalance(s, terms=t, on=on, new_balance=new_balance)  # type: ignore[arg-type]
    assert err.value.field == field


def test_installment_total_property() -> None:
    inst = Installment(1, START, date(2026, 2, 15), 100, 20, 3, 0)
    assert inst.total == 123 and inst.balance_before == 100
