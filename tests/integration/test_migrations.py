"""Alembic migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.integration.conftest import BACKENDS
from xindai.bootstrap import upgrade_database
from xindai.store.engine import make_engine
from xindai.store.tables import metadata


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_migrations_match_the_tables(db_url: str) -> None:
    assert upgrade_database(db_url) == "0008"
    assert upgrade_database(db_url) == "0008"  # idempotent
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    # server defaults added by a migration are not declared on the tables; types and columns must match
    assert [
        d for d in diffs if not (isinstance(d, list) and d and d[0][0] == "modify_default")
    ] == []
