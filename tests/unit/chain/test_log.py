"""MerkleLog over the in-memory TileStore: append-only, batch shapes, O(log n) reads, audit."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from xindai.chain import merkle as m
from xindai.chain.log import MerkleLog
from xindai.chain.tiles import InMemoryTileStore, check_append_shape
from xindai.kernel import ConflictError, InvariantViolation, NotFoundError, ValidationError

from . import reference as ref


class CountingStore(InMemoryTileStore):
    """The real in-memory store, counting how many hashes each read asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []

    def nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        self.reads.append(len(coords))
        return super().nodes(coords)


def _filled(n: int, batch: int = 100) -> tuple[MerkleLog, list[bytes]]:
    data = [b"%d" % i for i in range(n)]
    log = MerkleLog(InMemoryTileStore())
    for i in range(0, n, batch):
        log.append(data[i : i + batch])
    return log, data


def test_append_returns_indices_and_roots_track_reference() -> None:
    log = MerkleLog(InMemoryTileStore())
    assert log.root() == m.EMPTY_ROOT
    assert log.append([b"a", b"b", b"c"]) == range(0, 3)
    assert log.append([]) == range(3, 3)
    assert log.append([b"d"]) == range(3, 4)
    assert log.root() == ref.mth([b"a", b"b", b"c", b"d"])
    assert log.root(3) == ref.mth([b"a", b"b", b"c"])
    assert log.entry(2) == b"c"


def test_store_refuses_to_rewrite_a_position() -> None:
    store = InMemoryTileStore()
    log = MerkleLog(store)
    log.append([b"a", b"b"])
    before = log.root()
    with pytest.raises(ConflictError, match="append-only"):
        store.append(0, [b"x"], [[m.leaf_hash(b"x")]])
    with pytest.raises(ConflictError):
        store.append(1, [b"x"], [[m.leaf_hash(b"x")], [b"\x00" * 32]])
    assert log.root() == before
    assert log.size() == 2


def test_store_checks_batch_shape() -> None:
    store = InMemoryTileStore()
    with pytest.raises(InvariantViolation, match="level 1"):
        store.append(0, [b"a", b"b"], [[m.leaf_hash(b"a"), m.leaf_hash(b"b")]])
    with pytest.raises(InvariantViolation, match="32 bytes"):
        check_append_shape(0, [b"a"], [[b"short"]])
    assert store.size() == 0


def test_entries_must_be_bytes() -> None:
    log = MerkleLog(InMemoryTileStore())
    with pytest.raises(ValidationError, match=r"entries\[1\]"):
        log.append([b"ok", "text"])  # type: ignore[list-item]
    assert log.size() == 0


def test_missing_tiles_and_sizes_raise() -> None:
    log, _ = _filled(10)
    with pytest.raises(NotFoundError):
        log.store.nodes([(5, 0)])
    with pytest.raises(m.ProofError):
        log.root(11)
    with pytest.raises(m.ProofError):
        log.inclusion_proof(10, 10)
    with pytest.raises(m.ProofError):
        log.consistency_proof(3, 11)


def test_proofs_read_logarithmically_many_hashes() -> None:
    store = CountingStore()
    log = MerkleLog(store)
    n = 5000
    for i in range(0, n, 250):
        log.append([b"%d" % j for j in range(i, i + 250)])
    # Appends read at most one waiting sibling per level.
    assert max(store.reads) <= n.bit_length()
    store.reads.clear()
    for index, size in [(0, n), (n - 1, n), (1234, 4097), (4096, 4097)]:
        log.inclusion_proof(index, size)
    for s1, s2 in [(1, n), (1000, n), (4095, 4097), (2047, 2049)]:
        log.consistency_proof(s1, s2)
    log.root(n - 1)
    assert len(store.reads) == 9  # one batch read per proof or root
    assert max(store.reads) <= 2 * n.bit_length()


@pytest.mark.parametrize("batch", [1, 3, 64, 1000])
def test_batching_does_not_change_the_tree(batch: int) -> None:
    log, data = _filled(777, batch)
    reference_log, _ = _filled(777, 777)
    assert log.root() == reference_log.root() == m.root_of([m.leaf_hash(d) for d in data])


def test_audit_clean_log() -> None:
    log, _ = _filled(1000)
    result = log.audit(batch=128)
    assert result.ok and result.size == 1000


def _tampered(entries: list[bytes], good: MerkleLog) -> MerkleLog:
    """A store holding the good log's tiles but different entries (a DB row edited by hand)."""
    store = InMemoryTileStore()
    n = good.size()
    levels = [good.store.nodes([(h, i) for i in range(n >> h)]) for h in range(n.bit_length())]
    store.append(0, entries, levels)
    return MerkleLog(store)


def test_audit_names_first_changed_dropped_or_reordered_entry() -> None:
    log, data = _filled(300)
    changed = list(data)
    changed[137] = changed[137] + b"!"
    assert _tampered(changed, log).audit(batch=64).first_bad_index == 137

    swapped = list(data)
    swapped[200], swapped[201] = swapped[201], swapped[200]
    assert _tampered(swapped, log).audit().first_bad_index == 200

    dropped = [*data[:42], *data[43:], b"filler"]
    assert _tampered(dropped, log).audit().first_bad_index == 42


def test_audit_detects_a_forged_subtree_hash() -> None:
    log, data = _filled(64)
    n = 64
    levels = [log.store.nodes([(h, i) for i in range(n >> h)]) for h in range(n.bit_length())]
    levels[3][5] = b"\x00" * 32
    store = InMemoryTileStore()
    store.append(0, data, levels)
    result = MerkleLog(store).audit()
    assert result.first_bad_index == 5 << 3
    assert "level 3" in result.detail
