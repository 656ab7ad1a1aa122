"""Integration fixtures: a migrated database on SQLite always, and on PostgreSQL when
``XINDAI_TEST_POSTGRES_URL`` is set (CI sets it). Each PostgreSQL test gets its own schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

from xindai.bootstrap import Platform, bootstrap, upgrade_database

PG_URL = os.environ.get("XINDAI_TEST_POSTGRES_URL")

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _pg_schema_url() -> tuple[str, str]:
    assert PG_URL is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


def _drop_schema(schema: str) -> None:
    assert PG_URL is not None
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/xindai.db"
        return
    if not PG_URL:
        pytest.skip("XINDAI_TEST_POSTGRES_URL is not set (CI sets it)")
    schema, url = _pg_schema_url()
    try:
        yield url
    finally:
        _drop_schema(schema)


@pytest.fixture
def platform(db_url: str) -> Iterator[Platform]:
    upgrade_database(db_url)
    p = bootstrap(database_url=db_url)
    try:
        yield p
    finally:
        p.close()
