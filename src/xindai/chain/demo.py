"""A small, deterministic consortium log for demos, docs and end-to-end tests.

Three members (a co-operative, an inspector, a lender) are registered; the co-operative and the
inspector attest a sowing stage; the operator signs two checkpoints; three member witnesses watch
the log under a 2-of-3 policy. Witnesses cosign the first checkpoint on first use and the second
only after checking a consistency proof from the first; one witness is "offline" for the second,
so the bundle shows a quorum of exactly 2 of 3.

Keys derive from fixed demo secrets and the clock is fixed, so the output is byte-for-byte the
same on every run. Never use these keys for anything real.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from xindai.chain.bundle import export_bundle
from xindai.chain.checkpoint import Cosigner, SignedCheckpoint
from xindai.chain.keys import SigningKey
from xindai.chain.ledger import ChainLedger
from xindai.chain.members import Role
from xindai.chain.note import NoteSigner
from xindai.chain.privacy import commit_personal
from xindai.chain.tiles import InMemoryTileStore
from xindai.chain.witness import QuorumPolicy, Witness
from xindai.kernel import FixedClock

DEMO_ORIGIN = "xindai.example/consortium-log"
DEMO_MEMBERS = (
    ("coop.hebei-01", Role.COOPERATIVE),
    ("inspector.agri-01", Role.INSPECTOR),
    ("lender.xindai", Role.LENDER),
)


@dataclass
class DemoChain:
    """The demo's ledger, keys, witnesses and policy, for tests that want to go further."""

    ledger: ChainLedger
    clock: FixedClock
    member_keys: dict[str, SigningKey]
    witnesses: list[Witness]
    policy: QuorumPolicy
    attestation_index: int
    checkpoints: list[SignedCheckpoint]


def demo_key(label: str) -> SigningKey:
    return SigningKey.from_secret(b"xindai-demo:" + label.encode())


def build_demo_chain() -> DemoChain:
    clock = FixedClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    operator = NoteSigner(DEMO_ORIGIN, demo_key("operator"))
    ledger = ChainLedger(InMemoryTileStore(), operator, clock)
    keys = {name: demo_key(name) for name, _ in DEMO_MEMBERS}
    for name, role in DEMO_MEMBERS:
        ledger.register_member(name, role, keys[name].public_key)

    salt = hashlib.sha256(b"xindai-demo-salt:farmer-0001").digest()[:16]
    sowing = {
        "line": "SCF-2026-0001",
        "stage": "sowing",
        "farmer_name": commit_personal("王小明", salt),
        "plot": commit_personal("Hebei/Gaocheng plot 12", salt),
        "area_mu": 120,
        "seed_batch": "SB-2026-031",
    }
    clock.advance(timedelta(hours=2))
    attestation = ledger.sign_and_submit(
        "stage.attest", "coop.hebei-01", sowing, keys["coop.hebei-01"]
    )
    clock.advance(timedelta(hours=1))
    ledger.sign_and_submit(
        "stage.confirm",
        "inspector.agri-01",
        {"line": "SCF-2026-0001", "stage": "sowing", "attestation": attestation, "result": "pass"},
        keys["inspector.agri-01"],
    )

    witnesses = [
        Witness(
            Cosigner(f"{name}/witness", demo_key(f"{name}/witness")),
            operator.verifier,
            DEMO_ORIGIN,
            clock,
        )
        for name, _ in DEMO_MEMBERS
    ]
    policy = QuorumPolicy(2, tuple(w.verifier for w in witnesses))

    clock.advance(timedelta(minutes=5))
    first = ledger.checkpoint()
    first = first.with_cosignatures([w.add_checkpoint(first.text(), 0) for w in witnesses])

    clock.advance(timedelta(hours=1))
    ledger.sign_and_submit(
        "stage.release-request",
        "lender.xindai",
        {
            "line": "SCF-2026-0001",
            "stage": "sowing",
            "amount": "50000.00",
            "evidence": [attestation],
        },
        keys["lender.xindai"],
    )
    clock.advance(timedelta(minutes=5))
    second = ledger.checkpoint()
    old = first.checkpoint.size
    proof = ledger.log.consistency_proof(old, second.checkpoint.size)
    online = witnesses[1:]  # the co-operative's witness is offline: 2 of 3 still meet the quorum
    second = second.with_cosignatures([w.add_checkpoint(second.text(), old, proof) for w in online])
    return DemoChain(ledger, clock, keys, witnesses, policy, attestation, [first, second])


def demo_bundle() -> dict[str, Any]:
    """A valid proof bundle for the co-operative's sowing attestation."""
    demo = build_demo_chain()
    return export_bundle(demo.ledger, demo.attestation_index, demo.checkpoints[-1], demo.policy)
