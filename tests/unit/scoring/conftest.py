"""Shared fixtures: a German-credit model trained once per session (3 folds keep it quick)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from xindai.kernel import FixedClock
from xindai.scoring import (
    TrainConfig,
    TrainResult,
    load_spec,
    load_training_data,
    save_model,
    train,
)
from xindai.scoring.paths import dataset_file


def german_path() -> Path:
    return dataset_file("german_credit/germancredit.csv", "german_credit.csv.gz")


@pytest.fixture(scope="session")
def german_result() -> TrainResult:
    data = load_training_data(german_path(), spec=load_spec("german_credit"))
    clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    return train(data, TrainConfig(kind="auto", folds=3), clock=clock)


@pytest.fixture(scope="session")
def german_dir(german_result: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(german_result, tmp_path_factory.mktemp("german") / "model")
