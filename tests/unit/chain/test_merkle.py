"""The fast Merkle code against the recursive RFC 9162 reference, plus Hypothesis properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.chain import merkle as m
from xindai.chain.log import MerkleLog
from xindai.chain.tiles import InMemoryTileStore

from . import reference as ref


def _data(n: int) -> list[bytes]:
    return [b"entry-%d" % i for i in range(n)]


def _log(data: list[bytes], batch: int = 7) -> MerkleLog:
    log = MerkleLog(InMemoryTileStore())
    for i in range(0, len(data), batch):
        log.append(data[i : i + batch])
    return log


def test_hash_constants() -> None:
    assert m.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert m.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert m.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("n", [*range(0, 40), 63, 64, 65, 127, 128, 129])
def test_roots_and_proofs_match_reference_exhaustively(n: int) -> None:
    data = _data(n)
    leaves = [m.leaf_hash(d) for d in data]
    log = _log(data)
    assert m.root_of(leaves) == ref.mth(data) == log.root()
    for i in range(n):
        want = ref.path(i, data)
        assert m.inclusion_proof(leaves, i) == want
        assert log.inclusion_proof(i) == want
    for s in range(1, n + 1):
        want = ref.proof(s, data)
        assert m.consistency_proof(leaves, s) == want
        assert log.consistency_proof(s) == want


def test_subtree_decomposition_is_aligned_and_covers_range() -> None:
    for lo, hi in [(0, 1), (0, 13), (8, 13), (12, 13), (0, 1024), (1024, 1500)]:
        pieces = m.subtree_decomposition(lo, hi)
        pos = lo
        for level, index in pieces:
            assert index << level == pos
            pos += 1 << level
        assert pos == hi


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 300))
    return n, draw(st.integers(0, n - 1))


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 300))
    return draw(st.integers(1, n)), n


@given(tree_and_index(), st.integers(1, 40))
def test_inclusion_round_trip(case: tuple[int, int], batch: int) -> None:
    n, i = case
    data = _data(n)
    log = _log(data, batch)
    proof = log.inclusion_proof(i)
    assert proof == ref.path(i, data)
    m.verify_inclusion(m.leaf_hash(data[i]), i, n, proof, ref.mth(data))


@given(tree_and_sizes(), st.integers(1, 40))
def test_consistency_round_trip(case: tuple[int, int], batch: int) -> None:
    s1, s2 = case
    data = _data(s2)
    log = _log(data, batch)
    proof = log.consistency_proof(s1, s2)
    assert proof == ref.proof(s1, data)
    m.verify_consistency(s1, s2, proof, ref.mth(data[:s1]), ref.mth(data))


def _flip(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    out = list(proof)
    b = bytearray(out[element])
    b[bit // 8] ^= 1 << (bit % 8)
    out[element] = bytes(b)
    return out


@given(tree_and_index(), st.integers(0, 10_000), st.integers(0, 255))
def test_flipping_any_bit_of_an_inclusion_proof_fails(
    case: tuple[int, int], pick: int, bit: int
) -> None:
    n, i = case
    data = _data(n)
    proof = ref.path(i, data)
    root = ref.mth(data)
    leaf = m.leaf_hash(data[i])
    if proof:
        with pytest.raises(m.ProofError):
            m.verify_inclusion(leaf, i, n, _flip(proof, pick % len(proof), bit), root)
    with pytest.raises(m.ProofError):
        m.verify_inclusion(_flip([leaf], 0, bit)[0], i, n, proof, root)
    with pytest.raises(m.ProofError):
        m.verify_inclusion(leaf, i, n, proof, _flip([root], 0, bit)[0])


@given(tree_and_sizes(), st.integers(0, 10_000), st.integers(0, 255))
def test_flipping_any_bit_of_a_consistency_proof_fails(
    case: tuple[int, int], pick: int, bit: int
) -> None:
    s1, s2 = case
    data = _data(s2)
    proof = ref.proof(s1, data)
    r1, r2 = ref.mth(data[:s1]), ref.mth(data)
    if proof:
        with pytest.raises(m.ProofError):
            m.verify_consistency(s1, s2, _flip(proof, pick % len(proof), bit), r1, r2)
    with pytest.raises(m.ProofError):
        m.verify_consistency(s1, s2, proof, _flip([r1], 0, bit)[0], r2)
    with pytest.raises(m.ProofError):
        m.verify_consistency(s1, s2, proof, r1, _flip([r2], 0, bit)[0])


@given(tree_and_index())
def test_truncated_or_extended_inclusion_proofs_fail(case: tuple[int, int]) -> None:
    n, i = case
    data = _data(n)
    proof, root, leaf = ref.path(i, data), ref.mth(data), m.leaf_hash(data[i])
    with pytest.raises(m.ProofError):
        m.verify_inclusion(leaf, i, n, [*proof, b"\x00" * 32], root)
    if proof:
        with pytest.raises(m.ProofError):
            m.verify_inclusion(leaf, i, n, proof[:-1], root)


@pytest.mark.parametrize(("index", "size"), [(-1, 4), (4, 4), (0, 0), (True, 4), (0, -3)])
def test_inclusion_arguments_out_of_range(index: int, size: int) -> None:
    with pytest.raises(m.ProofError):
        m.verify_inclusion(m.leaf_hash(b"x"), index, size, [], m.leaf_hash(b"x"))


def test_consistency_arguments_out_of_range() -> None:
    root = m.leaf_hash(b"x")
    with pytest.raises(m.ProofError):
        m.verify_consistency(2, 1, [], root, root)
    with pytest.raises(m.ProofError):
        m.verify_consistency(-1, 1, [], root, root)
    with pytest.raises(m.ProofError, match="not empty"):
        m.verify_consistency(3, 3, [root], root, root)
    with pytest.raises(m.ProofError, match="32-byte"):
        m.verify_consistency(1, 2, [b"short"], root, root)
    with pytest.raises(m.ProofError):
        m.consistency_ranges(0, 3)
    m.verify_consistency(3, 3, [], root, root)
