"""The storage port of the Merkle log: append-only entries, leaf hashes and subtree hashes.

The store keeps, for every level ``h``, the hashes of all *complete aligned* subtrees of
``2**h`` leaves in order: level 0 holds the leaf hashes, level ``h`` node ``i`` is the hash of
leaves ``[i * 2**h, (i + 1) * 2**h)``. With ``n`` leaves, level ``h`` holds ``n >> h`` nodes, so
the whole store is about ``2n`` hashes. Any root, inclusion proof or consistency proof is a fold of
at most ``2 * log2(n)`` of these stored hashes — read in one batch, never recomputed from leaves.

Invariants every implementation must keep:

* **Append-only.** ``append`` names the size it expects to extend; if the store is not at that
  size (a concurrent writer, or an attempt to rewrite positions already written) it raises
  ``ConflictError`` and changes nothing. Nothing ever updates or deletes a stored hash or entry.
* **Atomic.** One ``append`` call is all-or-nothing (a SQL adapter does it in one transaction).
* **Shape.** After an append to ``new`` leaves, level ``h`` has exactly ``new >> h`` nodes; the
  store checks the caller's batch against this and raises ``InvariantViolation`` otherwise.

``InMemoryTileStore`` keeps each level in one ``bytearray`` (32 bytes per node), which is compact
enough for a million leaves in tests and benchmarks. A database adapter implements the same
``TileStore`` protocol (e.g. one table ``(level, idx) -> hash`` plus one for entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from xindai.kernel import ConflictError, InvariantViolation, NotFoundError

HASH_SIZE = 32


class MissingEntryError(InvariantViolation):
    """A store holds fewer entries than its head claims: position ``index`` has no entry.

    Only a store whose append-only guarantees were bypassed (rows deleted behind its back) can
    raise it; ``MerkleLog.audit`` reports ``index`` as the first bad position.
    """

    def __init__(self, index: int) -> None:
        self.index = index
        super().__init__(f"entry {index} is missing from the store")


class TileStore(Protocol):
    """Port: append-only storage of entries and complete-subtree hashes."""

    def size(self) -> int:
        """Number of leaves stored."""
        ...

    def append(
        self, old_size: int, entries: Sequence[bytes], levels: Sequence[Sequence[bytes]]
    ) -> None:
        """Atomically append ``entries`` and the new node hashes of each level.

        ``levels[h]`` are the new nodes of level ``h``, continuing the level where it ended;
        ``levels[0]`` are the leaf hashes of ``entries``. Raises ``ConflictError`` if the store
        does not hold exactly ``old_size`` leaves.
        """
        ...

    def nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        """The stored hashes at ``(level, index)`` in the order asked; ``NotFoundError`` if absent."""
        ...

    def entries(self, start: int, end: int) -> list[bytes]:
        """The entries (leaf data) at positions ``[start, end)``."""
        ...


def check_append_shape(
    old_size: int, entries: Sequence[bytes], levels: Sequence[Sequence[bytes]]
) -> int:
    """Validate a batch's shape for adapters; return the new size."""
    new_size = old_size + len(entries)
    expected_levels = new_size.bit_length()
    if len(levels) > expected_levels:
        raise InvariantViolation(
            f"batch has {len(levels)} levels, a tree of {new_size} has at most {expected_levels}"
        )
    for h in range(expected_levels):
        got = len(levels[h]) if h < len(levels) else 0
        want = (new_size >> h) - (old_size >> h)
        if got != want:
            raise InvariantViolation(f"level {h}: batch adds {got} nodes, expected {want}")
        if h < len(levels) and any(len(x) != HASH_SIZE for x in levels[h]):
            raise InvariantViolation(f"level {h}: every node hash must be {HASH_SIZE} bytes")
    return new_size


class InMemoryTileStore:
    """A ``TileStore`` in process memory (tests, demos, the offline CLI, benchmarks)."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = []
        self._entries: list[bytes] = []

    def size(self) -> int:
        return len(self._entries)

    def append(
        self, old_size: int, entries: Sequence[bytes], levels: Sequence[Sequence[bytes]]
    ) -> None:
        if old_size != len(self._entries):
            raise ConflictError(
                f"append-only log holds {len(self._entries)} entries, batch expects {old_size}: "
                "stored positions are never rewritten"
            )
        check_append_shape(old_size, entries, levels)
        # All checks passed: apply (nothing above mutated state, so a failure leaves it intact).
        while len(self._levels) < len(levels):
            self._levels.append(bytearray())
        for h, new_nodes in enumerate(levels):
            self._levels[h] += b"".join(new_nodes)
        self._entries.extend(bytes(e) for e in entries)

    def nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        levels = self._levels
        depth = len(levels)
        out: list[bytes] = []
        append = out.append
        for level, index in coords:
            start = index * HASH_SIZE
            if level >= depth or index < 0 or start + HASH_SIZE > len(levels[level]):
                raise NotFoundError(f"no stored subtree hash at level {level}, index {index}")
            append(bytes(levels[level][start : start + HASH_SIZE]))
        return out

    def entries(self, start: int, end: int) -> list[bytes]:
        if not 0 <= start <= end <= len(self._entries):
            raise NotFoundError(f"entries [{start}, {end}) outside the log of {len(self._entries)}")
        return self._entries[start:end]
