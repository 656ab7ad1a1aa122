"""The handbook protocol on the real simulator stream (slow: ~560k events through the indicators).

Train one week from 2018-07-25, one week of label delay, test the following week, known-defrauded
customers removed from the test days; the published best is AUC ≈ 0.87, AP ≈ 0.69.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xindai.risk.engine import RiskEngine
from xindai.risk.geo import SHANGHAI_OFFSET_S
from xindai.risk.rules import RuleSet
from xindai.risk.training import extract_features, handbook_events, train_and_evaluate

from .helpers import REGISTRY


def _dataset() -> Path:
    base = os.environ.get("XINDAI_DATASETS_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[4] / "shared" / "datasets"
    return root / "fraud" / "handbook_sim" / "transactions.csv.gz"


@pytest.mark.slow
def test_handbook_protocol_reaches_published_quality() -> None:
    path = _dataset()
    if not path.exists():
        pytest.skip(f"dataset not found at {path} (set XINDAI_DATASETS_DIR)")
    start = datetime(2018, 7, 25)
    start_utc = (start - timedelta(seconds=SHANGHAI_OFFSET_S)).replace(tzinfo=UTC)
    engine = RiskEngine(REGISTRY, RuleSet("none", "0", ()))
    table = extract_features(
        engine,
        handbook_events(path),
        until_ts=(start_utc + timedelta(days=21)).timestamp(),
        since_ts=(start_utc - timedelta(days=37)).timestamp(),  # 30-day windows + 7-day delay
    )
    result = train_and_evaluate(table, start)
    metrics = result.metrics
    assert metrics["train_positives"] > 300 and metrics["test_positives"] > 200
    assert metrics["auc"] >= 0.87, metrics
    assert metrics["average_precision"] >= 0.69, metrics
