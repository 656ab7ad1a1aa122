"""Scenario limits on real sequences of signals from the seeded (SYNTHETIC) generator.

* SME turnover: a year of daily POS and delivery data with peak and slow months → the limit rises
  30% by itself in peak season and a turnover warning freezes new draws in the slow season;
* carbon: monthly registry certificates over four years → +500 CNY per whole tonne, capped;
* travel: the rate is 70% of the general product; medical: health data is never a credit input,
  and the priority-registration perk follows the repayment record.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from xindai.kernel.errors import ValidationError
from xindai.products.catalogue import entitlement, load_catalogue
from xindai.products.scenarios import (
    FAMILIES,
    SIGNALS,
    Category,
    InstalmentRecord,
    SyntheticSignalSource,
    credit_view,
    repayment_signals,
    sme_signals,
)
from xindai.products.scenarios.carbon import carbon_signals
from xindai.products.scenarios.synthetic import synthetic_carbon, synthetic_turnover

CAT = load_catalogue()
YEAR = date(2025, 1, 1)


def _floor_to(fen: Fraction, step: int) -> int:
    return int(fen // step) * step


def test_sme_limit_follows_a_year_of_daily_turnover() -> None:
    p = CAT.get("sme-turnover")
    series = synthetic_turnover("bistro-17", YEAR, 365, base_daily_fen=600_000)
    peak: dict[int, int] = {}
    warned: dict[int, int] = {}
    day = date(2025, 7, 1)  # 181 days of history: eligible from here on
    while day.year == 2025:
        signals = sme_signals(series, day)
        assert not p.eligibility_failures(age=40, segment="business", signals=signals)
        result = p.limit_for(signals)
        base = (
            Fraction(Decimal("1.5")) * Fraction(signals["pos_monthly_sales_yuan"])  # type: ignore[arg-type]
            + 15 * Fraction(signals["delivery_monthly_orders"])  # type: ignore[arg-type]
        ) * 100
        is_peak = signals["season_index"] >= Decimal("1.15")  # type: ignore[operator]
        slow = signals["turnover_4w_yuan"] < Decimal("0.7") * signals["turnover_4w_norm_yuan"]  # type: ignore[operator]
        assert not (is_peak and slow)
        assert ("peak-season-uplift" in result.flags) == is_peak
        assert ("turnover-warning" in result.flags) == slow == result.freeze_new_draws
        expected = _floor_to(base * Fraction(13, 10) if is_peak else base, 10_000)
        assert result.limit_fen == expected
        assert result.base_fen == int(base)
        if is_peak:
            peak[day.month] = peak.get(day.month, 0) + 1
            assert result.limit_fen >= _floor_to(base, 10_000) * 13 // 10 - 10_000
            assert "旺季" in result.explanation_zh and "peak season" in result.explanation_en
        if slow:
            warned[day.month] = warned.get(day.month, 0) + 1
        day += timedelta(days=1)
    # the summer peak (July–August) lifts the limit automatically; November's slump warns
    assert peak.get(8, 0) >= 20 and not peak.get(11)
    assert warned.get(11, 0) >= 10 and not warned.get(8)


def test_sme_signals_read_no_future_and_count_closed_days_as_zero() -> None:
    series = synthetic_turnover("noodle-3", YEAR, 120, base_daily_fen=400_000)
    as_of = date(2025, 3, 31)
    assert sme_signals(series, as_of) == sme_signals([d for d in series if d.day <= as_of], as_of)
    gap = [d for d in series if not date(2025, 3, 1) <= d.day <= date(2025, 3, 14)]
    closed = sme_signals(gap, as_of)
    assert closed["turnover_4w_yuan"] < sme_signals(series, as_of)["turnover_4w_yuan"]  # type: ignore[operator]
    assert closed["history_days"] == 90
    with pytest.raises(ValidationError) as err:
        sme_signals(series, date(2024, 12, 31))
    assert err.value.field == "series"


@pytest.mark.parametrize(
    ("band", "reaches_cap"),
    [((Decimal("1.0"), Decimal("3.0")), True), ((Decimal("0.05"), Decimal("0.40")), False)],
    ids=["ride-hailing driver", "private owner"],
)
def test_carbon_limit_adds_500_per_verified_tonne_up_to_the_cap(
    band: tuple[Decimal, Decimal], reaches_cap: bool
) -> None:
    p = CAT.get("carbon-credit")
    certs = synthetic_carbon(f"nev-{reaches_cap}", date(2022, 1, 1), 48, monthly_tonnes=band)
    previous: tuple[int, int] | None = None
    capped_at: date | None = None
    for cert in certs:
        signals = carbon_signals(certs, date(2021, 6, 1), cert.day)
        tonnes = signals["carbon_tonnes_verified"]
        assert isinstance(tonnes, Decimal)
        whole = int(tonnes)
        limit = p.limit_for(signals).limit_fen
        assert limit == (8_000 + min(500 * whole, 30_000)) * 100
        if previous is not None:
            prev_whole, prev_limit = previous
            if 500 * whole <= 30_000:
                assert limit - prev_limit == 500_00 * (whole - prev_whole)  # +500 CNY per tonne
            else:
                assert limit <= 38_000_00
        if limit == 38_000_00 and capped_at is None:
            capped_at = cert.day
        previous = (whole, limit)
    assert (capped_at is not None) == reaches_cap


def test_carbon_certificates_count_once_and_not_before_their_date() -> None:
    certs = synthetic_carbon("x", date(2024, 1, 1), 3)
    with pytest.raises(ValidationError, match="counted twice"):
        carbon_signals([*certs, certs[0]], date(2023, 1, 1), date(2024, 6, 1))
    early = carbon_signals(certs, date(2023, 1, 1), certs[0].day - timedelta(days=1))
    assert early["carbon_tonnes_verified"] == 0


def test_health_data_is_never_a_credit_input() -> None:
    prohibited = {n for n, s in SIGNALS.items() if s.category is Category.PROHIBITED}
    assert {"diagnosis_code", "treatment_department", "medical_history_conditions"} <= prohibited
    for p in CAT.all():
        assert prohibited.isdisjoint(p.signals), p.code
    medical = CAT.get("medical-credit")
    feed = SyntheticSignalSource(seed=3).fetch("patient-9", "medical", date(2025, 6, 1))
    assert "diagnosis_code" in feed  # the hospital's record carries it …
    assert prohibited.isdisjoint(credit_view(feed))  # … and it is dropped before credit use
    history = repayment_signals([], date(2025, 6, 1))
    result = medical.limit_for({**feed, **history})
    assert prohibited.isdisjoint(result.inputs)
    amount = Fraction(feed["treatment_plan_amount_yuan"])  # type: ignore[arg-type]
    assert result.limit_fen == _floor_to(min(amount, 100_000) * 100, 10_000)


def test_priority_registration_follows_the_repayment_record() -> None:
    medical = CAT.get("medical-credit")
    start = date(2025, 1, 15)
    dues = [date(2025, m, 15) for m in range(1, 13)]
    on_time = [InstalmentRecord(d, d - timedelta(days=1), 50_000) for d in dues]

    def perk(records: list[InstalmentRecord], as_of: date) -> bool:
        return entitlement(
            medical, "priority-registration", repayment_signals(records, as_of), as_of
        ).granted

    assert not perk(on_time, start + timedelta(days=40))  # 2 instalments so far: not yet
    granted = entitlement(
        medical,
        "priority-registration",
        repayment_signals(on_time, date(2025, 4, 1)),
        date(2025, 4, 1),
    )
    assert granted.granted and granted.valid_until == date(2025, 9, 28)
    assert "优先挂号" in granted.reason_zh
    late = [
        *on_time[:3],
        InstalmentRecord(dues[3], dues[3] + timedelta(days=9), 50_000),
        *on_time[4:],
    ]
    assert not perk(late, date(2025, 8, 1))  # one late instalment in 24 months loses it
    unpaid = [*on_time[:5], InstalmentRecord(dues[5], None, 50_000)]
    signals = repayment_signals(unpaid, date(2025, 6, 20))
    assert signals["current_dpd"] == 5
    assert not entitlement(medical, "priority-registration", signals, date(2025, 6, 20)).granted
    assert [
        r.code for r in medical.eligibility_failures(age=50, segment="consumer", signals=signals)
    ] == ["not-overdue"]


def test_repayment_signals_on_a_record_with_one_old_late_payment() -> None:
    dues = [date(2024, 1, 10) + timedelta(days=30 * k) for k in range(18)]
    recs = [InstalmentRecord(d, d, 10_000) for d in dues]
    recs[2] = InstalmentRecord(dues[2], dues[2] + timedelta(days=20), 10_000)
    s = repayment_signals(recs, dues[-1])
    assert s == {
        "ontime_instalments": 17,
        "late_instalments_24m": 1,
        "max_dpd_24m": 20,
        "current_dpd": 0,
        "ontime_months_consecutive": 15,
        "internal_overdue_records": 1,
    }
    repair = CAT.get("credit-repair")
    assert [p.code for p in repair.entitlements(s)] == ["overdue-offset"]
    assert repair.limit_for(s).limit_fen == min(3_000 + 500 * 15, 20_000) * 100


def test_synthetic_feed_is_labelled_deterministic_and_valid() -> None:
    a, b = SyntheticSignalSource(seed=11), SyntheticSignalSource(seed=11)
    as_of = date(2025, 9, 30)
    for family, specs in FAMILIES.items():
        snap = a.fetch("u-42", family, as_of)
        assert snap.synthetic and snap.provenance.startswith("synthetic:")
        assert "SYNTHETIC" in snap.notes[1] and "合成数据" in snap.notes[0]
        assert dict(snap) == dict(b.fetch("u-42", family, as_of))
        assert set(snap) <= {s.name for s in specs}
    assert dict(a.fetch("u-42", "sme", as_of)) != dict(a.fetch("u-43", "sme", as_of))
    with pytest.raises(ValidationError) as err:
        a.fetch("u-42", "horoscope", as_of)
    assert err.value.field == "family"


def test_every_product_prices_a_limit_on_synthetic_signals() -> None:
    source = SyntheticSignalSource(seed=5)
    as_of = date(2025, 10, 1)
    for n in range(20):
        signals: dict[str, object] = {}
        for family in FAMILIES:
            signals.update(credit_view(source.fetch(f"s{n}", family, as_of)))
        for p in CAT.all():
            result = p.limit_for(signals)
            assert 0 <= result.limit_fen <= p.limit.max_fen
            assert result.limit_fen % p.limit.round_down_to_fen == 0
            assert set(result.inputs) == set(p.limit_signals)


def test_bad_signal_values_are_refused_naming_the_signal() -> None:
    p = CAT.get("carbon-credit")
    with pytest.raises(ValidationError) as err:
        p.limit_for({"carbon_tonnes_verified": 2.5})
    assert err.value.field == "carbon_tonnes_verified" and "exact" in err.value.reason
    with pytest.raises(ValidationError) as err:
        p.limit_for({"carbon_tonnes_verified": Decimal("-1")})
    assert "below the minimum" in err.value.reason
    with pytest.raises(ValidationError) as err:
        CAT.get("travel-credit").limit_for({"travel_mileage_km": 10})
    assert err.value.field in {
        "guide_count",
        "guide_quality",
        "hotel_review_count",
        "review_quality",
    }
