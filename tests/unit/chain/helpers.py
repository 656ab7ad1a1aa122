"""Small builders shared by the chain tests (real objects, no doubles)."""

from __future__ import annotations

from datetime import UTC, datetime

from xindai.chain.keys import SigningKey
from xindai.chain.ledger import ChainLedger
from xindai.chain.members import Role
from xindai.chain.note import NoteSigner
from xindai.chain.tiles import InMemoryTileStore
from xindai.kernel import FixedClock

ORIGIN = "test.example/log"


def key(label: str) -> SigningKey:
    return SigningKey.from_secret(b"test:" + label.encode())


def clock() -> FixedClock:
    return FixedClock(datetime(2026, 5, 1, tzinfo=UTC))


def operator() -> NoteSigner:
    return NoteSigner(ORIGIN, key("operator"))


def ledger_with_members(*members: tuple[str, Role]) -> tuple[ChainLedger, dict[str, SigningKey]]:
    ledger = ChainLedger(InMemoryTileStore(), operator(), clock())
    keys = {}
    for name, role in members:
        keys[name] = key(name)
        ledger.register_member(name, role, keys[name].public_key)
    return ledger, keys
