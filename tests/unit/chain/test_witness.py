"""Witnesses cosign only consistent checkpoints; quorum policies; equivocation evidence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.chain.checkpoint import Checkpoint, Cosigner, open_checkpoint, sign_checkpoint
from xindai.chain.log import MerkleLog
from xindai.chain.tiles import InMemoryTileStore
from xindai.chain.witness import (
    INCONSISTENT,
    SAME_SIZE,
    EquivocationError,
    QuorumPolicy,
    Witness,
    find_equivocation,
)
from xindai.kernel import ConflictError, ValidationError

from .helpers import ORIGIN, clock, key, operator


def _witness(name: str = "w1") -> Witness:
    return Witness(Cosigner(f"{name}.example", key(name)), operator().verifier, ORIGIN, clock())


def _log(n: int, tag: bytes = b"") -> MerkleLog:
    log = MerkleLog(InMemoryTileStore())
    log.append([tag + b"%d" % i for i in range(n)])
    return log


def _signed(log: MerkleLog, size: int | None = None) -> str:
    size = log.size() if size is None else size
    return sign_checkpoint(Checkpoint(ORIGIN, size, log.root(size)), operator()).text()


def test_first_use_then_consistent_growth() -> None:
    w = _witness()
    log = _log(10)
    sig = w.add_checkpoint(_signed(log, 5), 0)
    assert sig.name == "w1.example"
    w.add_checkpoint(_signed(log, 10), 5, log.consistency_proof(5, 10))
    assert w.latest is not None and w.latest.checkpoint.size == 10
    # Re-presenting the same checkpoint is cosigned again.
    w.add_checkpoint(_signed(log, 10), 10)
    assert w.evidence == []


def test_stale_old_size_conflicts_and_bad_proof_shapes_are_bad_requests() -> None:
    w = _witness()
    log = _log(20)
    w.add_checkpoint(_signed(log, 8), 0)
    with pytest.raises(ConflictError, match="last cosigned size 8"):
        w.add_checkpoint(_signed(log, 20), 5, log.consistency_proof(5, 20))
    with pytest.raises(ValidationError, match="expected"):
        w.add_checkpoint(_signed(log, 20), 8, [])
    with pytest.raises(ValidationError, match="old_size"):
        w.add_checkpoint(_signed(log, 8), 9)
    with pytest.raises(ValidationError, match="no consistency proof"):
        w.add_checkpoint(_signed(log, 8), 8, [b"\x00" * 32])
    assert w.latest is not None and w.latest.checkpoint.size == 8 and w.evidence == []


def test_unsigned_or_foreign_checkpoints_refused() -> None:
    w = _witness()
    log = _log(4)
    forged = sign_checkpoint(Checkpoint(ORIGIN, 4, log.root()), type(operator())(ORIGIN, key("x")))
    with pytest.raises(ValidationError):
        w.add_checkpoint(forged.text(), 0)
    assert w.latest is None


def test_same_size_different_root_is_equivocation_with_both_notes_kept() -> None:
    w = _witness()
    honest, fork = _log(6), _log(6, b"fork-")
    w.add_checkpoint(_signed(honest), 0)
    with pytest.raises(EquivocationError) as info:
        w.add_checkpoint(_signed(fork), 6)
    ev = info.value.evidence
    assert ev.kind == SAME_SIZE and w.evidence == [ev]
    a = open_checkpoint(ev.first, operator().verifier)
    b = open_checkpoint(ev.second, operator().verifier)
    assert a.checkpoint.size == b.checkpoint.size and a.checkpoint.root != b.checkpoint.root
    assert ev.to_json()["first"] == ev.first
    # The witness did not move to the forked view.
    assert w.latest is not None and w.latest.checkpoint.root == honest.root()


def test_inconsistent_growth_is_equivocation() -> None:
    w = _witness()
    honest = _log(5)
    fork = _log(9, b"fork-")  # a larger tree that does not extend the honest one
    w.add_checkpoint(_signed(honest), 0)
    proof = fork.consistency_proof(5, 9)
    with pytest.raises(EquivocationError) as info:
        w.add_checkpoint(_signed(fork), 5, proof)
    assert info.value.evidence.kind == INCONSISTENT
    assert len(w.evidence) == 1


def test_find_equivocation_without_proof_is_undecided() -> None:
    a = open_checkpoint(_signed(_log(3)), operator().verifier)
    b = open_checkpoint(_signed(_log(7, b"x")), operator().verifier)
    assert find_equivocation(a, b) is None
    assert find_equivocation(a, a) is None


def test_quorum_policy_k_of_n() -> None:
    witnesses = [_witness(f"w{i}") for i in range(3)]
    policy = QuorumPolicy(2, tuple(w.verifier for w in witnesses))
    log = _log(4)
    signed = open_checkpoint(_signed(log), operator().verifier)
    one = signed.with_cosignatures([witnesses[0].add_checkpoint(signed.text(), 0)])
    assert policy.cosigners(one) == ["w0.example"] and not policy.is_met(one)
    two = one.with_cosignatures([witnesses[2].add_checkpoint(signed.text(), 0)])
    assert policy.is_met(two)
    # Cosignatures on another checkpoint do not count.
    other = open_checkpoint(_signed(log, 3), operator().verifier)
    moved = other.with_cosignatures(list(two.note.signatures[1:]))
    assert policy.cosigners(moved) == []
    assert QuorumPolicy.from_json(policy.to_json()) == policy


def test_quorum_policy_validation() -> None:
    w = _witness().verifier
    for threshold, keys in [(0, (w,)), (2, (w,)), (1, (w, w)), (1, (operator().verifier,))]:
        with pytest.raises(ValidationError):
            QuorumPolicy(threshold, keys)
    with pytest.raises(ValidationError):
        QuorumPolicy.from_json({"threshold": 1})


@settings(max_examples=25)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_witness_follows_any_honest_append_sequence(batches: list[int]) -> None:
    w = _witness()
    log = MerkleLog(InMemoryTileStore())
    seen = 0
    for n, b in enumerate(batches):
        log.append([b"%d-%d" % (n, i) for i in range(b)])
        size = log.size()
        proof = log.consistency_proof(seen, size) if seen else []
        w.add_checkpoint(_signed(log), seen, proof)
        seen = size
    assert w.evidence == []
