"""Composition root: settings → engine and unit of work, product catalogue → use cases.

The only module that wires adapters to the application; entry points (CLI, API, web) get a
``Platform`` from here and never import the store themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from xindai.app.ports import UnitOfWork, UnitOfWorkFactory
from xindai.config import Settings
from xindai.products.loan_product import LoanProduct, load_catalogue
from xindai.store import migrate
from xindai.store.engine import make_engine
from xindai.store.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from xindai.app.chain import ChainKeys, ChainService
    from xindai.app.origination import Origination
    from xindai.app.risk import RiskService
    from xindai.kernel.clock import Clock


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    products: Mapping[str, LoanProduct]
    uow: UnitOfWorkFactory
    _origination: Any = field(default=None, repr=False)

    def close(self) -> None:
        self.engine.dispose()

    def origination(self, **overrides: Any) -> Origination:
        """The origination services, built on first use; ``overrides`` (clock, scorers, fraud,
        signals, config, registry_dir) build a fresh set that the platform then serves."""
        if overrides or self._origination is None:
            self._origination = build_origination(self, **overrides)
        result: Origination = self._origination
        return result

    def risk(self) -> RiskService:
        """The real-time risk service with its decisions, cases, dead letters and black/white
        lists in this database (windows and levels live in the process, as in the worker)."""
        from xindai.app.risk import build_risk_service
        from xindai.store.risk_repo import SqlCases, SqlDeadLetters, SqlDecisions, SqlWatchlists

        return build_risk_service(
            decisions=SqlDecisions(self.engine),
            cases=SqlCases(self.engine),
            dead_letters=SqlDeadLetters(self.engine),
            watchlists=SqlWatchlists(self.engine),
        )

    def chain(self, keys: ChainKeys | None = None, clock: Clock | None = None) -> ChainService:
        """The consortium-chain service on this database (the log is rebuilt from it).

        Keys come from the JSON file named by ``XINDAI_CHAIN_KEYS``, else the fixed demo keys.
        """
        import json
        import os
        from pathlib import Path

        from xindai.app.chain import ChainKeys, ChainService
        from xindai.kernel.clock import SystemClock
        from xindai.store.chain_repo import SqlChainRepository

        if keys is None:
            path = os.environ.get("XINDAI_CHAIN_KEYS")
            keys = (
                ChainKeys.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
                if path
                else ChainKeys.demo()
            )
        return ChainService(SqlChainRepository(self.engine), keys, clock or SystemClock())


def _uow(engine: Engine) -> UnitOfWork:
    return SqlUnitOfWork(engine)


def bootstrap(settings: Settings | None = None, *, database_url: str | None = None) -> Platform:
    """Build the platform for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    if database_url:
        settings = Settings(database_url=database_url, redis_url=settings.redis_url)
    engine = make_engine(settings.database_url)
    return Platform(settings, engine, load_catalogue(), partial(_uow, engine))


def upgrade_database(database_url: str | None = None) -> str | None:
    """Apply every migration to the configured database; return the revision it is at."""
    url = database_url or Settings.from_env().database_url
    migrate.upgrade(url)
    return migrate.current(url)


def _eod_worker(database_url: str, day_iso: str, worker: str, chunk_size: int) -> dict[str, object]:
    from datetime import date

    from xindai.app.eod import run_eod

    platform = bootstrap(database_url=database_url)
    try:
        return run_eod(
            platform.uow,
            platform.products,
            date.fromisoformat(day_iso),
            chunk_size=chunk_size,
            worker=worker,
        ).as_dict()
    finally:
        platform.close()


def run_eod_parallel(
    database_url: str, day: object, *, workers: int, chunk_size: int
) -> dict[str, object]:
    """End of day with ``workers`` processes sharing the chunks (``FOR UPDATE SKIP LOCKED``)."""
    import time
    from concurrent.futures import ProcessPoolExecutor
    from datetime import date
    from multiprocessing import get_context

    from xindai.app.eod import eod_status

    assert isinstance(day, date)
    started = time.perf_counter()
    platform = bootstrap(database_url=database_url)
    try:
        with platform.uow() as uow:
            uow.eod.plan(day, chunk_size)
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(
                    _eod_worker, database_url, day.isoformat(), f"worker-{n + 1}", chunk_size
                )
                for n in range(workers)
            ]
            results = [f.result() for f in futures]
        status = eod_status(platform.uow, day)
    finally:
        platform.close()
    seconds = time.perf_counter() - started
    loans = sum(int(str(r["loans"])) for r in results)
    return {
        **status,
        "workers": workers,
        "loans": loans,
        "per_worker": results,
        "seconds": round(seconds, 3),
        "loans_per_second": round(loans / seconds, 1) if seconds else 0.0,
    }


DEFAULT_MODEL_REGISTRY = "var/models"


def model_registry_dir() -> Path:
    """Where the credit-model registry lives (``XINDAI_MODEL_REGISTRY``, default ``var/models``)."""
    return Path(os.environ.get("XINDAI_MODEL_REGISTRY", DEFAULT_MODEL_REGISTRY))


def ensure_champion(registry_dir: Path | None = None) -> Path:
    """The champion model's directory; with no champion yet, train the German-credit scorecard
    (the bundled public dataset, a few seconds) and promote it — so a fresh install can decide."""
    from xindai.kernel.errors import NotFoundError
    from xindai.scoring import (
        Registry,
        TrainConfig,
        load_spec,
        load_training_data,
        save_model,
        train,
    )
    from xindai.scoring.paths import dataset_file

    root = registry_dir or model_registry_dir()
    registry = Registry(root)
    try:
        return registry.path_of("champion")
    except NotFoundError:
        pass
    data = load_training_data(
        dataset_file("german_credit/germancredit.csv", "german_credit.csv.gz"),
        spec=load_spec("german_credit"),
    )
    model_dir = save_model(
        train(data, TrainConfig(kind="scorecard", folds=3)), root / "german-scorecard"
    )
    registry.promote(model_dir, "champion")
    return model_dir


def build_origination(platform: Platform, **overrides: Any) -> Origination:
    """Wire the origination use cases: catalogue, clock, the risk engine (default rules and
    indicators), the champion credit model from the registry, and the synthetic signal feed."""
    from xindai.app.origination import EngineFraudCheck, ModelScorer, Origination
    from xindai.kernel.clock import SystemClock
    from xindai.products.catalogue import load_catalogue as load_scenarios
    from xindai.products.scenarios.synthetic import SyntheticSignalSource
    from xindai.risk.engine import RiskEngine
    from xindai.risk.registry import load_registry
    from xindai.risk.rules import load_ruleset
    from xindai.scoring.artefact import load_model

    if "fraud" not in overrides:
        indicators = load_registry(None)
        overrides["fraud"] = EngineFraudCheck(
            RiskEngine(indicators, load_ruleset(None, indicators.names))
        )
    if "scorers" not in overrides:
        champion = ensure_champion(overrides.pop("registry_dir", None))
        overrides["scorers"] = {"champion": ModelScorer("champion", load_model(champion))}
    overrides.pop("registry_dir", None)
    if "signals" not in overrides:
        # until a partner feed is plugged in, the platform runs on the seeded feed that labels
        # every snapshot SYNTHETIC (provenance "synthetic:…")
        overrides["signals"] = SyntheticSignalSource(seed=7)
    overrides.setdefault("clock", SystemClock())
    overrides.setdefault("catalogue", load_scenarios())
    return Origination(uow=platform.uow, products=platform.products, **overrides)  # type: ignore[arg-type]
