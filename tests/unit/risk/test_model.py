import json
import math

import numpy as np
import pytest

from xindai.risk.model import GbmModel, RobustZAnomaly, train_gbm


@pytest.fixture(scope="module")
def model() -> GbmModel:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 4))
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values must route like LightGBM
    x[:, 3] = np.where(rng.random(3000) < 0.3, 0.0, x[:, 3])
    y = (np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) > 0.8).astype(np.int8)
    return train_gbm(x, y, ["a", "b", "c", "d"], rounds=30)


def test_pure_python_trees_match_lightgbm(model: GbmModel) -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(400, 4))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[::7, 3] = 0.0
    reference = model.score_matrix(x)
    fast = [model.score(dict(zip(model.feature_names, row, strict=True))) for row in x]
    assert np.allclose(reference, fast, atol=1e-9)


def test_saved_without_pickle_and_reloads(model: GbmModel, tmp_path) -> None:
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.txt"]
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["feature_names"] == ["a", "b", "c", "d"]
    again = GbmModel.load(tmp_path)
    probe = {"a": 1.0, "b": math.nan, "c": 0.2, "d": 0.0}
    assert again.score(probe) == pytest.approx(model.score(probe), abs=1e-12)
    assert 0.0 <= again.score(probe) <= 1.0


def test_robust_z_anomaly_ranks_outliers_and_round_trips() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000, 3))
    an = RobustZAnomaly.fit(x, ["p", "q", "r"])
    normal = an.score({"p": 0.1, "q": -0.2, "r": 0.0})
    odd = an.score({"p": 9.0, "q": -8.0, "r": 7.0})
    assert 0.0 <= normal < odd <= 1.0
    again = RobustZAnomaly.from_json(json.loads(json.dumps(an.to_json())))
    assert again.score({"p": 9.0, "q": -8.0, "r": 7.0}) == pytest.approx(odd)
    assert an.score({"p": math.nan}) == 0.0


def test_process_batch_equals_one_by_one_with_a_model() -> None:
    from datetime import UTC, datetime, timedelta

    from xindai.risk.engine import RiskEngine
    from xindai.risk.events import Event, EventType

    from .helpers import REGISTRY, RULES

    names = REGISTRY.names
    rng = np.random.default_rng(4)
    x = rng.normal(size=(600, len(names))) * 50
    y = (x[:, names.index("tx_amount")] > 30).astype(np.int8)
    model = train_gbm(x, y, names, rounds=15)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    events = [
        Event(
            f"e{i}",
            f"s{i % 4}",
            EventType.TRANSACTION,
            start + timedelta(minutes=7 * i),
            (start + timedelta(minutes=7 * i)).timestamp(),
            amount_fen=int(rng.integers(100, 30000)),
            terminal_id=f"t{i % 3}",
        )
        for i in range(120)
    ]
    single = RiskEngine(REGISTRY, RULES, model=model)
    batched = RiskEngine(REGISTRY, RULES, model=model)
    one = [single.process(e) for e in events]
    many = batched.process_batch(events[:50]) + batched.process_batch(events[50:])
    assert len(many) == len(one) == 120
    for a, b in zip(one, many, strict=True):
        assert a is not None
        assert a.model_score == pytest.approx(b.model_score, abs=1e-9)
        assert (a.action, a.level_after, a.hits) == (b.action, b.level_after, b.hits)
