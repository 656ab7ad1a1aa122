"""Benchmark the consortium chain on a real database: SQL tile appends, signed-entry submission,
and proofs served from the SQL store.

* ``sql_append``: ``MerkleLog`` over ``SqlTileStore`` on a fresh SQLite file (or PostgreSQL with
  ``--postgres URL``), ``--leaves`` leaves appended in batches of ``--batch``; baseline: the same
  appends to the in-memory store in the same process.
* ``submit``: ``ChainLedger.submit`` of member-signed entries parsed from their JSON objects (what
  the HTTP endpoint does: envelope and personal-data checks, canonical JSON, key lookup at the
  entry's index, Ed25519 verification, leaf hashing, one SQL transaction per batch); baseline: the
  bare Ed25519 verification rate (libsodium, and OpenSSL for reference) in the same process —
  the ceiling a submission path can approach on one core.
* ``sql_proofs``: inclusion proof generation from the SQL store at the appended size (one
  ``SELECT`` of O(log n) hashes per proof) and verification.

Every figure is the median of ``--runs`` runs. Prints one JSON object.

    .venv/bin/python benchmarks/bench_chain.py [--leaves 200000] [--batch 10000]
        [--entries 20000] [--entry-batch 1000] [--runs 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from xindai.bootstrap import upgrade_database
from xindai.chain import keys as chain_keys
from xindai.chain import merkle
from xindai.chain.entries import parse_entry, sign_entry
from xindai.chain.keys import SigningKey
from xindai.chain.ledger import ChainLedger
from xindai.chain.log import MerkleLog
from xindai.chain.note import NoteSigner
from xindai.chain.tiles import InMemoryTileStore
from xindai.kernel import FixedClock
from xindai.store.chain_tiles import SqlTileStore
from xindai.store.engine import make_engine


def _median(fn: Callable[[], float], runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def _database(postgres: str | None, workdir: str) -> str:
    if postgres:
        return postgres
    url = f"sqlite:///{workdir}/bench-chain.db"
    upgrade_database(url)
    return url


def bench_append(url: str, n: int, batch: int, runs: int) -> dict[str, Any]:
    entries = [b"entry-%08d" % i for i in range(n)]
    engine = make_engine(url)

    def sql_run() -> float:
        log = MerkleLog(SqlTileStore(engine, f"append-{uuid.uuid4().hex[:8]}"))
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            log.append(entries[i : i + batch])
        return n / (time.perf_counter() - t0)

    def memory_run() -> float:
        log = MerkleLog(InMemoryTileStore())
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            log.append(entries[i : i + batch])
        return n / (time.perf_counter() - t0)

    sql_rate = _median(sql_run, runs)
    mem_rate = _median(memory_run, runs)
    engine.dispose()
    return {
        "leaves": n,
        "batch": batch,
        "sql_entries_per_s": round(sql_rate),
        "memory_entries_per_s": round(mem_rate),
        "ratio_sql_vs_memory": round(sql_rate / mem_rate, 3),
    }


def bench_submit(url: str, m: int, batch: int, runs: int) -> dict[str, Any]:
    rng = random.Random(7)
    members = [SigningKey.from_secret(b"bench-member-%d" % i) for i in range(20)]
    operator = NoteSigner("bench.example/log", SigningKey.from_secret(b"bench-operator"))
    engine = make_engine(url)
    clock = FixedClock()
    objects = [
        sign_entry(
            "stage.attest",
            f"coop.m{i % 20}",
            {"line": f"SCF-{rng.randrange(1000):04d}", "stage": "sowing", "tonnes": i % 97},
            1_772_000_000 + i,
            members[i % 20],
        ).to_json()
        for i in range(m)
    ]

    # The ceiling: bare signature checks of the same messages, same process, measured right
    # before each submission run (the host is shared: load moves both figures together).
    parsed = [parse_entry(o) for o in objects[:5000]]
    pubs = {chain_keys.key_fingerprint(k.public_key): k.public_key for k in members}
    work = [(pubs[e.key], e.signature, e.signing_message()) for e in parsed]

    def verify_rate(fn: Callable[[bytes, bytes, bytes], bool]) -> float:
        t0 = time.perf_counter()
        for pub, sig, msg in work:
            fn(pub, sig, msg)
        return len(work) / (time.perf_counter() - t0)

    def submit_rate() -> float:
        ledger = ChainLedger(
            SqlTileStore(engine, f"submit-{uuid.uuid4().hex[:8]}"), operator, clock
        )
        for i, key in enumerate(members):
            ledger.register_member(f"coop.m{i}", "co-operative", key.public_key)
        t0 = time.perf_counter()
        for i in range(0, m, batch):
            ledger.submit([parse_entry(o) for o in objects[i : i + batch]])
        return m / (time.perf_counter() - t0)

    rates, sodium, openssl, ratios = [], [], [], []
    for _ in range(runs):
        sodium.append(verify_rate(chain_keys.verify_signature))
        openssl.append(verify_rate(chain_keys.verify_signature_openssl))
        rates.append(submit_rate())
        ratios.append(rates[-1] / sodium[-1])
    engine.dispose()
    return {
        "entries": m,
        "batch": batch,
        "entries_per_s": round(statistics.median(rates)),
        "ed25519_verify_per_s_libsodium": round(statistics.median(sodium)),
        "ed25519_verify_per_s_openssl": round(statistics.median(openssl)),
        "ratio_to_bare_verification": round(statistics.median(ratios), 3),
    }


def bench_sql_proofs(url: str, n: int, runs: int) -> dict[str, Any]:
    engine = make_engine(url)
    log = MerkleLog(SqlTileStore(engine, f"proofs-{uuid.uuid4().hex[:8]}"))
    entries = [b"entry-%08d" % i for i in range(n)]
    for i in range(0, n, 10_000):
        log.append(entries[i : i + 10_000])
    root = log.root()
    rng = random.Random(11)
    picks = [rng.randrange(n) for _ in range(500)]
    proofs = [(i, log.inclusion_proof(i, n)) for i in picks]

    def gen() -> float:
        t0 = time.perf_counter()
        for i in picks:
            log.inclusion_proof(i, n)
        return (time.perf_counter() - t0) / len(picks) * 1e6

    def verify() -> float:
        t0 = time.perf_counter()
        for i, proof in proofs:
            merkle.verify_inclusion(merkle.leaf_hash(entries[i]), i, n, proof, root)
        return (time.perf_counter() - t0) / len(picks) * 1e6

    out = {
        "leaves": n,
        "inclusion_gen_us": round(_median(gen, runs), 1),
        "inclusion_verify_us": round(_median(verify, runs), 1),
    }
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--entry-batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="PostgreSQL URL (a migrated, disposable database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as workdir:
        url = _database(args.postgres, workdir)
        out = {
            "benchmark": "chain",
            "python": platform.python_version(),
            "database": "postgresql" if args.postgres else "sqlite",
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "sql_append": bench_append(url, args.leaves, args.batch, args.runs),
            "submit": bench_submit(url, args.entries, args.entry_batch, args.runs),
            "sql_proofs": bench_sql_proofs(url, args.leaves, args.runs),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
