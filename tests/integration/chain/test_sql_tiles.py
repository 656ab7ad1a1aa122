"""The Merkle log on the SQL tile store (SQLite and PostgreSQL): same roots and proofs as the
in-memory store, proofs verify, appends are all-or-nothing, stored positions are never rewritten
and the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from tests.integration.conftest import BACKENDS
from xindai.bootstrap import upgrade_database
from xindai.chain.log import MerkleLog
from xindai.chain.merkle import leaf_hash, verify_consistency, verify_inclusion
from xindai.chain.tiles import InMemoryTileStore
from xindai.kernel.errors import ConflictError
from xindai.store.chain_tiles import SqlTileStore
from xindai.store.engine import make_engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade_database(db_url)
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_sql_log_matches_memory_and_proofs_verify(engine: Engine) -> None:
    rng = random.Random(9162)
    sql, mem = MerkleLog(SqlTileStore(engine, "consortium")), MerkleLog(InMemoryTileStore())
    data = [f"entry-{i}".encode() for i in range(157)]
    at = 0
    while at < len(data):
        batch = data[at : at + rng.randint(1, 23)]
        sql.append(batch)
        mem.append(batch)
        at += len(batch)
        assert sql.size() == mem.size() == at
        assert sql.root() == mem.root()
    size = sql.size()
    root = sql.root()
    for index in rng.sample(range(size), 20):
        proof = sql.inclusion_proof(index)
        assert proof == mem.inclusion_proof(index)
        verify_inclusion(leaf_hash(data[index]), index, size, proof, root)
    for old in rng.sample(range(1, size), 10):
        verify_consistency(old, size, sql.consistency_proof(old), sql.root(old), root)
    assert sql.entries(10, 13) == data[10:13]
    assert MerkleLog(SqlTileStore(engine, "another")).size() == 0  # logs are separate


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_appends_are_append_only_and_atomic(engine: Engine) -> None:
    store = SqlTileStore(engine)
    log = MerkleLog(store)
    log.append([b"a", b"b", b"c"])
    root = log.root()
    with pytest.raises(ConflictError):
        store.append(1, [b"x"], [[leaf_hash(b"x")], [bytes(32)]])  # rewriting position 1 is refused
    assert log.size() == 3 and log.root() == root
    for statement in (
        "UPDATE chain_nodes SET hash = hash WHERE level = 0",
        "DELETE FROM chain_entries",
        "UPDATE chain_heads SET size = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert log.size() == 3 and log.root() == root and log.entries(0, 3) == [b"a", b"b", b"c"]
