"""Origination fixtures: the German-credit champion trained once per session (the bundled public
dataset), applicant feature rows split by its PD, and the origination services on a migrated
database with a settable server clock and the real risk engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xindai.app.demo import feature_pool
from xindai.app.origination import ModelScorer, Origination
from xindai.bootstrap import Platform, ensure_champion
from xindai.kernel.clock import FixedClock
from xindai.scoring.artefact import load_model

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: no night-time rules


@pytest.fixture(scope="session")
def champion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_champion(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def champion(champion_dir: Path) -> ModelScorer:
    return ModelScorer("champion", load_model(champion_dir))


@pytest.fixture(scope="session")
def pool(champion: ModelScorer) -> dict[str, list[dict[str, object]]]:
    return feature_pool(champion)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def orig(platform: Platform, champion: ModelScorer, clock: FixedClock) -> Iterator[Origination]:
    yield platform.origination(clock=clock, scorers={"champion": champion})
