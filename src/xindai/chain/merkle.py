"""RFC 9162 Merkle tree hashing, proof shapes and proof verification.

Hashing (RFC 9162 §2.1.1, identical to RFC 6962):

* leaf hash  = SHA-256(0x00 ‖ data)
* node hash  = SHA-256(0x01 ‖ left ‖ right)
* empty tree = SHA-256("")

A tree of ``n`` leaves splits at ``k``, the largest power of two strictly below ``n``; the left
subtree is therefore always *complete* and aligned. Every hash this module needs is the hash of a
leaf range ``[lo, hi)`` that decomposes into at most ``log2(n)`` complete aligned subtrees, which is
what lets :mod:`xindai.chain.log` answer proofs from stored subtree hashes without rehashing.

Verification is pure and never trusts its inputs:

* ``verify_inclusion`` and ``verify_consistency`` raise :class:`ProofError` (a ``ValueError``) when
  the proof does not hold or any argument is out of range; they return ``None`` on success.
* Every proof element must be exactly 32 bytes. Roots and leaf hashes are compared byte for byte,
  so a malformed root can never match a computed one.
* **Consistency from the empty tree is refused.** RFC 9162 calls every tree consistent with the
  empty tree, so a proof from size 0 states nothing; the upstream transparency-dev vectors expect an
  error for ``size1 == 0`` and so do we: ``verify_consistency(0, …)`` always raises. Callers treat
  "no previous checkpoint" explicitly (a witness's first checkpoint is trust-on-first-use) instead
  of asking for a proof that cannot fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A Merkle proof does not hold, or its arguments are out of range."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash of one entry's bytes."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly less than ``n`` (requires ``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Root hash of a tree given all its leaf hashes (bottom-up; O(n) hashing).

    Pairing level by level and promoting an odd last node unchanged yields exactly the RFC tree,
    because the RFC's left subtrees are complete and aligned.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    sha = _sha256
    while len(level) > 1:
        nxt = [
            sha(_NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# --- proof shapes -----------------------------------------------------------------------------
# A proof is a list of hashes of leaf ranges. These functions give the ranges, leaf-first, so that
# any hash source (a list of leaves, a tile store) can fill them in.


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges ``[lo, hi)`` whose hashes form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} out of range for tree size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1).

    Requires ``0 < size1 <= size2`` (see the module docstring on the empty tree).
    """
    if not 0 < size1 <= size2:
        raise ProofError(f"consistency needs 0 < size1 <= size2, got {size1}, {size2}")
    out: list[tuple[int, int]] = []
    lo, hi, m, complete_start = 0, size2, size1, True
    while True:
        n = hi - lo
        if m == n:
            if not complete_start:
                out.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            complete_start = False
    out.reverse()
    return out


def subtree_decomposition(lo: int, hi: int) -> list[tuple[int, int]]:
    """The complete aligned subtrees ``(level, index)`` covering ``[lo, hi)``, left to right.

    Requires ``lo`` to be aligned to the largest power of two not above ``hi - lo`` — true for
    every range produced by the two functions above and for ``[0, size)``.
    """
    out: list[tuple[int, int]] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo & ((1 << level) - 1):
            level -= 1
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash of a range from its decomposition: the right-most pieces combine first."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(_NODE_PREFIX + h + acc).digest()
    return acc


# --- verification -----------------------------------------------------------------------------


def _check_proof_elements(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if not isinstance(p, bytes | bytearray) or len(p) != HASH_SIZE:
            raise ProofError(f"proof[{i}] is not a {HASH_SIZE}-byte hash")


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{name} must be a non-negative integer, got {value!r}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2); raises ProofError if malformed."""
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise ProofError(f"index {index} out of range for tree size {size}")
    _check_proof_elements(proof)
    fn, sn = index, size - 1
    r = leaf
    sha = _sha256
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = sha(_NODE_PREFIX + p + r).digest()
            if not fn & 1:
                # Skip levels where this node has no right sibling (the tree's ragged right edge).
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Raises :class:`ProofError` when the proof fails or the arguments are out of range.
    """
    if not isinstance(leaf_hash, bytes | bytearray) or len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash must be {HASH_SIZE} bytes")
    computed = root_from_inclusion_proof(bytes(leaf_hash), index, size, proof)
    if computed != root:
        raise ProofError("inclusion proof does not lead to the given root")


def verify_consistency(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2).

    Raises :class:`ProofError` when the proof fails or the arguments are out of range, including
    ``size1 == 0`` (documented choice: a proof from the empty tree proves nothing).
    """
    _check_size("size1", size1)
    _check_size("size2", size2)
    if size1 == 0:
        raise ProofError("consistency from the empty tree is not checked (size1 must be >= 1)")
    if size2 < size1:
        raise ProofError(f"size2 ({size2}) < size1 ({size1})")
    if size1 == size2:
        if proof:
            raise ProofError("size1 == size2 but the proof is not empty")
        if root1 != root2:
            raise ProofError("size1 == size2 but the roots differ")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    _check_proof_elements(proof)

    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # size1 is a power of two: the old root is itself a node of the new tree.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    sha = _sha256
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = sha(_NODE_PREFIX + c + fr).digest()
            sr = sha(_NODE_PREFIX + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to root1")
    if sr != root2:
        raise ProofError("consistency proof does not lead to root2")


# --- proofs over an in-memory list of leaf hashes (small trees, tests, the naive baseline) -------


def _range_hash(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    return root_of(leaves[lo:hi])


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """Inclusion proof computed from all leaf hashes (O(n) hashing; see MerkleLog for O(log n))."""
    size = len(leaves) if size is None else size
    if size > len(leaves):
        raise ProofError(f"size {size} exceeds the {len(leaves)} leaves given")
    return [_range_hash(leaves, lo, hi) for lo, hi in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], size1: int, size2: int | None = None) -> list[bytes]:
    """Consistency proof computed from all leaf hashes (O(n) hashing)."""
    size2 = len(leaves) if size2 is None else size2
    if size2 > len(leaves):
        raise ProofError(f"size2 {size2} exceeds the {len(leaves)} leaves given")
    return [_range_hash(leaves, lo, hi) for lo, hi in consistency_ranges(size1, size2)]
