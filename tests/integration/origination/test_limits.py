"""Dynamic limits on real sequences of signals (SQLite and PostgreSQL): the SME peak-season +30%
and the off-season turnover warning that freezes new draws, carbon +500 CNY per verified tonne,
never below the drawn balance, every change audited and notified, idempotent per day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app.demo import application_for, complete_lesson, consent_all
from xindai.app.limits import dynamic_products, review_limits
from xindai.app.origination import (
    Origination,
    accept_offer,
    audit_trail,
    decide,
    disburse_application,
    submit_application,
)
from xindai.kernel.clock import FixedClock

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)


@dataclass
class SeriesFeed:
    """A partner feed replayed from dated snapshots: the latest snapshot on or before ``as_of``."""

    series: dict[tuple[str, str], list[tuple[date, dict[str, object]]]] = field(
        default_factory=dict
    )

    def add(self, subject: str, family: str, on: date, values: dict[str, object]) -> None:
        self.series.setdefault((subject, family), []).append((on, values))

    def fetch(self, subject: str, family: str, as_of: date) -> Mapping[str, object]:
        found = [v for d, v in sorted(self.series.get((subject, family), [])) if d <= as_of]
        return found[-1] if found else {}


def _open(
    o: Origination, clock: FixedClock, code: str, subject: str, features: dict[str, object]
) -> str:
    app = submit_application(o, application_for(code, subject, features))
    consent_all(o, subject, code)
    complete_lesson(o, clock, app["id"])
    view = decide(o, app["id"])
    assert view["status"] == "offered", view["decision"]["reasons"]
    accept_offer(o, app["id"], signer=subject, terms_sha256=view["offer"]["terms_sha256"])
    disburse_application(o, app["id"])
    return str(app["id"])


def _limit(o: Origination, app_id: str) -> tuple[str, bool]:
    with o.uow() as uow:
        row = uow.origination.limit_of(app_id)
    assert row is not None
    return f"{Decimal(row['limit_fen']) / 100:.2f}", bool(row["frozen"])


def _sme(pos: int, orders: int, season: str, last4w: int, norm: int = 75_000) -> dict[str, object]:
    return {
        "pos_monthly_sales_yuan": pos,
        "delivery_monthly_orders": orders,
        "history_days": 720,
        "season_index": Decimal(season),
        "turnover_4w_yuan": last4w,
        "turnover_4w_norm_yuan": norm,
    }


def test_sme_peak_uplift_off_season_warning_and_carbon_per_tonne(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    assert sorted(dynamic_products(orig)) == ["carbon-credit", "sme-turnover"]
    feed = SeriesFeed()
    o = Origination(**{**orig.__dict__, "signals": feed})
    sme = _open(o, clock, "sme-turnover", "shop-1", pool["good"][0])
    car = _open(o, clock, "carbon-credit", "driver-1", pool["good"][1])
    assert _limit(o, sme) == ("138000.00", False)  # 1.5 × 80,000 + 15 × 1,200
    assert _limit(o, car) == ("14000.00", False)  # 8,000 + 500 × 12 t
    day0 = clock.today()
    weeks = [
        # (sme signals, verified tonnes, expected SME limit, frozen, expected carbon limit)
        (_sme(80_000, 1_200, "1.00", 76_000), 12, "138000.00", False, "14000.00"),
        (_sme(80_000, 1_200, "1.20", 90_000), 14, "179400.00", False, "15000.00"),  # peak +30%
        (
            _sme(90_000, 1_300, "1.25", 99_000),
            20,
            "200800.00",
            False,
            "18000.00",
        ),  # rounded down to 100
        (_sme(25_000, 300, "0.80", 50_000), 20, "50000.00", True, "18000.00"),  # warning; ≥ drawn
        (_sme(60_000, 1_000, "1.00", 70_000), 20, "105000.00", False, "18000.00"),
    ]
    for n, (signals, tonnes, sme_limit, frozen, car_limit) in enumerate(weeks, start=1):
        on = day0 + timedelta(days=7 * n)
        clock.advance(timedelta(days=7))
        feed.add("shop-1", "sme", on, signals)
        feed.add(
            "driver-1", "carbon", on, {"carbon_tonnes_verified": tonnes, "nev_months_owned": 18}
        )
        summary = review_limits(o, on)
        assert summary["errors"] == 0 and summary["reviewed"] == 2
        assert _limit(o, sme) == (sme_limit, frozen), f"week {n}"
        assert _limit(o, car) == (car_limit, False), f"week {n}"
        again = review_limits(o, on)  # the same day twice changes nothing
        assert again["reviewed"] == 0
    # carbon: 12 → 20 verified tonnes added exactly 8 × 500 CNY
    assert Decimal("18000.00") - Decimal("14000.00") == 8 * 500
    changes = [s for s in audit_trail(o, sme) if s["step"] == "limit-review"]
    assert [c["detail"]["to"] for c in changes] == [
        "179400.00",
        "200800.00",
        "50000.00",
        "105000.00",
    ]
    assert "peak-season-uplift" in changes[0]["detail"]["flags"]
    assert "turnover-warning" in changes[2]["detail"]["flags"]
    assert "drawn balance" in changes[2]["detail"]["en"]
    with o.uow() as uow:
        kinds = [n["kind"] for n in uow.origination.notifications("shop-1")]
    assert kinds == ["limit-changed", "limit-changed", "draws-frozen", "limit-changed"]
