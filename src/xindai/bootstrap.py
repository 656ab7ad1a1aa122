"""Composition root: settings → engine and unit of work, product catalogue → use cases.

The only module that wires adapters to the application; entry points (CLI, API, web) get a
``Platform`` from here and never import the store themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine

from xindai.app.ports import UnitOfWork, UnitOfWorkFactory
from xindai.config import Settings
from xindai.products.loan_product import LoanProduct, load_catalogue
from xindai.store import migrate
from xindai.store.engine import make_engine
from xindai.store.uow import SqlUnitOfWork


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    products: Mapping[str, LoanProduct]
    uow: UnitOfWorkFactory

    def close(self) -> None:
        self.engine.dispose()


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
