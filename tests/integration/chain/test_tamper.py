"""The tamper drill on SQLite and PostgreSQL: change any byte of a stored entry, drop one, or
reorder two — directly in the database, with the append-only triggers dropped first — and
``audit`` names the first bad index. The ledger refuses to open on a tampered log."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from tests.integration.conftest import BACKENDS
from xindai.app.chain import ChainKeys, ChainService
from xindai.bootstrap import Platform
from xindai.chain.demo import demo_key
from xindai.chain.entries import sign_entry
from xindai.kernel import InvariantViolation

TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER chain_entries_no_update",
        "DROP TRIGGER chain_entries_no_delete",
        "DROP TRIGGER chain_nodes_no_update",
    ],
    "postgresql": [
        "DROP TRIGGER chain_entries_append_only ON chain_entries",
        "DROP TRIGGER chain_nodes_append_only ON chain_nodes",
    ],
}


def _build(platform: Platform) -> ChainService:
    chain = platform.chain(ChainKeys.demo())
    key = demo_key("coop.hebei-01")
    chain.ledger.register_member("coop.hebei-01", "co-operative", key.public_key)
    chain.submit(
        [
            sign_entry("stage.attest", "coop.hebei-01", {"line": "L-1", "n": n}, 1_772_000_000, key)
            for n in range(40)
        ]
    )
    chain.cosign()
    assert chain.audit()["ok"]
    return chain


def _tamper(platform: Platform, *statements: str, **params: object) -> None:
    with platform.engine.begin() as conn:
        for sql in TRIGGERS[conn.dialect.name]:
            conn.execute(text(sql))
        for sql in statements:
            conn.execute(text(sql), params)


def _entry(platform: Platform, idx: int) -> bytes:
    with platform.engine.connect() as conn:
        return bytes(
            conn.execute(
                text("SELECT data FROM chain_entries WHERE idx = :i"), {"i": idx}
            ).scalar_one()
        )


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_database_refuses_rewrites(platform: Platform) -> None:
    _build(platform)
    with pytest.raises(Exception, match="append-only"), platform.engine.begin() as conn:
        conn.execute(text("DELETE FROM chain_entries WHERE idx = 3"))
    with pytest.raises(Exception, match="append-only"), platform.engine.begin() as conn:
        conn.execute(text("UPDATE chain_checkpoints SET note = 'x'"))


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_changed_byte_is_named(platform: Platform) -> None:
    _build(platform)
    rng = random.Random(5)
    index = rng.randrange(1, 41)
    data = bytearray(_entry(platform, index))
    pos = rng.randrange(len(data))
    data[pos] ^= 0x01
    _tamper(platform, "UPDATE chain_entries SET data = :d WHERE idx = :i", d=bytes(data), i=index)
    report = platform.chain(ChainKeys.demo()).audit()
    assert not report["ok"] and report["first_bad_index"] == index
    with pytest.raises(InvariantViolation):
        platform.chain(ChainKeys.demo()).size()  # the ledger will not open on it


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_dropped_entry_is_named(platform: Platform) -> None:
    _build(platform)
    _tamper(platform, "DELETE FROM chain_entries WHERE idx = 17")
    report = platform.chain(ChainKeys.demo()).audit()
    assert report["first_bad_index"] == 17 and "missing" in report["detail"]


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_reordered_pair_is_named(platform: Platform) -> None:
    _build(platform)
    a, b = _entry(platform, 9), _entry(platform, 30)
    _tamper(
        platform,
        "UPDATE chain_entries SET data = :a WHERE idx = 30",
        "UPDATE chain_entries SET data = :b WHERE idx = 9",
        a=a,
        b=b,
    )
    report = platform.chain(ChainKeys.demo()).audit()
    assert report["first_bad_index"] == 9


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_forged_subtree_hash_is_named(platform: Platform) -> None:
    _build(platform)
    _tamper(
        platform,
        "UPDATE chain_nodes SET hash = :h WHERE level = 2 AND idx = 5",
        h=bytes(32),
    )
    report = platform.chain(ChainKeys.demo()).audit()
    assert report["first_bad_index"] == 20  # level 2, node 5 covers leaves 20..23
