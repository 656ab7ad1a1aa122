"""Benchmark the Merkle log: batch appends, proof generation and verification from tiles.

Appends N leaves (default 1,000,000) in batches to a ``MerkleLog`` over the in-memory
``TileStore``, then measures inclusion and consistency proofs per second (generation from stored
subtree hashes, and verification), against a naive baseline in the same process that recomputes
the proof from all leaf hashes. Prints one JSON object; every figure is the median of several runs.

Side by side in the same process: pymerkle 7 (``InmemoryTree``, RFC 9162-compatible hashing — its
leaf hashes equal ours, which the script checks) at ``--pymerkle-leaves`` leaves (default
100,000, the size the issue quotes), against ``MerkleLog`` at the same size: appends, inclusion
proof generation and verification.

    .venv/bin/python benchmarks/bench_merkle.py [--leaves 1000000] [--batch 10000] [--runs 5]
        [--pymerkle-leaves 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable

from xindai.chain import merkle
from xindai.chain.log import MerkleLog
from xindai.chain.tiles import InMemoryTileStore


def _median_rate(fn: Callable[[], int], runs: int) -> float:
    """Median operations per second of ``fn`` (which returns how many operations it did)."""
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        ops = fn()
        rates.append(ops / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--proofs", type=int, default=2000, help="proofs per timed run")
    parser.add_argument("--naive-proofs", type=int, default=3, help="baseline proofs per run")
    parser.add_argument("--pymerkle-leaves", type=int, default=100_000, help="0 to skip pymerkle")
    args = parser.parse_args()
    n, batch = args.leaves, args.batch
    rng = random.Random(20260101)
    entries = [b"entry-%08d" % i for i in range(n)]

    # Appends: each run builds a fresh log of n leaves in batches.
    append_times = []
    log = MerkleLog(InMemoryTileStore())
    for _ in range(max(1, min(args.runs, 3))):
        log = MerkleLog(InMemoryTileStore())
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            log.append(entries[i : i + batch])
        append_times.append(time.perf_counter() - t0)
    append_rate = n / statistics.median(append_times)

    root = log.root()
    leaves = log.store.nodes([(0, i) for i in range(n)])  # for the naive baseline only
    indices = [rng.randrange(n) for _ in range(args.proofs)]
    sizes1 = [rng.randrange(1, n) for _ in range(args.proofs)]
    incl = [(i, log.inclusion_proof(i)) for i in indices]
    cons = [(s, log.consistency_proof(s), log.root(s)) for s in sizes1]

    def gen_inclusion() -> int:
        for i in indices:
            log.inclusion_proof(i, n)
        return len(indices)

    def gen_consistency() -> int:
        for s in sizes1:
            log.consistency_proof(s, n)
        return len(sizes1)

    def verify_inclusion() -> int:
        for i, proof in incl:
            merkle.verify_inclusion(leaves[i], i, n, proof, root)
        return len(incl)

    def verify_consistency() -> int:
        for s, proof, r1 in cons:
            merkle.verify_consistency(s, n, proof, r1, root)
        return len(cons)

    def naive_inclusion() -> int:
        for i in indices[: args.naive_proofs]:
            merkle.inclusion_proof(leaves, i, n)
        return args.naive_proofs

    def naive_consistency() -> int:
        for s in sizes1[: args.naive_proofs]:
            merkle.consistency_proof(leaves, s, n)
        return args.naive_proofs

    naive_runs = max(1, min(args.runs, 3))
    results = {
        "inclusion_gen_per_s": _median_rate(gen_inclusion, args.runs),
        "consistency_gen_per_s": _median_rate(gen_consistency, args.runs),
        "inclusion_verify_per_s": _median_rate(verify_inclusion, args.runs),
        "consistency_verify_per_s": _median_rate(verify_consistency, args.runs),
        "naive_inclusion_gen_per_s": _median_rate(naive_inclusion, naive_runs),
        "naive_consistency_gen_per_s": _median_rate(naive_consistency, naive_runs),
    }
    out = {
        "benchmark": "merkle_log",
        "python": platform.python_version(),
        "leaves": n,
        "batch": batch,
        "runs": args.runs,
        "append_leaves_per_s": round(append_rate),
        **{k: round(v, 2) for k, v in results.items()},
        "inclusion_gen_us": round(1e6 / results["inclusion_gen_per_s"], 1),
        "inclusion_verify_us": round(1e6 / results["inclusion_verify_per_s"], 1),
        "consistency_gen_us": round(1e6 / results["consistency_gen_per_s"], 1),
        "consistency_verify_us": round(1e6 / results["consistency_verify_per_s"], 1),
        "ratio_inclusion_gen_vs_naive": round(
            results["inclusion_gen_per_s"] / results["naive_inclusion_gen_per_s"]
        ),
        "ratio_consistency_gen_vs_naive": round(
            results["consistency_gen_per_s"] / results["naive_consistency_gen_per_s"]
        ),
    }
    if args.pymerkle_leaves:
        out["pymerkle"] = _pymerkle_side_by_side(args.pymerkle_leaves, args.runs, rng)
    print(json.dumps(out, indent=2))


def _pymerkle_side_by_side(n: int, runs: int, rng: random.Random) -> dict[str, object]:
    """pymerkle 7 and MerkleLog on the same n leaves, timed the same way."""
    import pymerkle

    entries = [b"entry-%08d" % i for i in range(n)]
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    t0 = time.perf_counter()
    for e in entries:
        tree.append_entry(e)
    py_append = n / (time.perf_counter() - t0)
    ours = MerkleLog(InMemoryTileStore())
    t0 = time.perf_counter()
    for i in range(0, n, 10_000):
        ours.append(entries[i : i + 10_000])
    our_append = n / (time.perf_counter() - t0)
    assert tree.get_leaf(1) == merkle.leaf_hash(entries[0])  # same RFC 9162 leaf hashing
    assert tree.get_root(n) == ours.root()  # and the same root

    picks = [rng.randrange(n) for _ in range(200)]
    py_proofs = [(i, tree.prove_inclusion(i + 1, n)) for i in picks]
    our_proofs = [(i, ours.inclusion_proof(i, n)) for i in picks]
    py_root, our_root = tree.get_root(n), ours.root()
    leaves = {i: merkle.leaf_hash(entries[i]) for i in picks}

    def py_gen() -> int:
        for i in picks:
            tree.prove_inclusion(i + 1, n)
        return len(picks)

    def our_gen() -> int:
        for i in picks:
            ours.inclusion_proof(i, n)
        return len(picks)

    def py_verify() -> int:
        for i, proof in py_proofs:
            pymerkle.verify_inclusion(leaves[i], py_root, proof)
        return len(picks)

    def our_verify() -> int:
        for i, proof in our_proofs:
            merkle.verify_inclusion(leaves[i], i, n, proof, our_root)
        return len(picks)

    rates = {
        name: _median_rate(fn, runs)
        for name, fn in (
            ("py_gen", py_gen),
            ("our_gen", our_gen),
            ("py_verify", py_verify),
            ("our_verify", our_verify),
        )
    }
    return {
        "version": pymerkle.__version__ if hasattr(pymerkle, "__version__") else "7",
        "leaves": n,
        "append_leaves_per_s": {"pymerkle": round(py_append), "xindai": round(our_append)},
        "inclusion_gen_us": {
            "pymerkle": round(1e6 / rates["py_gen"], 1),
            "xindai": round(1e6 / rates["our_gen"], 1),
        },
        "inclusion_verify_us": {
            "pymerkle": round(1e6 / rates["py_verify"], 1),
            "xindai": round(1e6 / rates["our_verify"], 1),
        },
        "ratio_gen_xindai_vs_pymerkle": round(rates["our_gen"] / rates["py_gen"], 1),
        "ratio_verify_xindai_vs_pymerkle": round(rates["our_verify"] / rates["py_verify"], 1),
    }


if __name__ == "__main__":
    main()
