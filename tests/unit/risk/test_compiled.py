"""The compiled hot path equals the interpretive engine it replaced.

``RiskEngine(compiled=True)`` (the default) runs generated indicator plans and one generated rule
function per event type, and ``TreeScorer`` runs compiled trees; ``compiled=False`` keeps the
closures and the tree walker. Decisions must be identical: same actions, hits, points, levels,
errors and indicator values — on the real handbook stream and on a mixed stream of every event type.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xindai.risk.decisions import Decision
from xindai.risk.engine import RiskEngine
from xindai.risk.events import Event, EventType, parse_event
from xindai.risk.lang import compile_expression
from xindai.risk.model import TreeScorer, _walk, train_gbm
from xindai.risk.rules import ENGINE_NAMES, build_ruleset
from xindai.risk.training import handbook_events

from .helpers import REGISTRY, RULES, T0


def _key(d: Decision) -> tuple[Any, ...]:
    values = tuple((k, "nan" if v != v else v) for k, v in d.indicators.items())
    return (
        d.decision_id,
        d.action,
        d.points,
        d.hits,
        d.shadow_hits,
        d.level_before,
        d.level_after,
        d.errors,
        d.listed,
        d.model_score,
        d.anomaly_score,
        values,
    )


def _replay(events: Sequence[Event], compiled: bool, **kw: Any) -> list[tuple[Any, ...]]:
    eng = RiskEngine(REGISTRY, RULES, compiled=compiled, **kw)
    return [_key(d) for d in map(eng.process, events) if d is not None]


def _handbook() -> Path:
    base = os.environ.get("XINDAI_DATASETS_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[4] / "shared" / "datasets"
    return root / "fraud" / "handbook_sim" / "transactions.csv.gz"


def test_compiled_engine_equals_interpretive_on_the_handbook_stream() -> None:
    path = _handbook()
    if not path.exists():
        pytest.skip(f"dataset not found: {path}")
    events = list(handbook_events(path, 15_000))
    old, new = _replay(events, False), _replay(events, True)
    assert len(old) == len(new) == 15_000
    assert old == new
    assert {k[1] for k in new} >= {"allow", "review"}  # the slice exercises rules, not just allow


def _mixed_stream(n: int, seed: int) -> list[Event]:
    """Every event type, shared devices and IPs, GPS hops, failures, repayments, labels, dupes."""
    rng = random.Random(seed)
    out: list[Event] = []
    types = [t.value for t in EventType]
    for i in range(n):
        subject = f"u{rng.randrange(12)}"
        raw: dict[str, Any] = {
            "event_id": f"e{i if rng.random() > 0.02 else max(0, i - 1)}",  # a few duplicates
            "subject": subject,
            "type": rng.choice(types),
            "occurred_at": (T0 + timedelta(minutes=7 * i + rng.randrange(-30, 5))).isoformat(),
        }
        if rng.random() < 0.7:
            raw["device_id"] = f"d{rng.randrange(6)}"
        if rng.random() < 0.7:
            raw["ip"] = f"10.0.0.{rng.randrange(5)}"
        if rng.random() < 0.5:
            raw["terminal_id"] = f"t{rng.randrange(4)}"
        if rng.random() < 0.4:
            raw["lat"], raw["lon"] = rng.uniform(20, 45), rng.uniform(80, 125)
        if rng.random() < 0.6:
            raw["amount"] = str(rng.choice([0, 1, 50, 230, 999, 5001]))
        attrs: dict[str, Any] = {}
        if rng.random() < 0.5:
            attrs["success"] = rng.random() < 0.6
        if rng.random() < 0.5:
            attrs["on_time"] = rng.random() < 0.8
        if rng.random() < 0.4:
            attrs["duration_s"] = rng.choice([0, 2, 30, 600])
        if rng.random() < 0.3:
            attrs["gps_region"] = rng.choice(["SH", "XJ"])
            attrs["ip_region"] = rng.choice(["SH", "BJ"])
        if attrs:
            raw["attributes"] = attrs
        if rng.random() < 0.5:
            raw["label"] = int(rng.random() < 0.1)
        out.append(parse_event(raw))
    return out


def test_compiled_engine_equals_interpretive_on_every_event_type_with_a_model() -> None:
    events = _mixed_stream(3000, seed=5)
    # A real (small) LightGBM model over all indicators, so model_score rules fire too.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, len(REGISTRY.names)))
    x[rng.random(x.shape) < 0.2] = np.nan
    y = (np.nan_to_num(x[:, 4]) + np.nan_to_num(x[:, 7]) > 0.5).astype(np.int8)
    gbm = train_gbm(x, y, REGISTRY.names, rounds=20)
    walker = TreeScorer(gbm.booster().dump_model(), gbm.feature_names, compiled=False)
    old = _replay(events, False, model=walker)
    new = _replay(events, True, model=gbm)
    assert old == new
    assert len({k[1] for k in new}) >= 3


RULE_SOURCES = [
    "tx_amount / subject_tx_count_1d > 1",
    "coalesce(subject_tx_avg_30d, 100) * 3 < tx_amount and is_night == 1",
    "not is_known(gps_speed_kmh) or gps_speed_kmh between 200 and 500",
    "local_hour in [0, 1, 2] and not (tx_amount not between 10 and 20)",
    "local_hour not in [3, tx_amount % 7] or -tx_amount >= -5",
    "max(tx_amount, subject_tx_sum_1d, 3) - min(abs(amount_zscore_30d), 2) > 4",
    "risk_level >= 4 or model_score >= 0.8 and anomaly_score < 0.1 or false",
    "tx_amount % subject_tx_count_1d == 0 and true",
]


def test_compiled_rules_equal_closures_including_nan_and_run_time_errors() -> None:
    lines = ["name: t", "rules:"]
    for i, src in enumerate(RULE_SOURCES):
        lines += [
            f"  - id: R{i}",
            f'    when: "{src}"',
            "    action: review",
            "    reason_zh: 理由",
            "    reason_en: reason",
        ]
    ruleset = build_ruleset("\n".join(lines) + "\n", REGISTRY.names)
    from xindai.risk.codegen import compile_rules

    trees = [r.condition.tree for r in ruleset.rules]
    fn = compile_rules([t for t in trees if t is not None])
    names = (*REGISTRY.names, *ENGINE_NAMES)
    rng = random.Random(11)
    choices = [math.nan, 0.0, 1.0, 2.0, 3.0, 4.5, 15.0, 250.0, -1.0, 0.85]
    for _ in range(3000):
        values = {n: rng.choice(choices) for n in names}
        fired, errors = fn(values)
        expected_fired, expected_errors = [], []
        for i, rule in enumerate(ruleset.rules):
            try:
                if rule.condition(values):
                    expected_fired.append(i)
            except ArithmeticError as exc:
                expected_errors.append((i, type(exc), str(exc)))
        assert fired == expected_fired
        assert [(i, type(e), str(e)) for i, e in (errors or [])] == expected_errors


def test_compiled_expression_keeps_the_language_closed() -> None:
    # The parser still guards the language: nothing but names, numbers and operators gets through.
    for bad in ("__import__('os')", "tx_amount.real > 1", "open('x') == 1", "tx_amount[0] > 1"):
        with pytest.raises(ValueError):
            compile_expression(bad, REGISTRY.names)


@pytest.mark.parametrize("params", [{}, {"zero_as_missing": True}])
def test_compiled_trees_are_bit_identical_to_the_walker(params: dict[str, Any]) -> None:
    # Missing types NaN and None (column e has no NaN in training), or Zero.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3000, 5))
    x[:, :4][rng.random((3000, 4)) < 0.15] = np.nan
    x[:, 2] = np.where(rng.random(3000) < 0.4, 0.0, x[:, 2])
    y = (np.nan_to_num(x[:, 0]) - np.nan_to_num(x[:, 2]) + x[:, 4] > 0.3).astype(np.int8)
    gbm = train_gbm(x, y, list("abcde"), rounds=40, params=params)
    fast = TreeScorer(gbm.booster().dump_model(), gbm.feature_names)
    probe = rng.normal(size=(500, 5))
    probe[rng.random(probe.shape) < 0.2] = np.nan
    probe[::5, 2] = 0.0
    for row in probe.tolist():
        assert fast.raw(row) == sum(_walk(t, row) for t in fast.trees)


def test_batched_model_and_anomaly_equal_one_by_one_on_every_event_type() -> None:
    from xindai.risk.model import RobustZAnomaly

    events = _mixed_stream(1500, seed=8)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1500, len(REGISTRY.names))) * 3
    x[rng.random(x.shape) < 0.2] = np.nan
    y = (np.nan_to_num(x[:, 0]) > 1).astype(np.int8)
    gbm = train_gbm(x, y, REGISTRY.names, rounds=10)
    anomaly = RobustZAnomaly.fit(x, REGISTRY.names)
    one = RiskEngine(REGISTRY, RULES, model=gbm, anomaly=anomaly)
    batched = RiskEngine(REGISTRY, RULES, model=gbm, anomaly=anomaly)
    singles = [d for d in map(one.process, events) if d is not None]
    many = [
        d for i in range(0, len(events), 256) for d in batched.process_batch(events[i : i + 256])
    ]
    assert len(singles) == len(many)
    for a, b in zip(singles, many, strict=True):
        assert a.anomaly_score == b.anomaly_score  # exactly: same IEEE operations, same order
        assert a.model_score == pytest.approx(b.model_score, abs=1e-12)
        assert (a.action, a.hits, a.shadow_hits, a.level_after) == (
            b.action,
            b.hits,
            b.shadow_hits,
            b.level_after,
        )
