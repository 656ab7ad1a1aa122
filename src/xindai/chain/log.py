"""The append-only Merkle log over a ``TileStore``: batch appends, roots and proofs from tiles.

Invariants:

* Entries are appended in batches; a batch hashes its own leaves plus one new node per level
  boundary it completes, reading at most one stored hash per level (the left sibling waiting for
  a partner). Appending ``b`` leaves costs ``O(b + log n)`` hashes — never a rehash of the tree.
* Roots and proofs for any past size are folds of at most ``2 * log2(n)`` stored subtree hashes,
  fetched in one ``TileStore.nodes`` call; the tree is never recomputed.
* The log never rewrites a position: the store rejects an append that does not start at its end.
* ``audit`` is the exception that *does* rehash everything, on purpose: it recomputes every leaf
  and node from the stored entries and names the first position whose stored data disagrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from xindai.chain.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_ranges,
    fold_right,
    inclusion_ranges,
    subtree_decomposition,
)
from xindai.chain.tiles import MissingEntryError, TileStore
from xindai.kernel import NotFoundError, ValidationError

_sha256 = hashlib.sha256


@dataclass(frozen=True)
class AuditResult:
    """Outcome of a full recomputation: ``first_bad_index`` is None when everything matches."""

    size: int
    first_bad_index: int | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.first_bad_index is None


class MerkleLog:
    """Append-only RFC 9162 log whose roots and proofs come from stored subtree hashes."""

    def __init__(self, store: TileStore) -> None:
        self._store = store
        # The log only grows, so a size once seen stays valid: checking a proof request against
        # it saves asking the store (a database round trip) on every proof.
        self._seen = 0

    @property
    def store(self) -> TileStore:
        return self._store

    def size(self) -> int:
        return self._store.size()

    def append(self, entries: Sequence[bytes]) -> range:
        """Append a batch of entries atomically; return the indices they received."""
        if not entries:
            n = self._store.size()
            return range(n, n)
        for i, e in enumerate(entries):
            if not isinstance(e, bytes | bytearray):
                raise ValidationError(f"entries[{i}]", "must be bytes")
        old = self._store.size()
        new = old + len(entries)
        sha = _sha256
        current = [sha(b"\x00" + e).digest() for e in entries]
        levels: list[list[bytes]] = [current]
        # The left siblings still waiting for a partner: one per level where ``old`` has a 1 bit.
        waiting_coords = [(h, (old >> h) - 1) for h in range(old.bit_length()) if (old >> h) & 1]
        waiting = dict(zip(waiting_coords, self._store.nodes(waiting_coords), strict=True))
        h = 0
        while new >> (h + 1):
            start = old >> h
            seq = [waiting[(h, start - 1)], *current] if start & 1 else current
            current = [
                sha(b"\x01" + seq[i] + seq[i + 1]).digest() for i in range(0, len(seq) - 1, 2)
            ]
            levels.append(current)
            h += 1
        self._store.append(old, entries, levels)
        return range(old, new)

    def entries(self, start: int, end: int) -> list[bytes]:
        return self._store.entries(start, end)

    def entry(self, index: int) -> bytes:
        return self._store.entries(index, index + 1)[0]

    def _check_size(self, size: int, name: str = "size") -> None:
        if isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= self._seen:
            return
        current = self._store.size()
        self._seen = max(self._seen, current)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= current:
            raise ProofError(f"{name} {size!r} outside the log of {current} entries")

    def _range_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        # Most ranges of a proof are single complete aligned subtrees (one stored hash, nothing to
        # fold); only those touching the tree's right edge need a decomposition. This fast path
        # is the bulk of proof generation time.
        coords: list[tuple[int, int]] = []
        spans: list[int] = []
        for lo, hi in ranges:
            width = hi - lo
            if width & (width - 1) == 0 and lo % width == 0:
                coords.append((width.bit_length() - 1, lo // width))
                spans.append(1)
            else:
                piece = subtree_decomposition(lo, hi)
                coords += piece
                spans.append(len(piece))
        flat = self._store.nodes(coords)
        if len(flat) == len(spans):
            return flat
        out: list[bytes] = []
        pos = 0
        for span in spans:
            out.append(flat[pos] if span == 1 else fold_right(flat[pos : pos + span]))
            pos += span
        return out

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree of the first ``size`` entries (default: all)."""
        size = self._store.size() if size is None else size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hashes([(0, size)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Proof that entry ``index`` is in the tree of ``size`` entries (default: all)."""
        size = self._store.size() if size is None else size
        self._check_size(size)
        return self._range_hashes(inclusion_ranges(index, size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Proof that the tree of ``size1`` entries is a prefix of the tree of ``size2``."""
        size2 = self._store.size() if size2 is None else size2
        self._check_size(size2, "size2")
        return self._range_hashes(consistency_ranges(size1, size2))

    def audit(self, batch: int = 65536) -> AuditResult:
        """Recompute every leaf and subtree hash from the stored entries; name the first bad index.

        Detects a changed, dropped or reordered entry (its leaf hash no longer matches the tile)
        and a tampered tile (the recomputed subtree disagrees). Leaves are checked first, then each
        level bottom-up; ``first_bad_index`` is the first leaf covered by the first disagreement.
        """
        size = self._store.size()
        try:
            return self._audit(size, batch)
        except MissingEntryError as exc:
            # a dropped row: the store holds fewer entries than its head says
            return AuditResult(size, exc.index, str(exc))
        except NotFoundError as exc:
            return AuditResult(size, 0, f"stored subtree hashes are missing: {exc}")

    def _audit(self, size: int, batch: int) -> AuditResult:
        sha = _sha256
        # Level 0: entries against stored leaf hashes, streamed in batches.
        for start in range(0, size, batch):
            end = min(size, start + batch)
            data = self._store.entries(start, end)
            if len(data) != end - start:
                raise MissingEntryError(start + len(data))
            stored = self._store.nodes([(0, i) for i in range(start, end)])
            for offset, (entry, leaf) in enumerate(zip(data, stored, strict=True)):
                if sha(b"\x00" + entry).digest() != leaf:
                    return AuditResult(size, start + offset, "entry does not match its leaf hash")
        # Upper levels, bottom-up: each stored node against its two stored children. The deepest
        # disagreeing node is the forged one (its ancestors merely inherit the disagreement).
        h = 1
        while size >> h:
            count = size >> h
            for start in range(0, count, batch):
                end = min(count, start + batch)
                children = self._store.nodes([(h - 1, i) for i in range(2 * start, 2 * end)])
                parents = self._store.nodes([(h, i) for i in range(start, end)])
                for j, parent in enumerate(parents):
                    left, right = children[2 * j], children[2 * j + 1]
                    if sha(b"\x01" + left + right).digest() != parent:
                        return AuditResult(
                            size,
                            (start + j) << h,
                            f"subtree hash at level {h}, index {start + j} is wrong",
                        )
            h += 1
        return AuditResult(size, None, "all entries and subtree hashes match")
