"""Real-time risk engine throughput and per-event latency, in-process and through Redis Streams.

Workload: the handbook simulator's transaction stream (``../shared/datasets/fraud/handbook_sim``,
1.75M events; ``--limit`` takes the first N) through the shipped registry (46 indicators) and the
shipped rule set (35 rules), decisions kept as counts only. Events are parsed once up front (the
parse rate is reported separately). Figures are medians of ``--runs`` runs. The process tunes the
garbage collector as the CLI replay and the worker do (``streaming_gc``).

Engine baselines in the same process, on the first ``--old-limit`` events: the compiled kernel
(default when built: ``xindai.risk._kernel`` runs admit, indicator plan and decision) against the
generated Python plans and Python decision path (``native=False``) and against the interpretive
engine (``compiled=False``, closures per rule, tree walking). With ``--pure`` the same events also
run in a subprocess with ``XINDAI_NATIVE=0`` — everything in Python, rings included, i.e. the
engine as it was before the kernel.

Baseline in the same process: the window algorithm alone — count and sum over 1/7/30 days per
customer and per terminal — with the engine's incremental rings versus a naive rescan of each key's
history per event (what "never a rescan" avoids), on the first ``--baseline`` events (0 skips it).

With ``--model DIR`` (from ``xindai risk train``) more series run the LightGBM model and the
anomaly score: one event at a time (compiled trees; the old engine walks the trees), and in
micro-batches of ``--batch`` events (one LightGBM predict and one numpy anomaly pass per batch).

Redis: events are XADDed (pipelined) to a fresh stream and one in-process worker consumes them with
checkpoints; end to end = first XADD to last acknowledged checkpoint.

    .venv/bin/python benchmarks/bench_risk.py --limit 200000 --runs 3
    .venv/bin/python benchmarks/bench_risk.py --full --runs 3 --old-limit 200000 --pure --baseline 0
    .venv/bin/python benchmarks/bench_risk.py --full --runs 1 --redis-events 200000
    .venv/bin/python benchmarks/bench_risk.py --full --model DIR --old-limit 300000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from xindai.risk.accel import kernel
from xindai.risk.engine import EnginePolicy, RiskEngine, Scorer, streaming_gc
from xindai.risk.events import Event, event_to_dict
from xindai.risk.model import GbmModel, RobustZAnomaly, TreeScorer
from xindai.risk.ports import InMemoryDecisions
from xindai.risk.registry import load_registry
from xindai.risk.rules import load_ruleset
from xindai.risk.training import handbook_events

REGISTRY = load_registry()
RULES = load_ruleset(None, REGISTRY.names)


def datasets_dir() -> Path:
    env = os.environ.get("XINDAI_DATASETS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def engine(
    model: Scorer | None = None,
    anomaly: Scorer | None = None,
    compiled: bool = True,
    native: bool = True,
) -> RiskEngine:
    return RiskEngine(
        REGISTRY,
        RULES,
        model=model,
        anomaly=anomaly,
        decisions=InMemoryDecisions(keep=False),
        policy=EnginePolicy(open_cases=False),
        compiled=compiled,
        native=native,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run_inprocess(
    events: list[Event],
    model: Scorer | None = None,
    *,
    anomaly: Scorer | None = None,
    compiled: bool = True,
    native: bool = True,
    batch: int = 0,
) -> dict[str, float]:
    """One event at a time (``batch=0``), or micro-batches whose model and anomaly scores are
    computed once per batch (``process_batch``: latency then includes the wait for the batch)."""
    eng = engine(model, anomaly, compiled, native)
    latencies: list[float] = []
    append = latencies.append
    cpu = time.process_time()
    start = time.perf_counter()
    if batch:
        for i in range(0, len(events), batch):
            for d in eng.process_batch(events[i : i + batch]):
                append(d.latency_us)
    else:
        process = eng.process
        for ev in events:
            d = process(ev)
            if d is not None:
                append(d.latency_us)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    return {
        "events_per_s": len(events) / seconds,
        # Per CPU-second of this process: what one dedicated core would do; less sensitive to
        # other jobs on a shared machine than the wall-clock rate.
        "events_per_cpu_s": len(events) / cpu_seconds,
        "p50_us": percentile(latencies, 50),
        "p99_us": percentile(latencies, 99),
        "seconds": seconds,
    }


def run_ops(events: list[Event]) -> dict[str, float]:
    """Profile evidence: CPU µs per event of each indicator operation of the compiled plan
    (a ring update or a fused group), replaying the events through that operation alone."""
    eng = engine()
    out: dict[str, float] = {}
    for group in eng._plans[events[0].type]:  # the handbook stream has one event type
        getter, table_ops = group.getter, []
        for idx, name, fn, counts, _empty in group.steps:
            if counts:
                table_ops.append((name, idx, fn, False))
        for idx, ffn, counts, empties in group.fused:
            if counts:
                table_ops.append(("+".join(n for n, _ in empties), idx, ffn, True))
        for name, idx, fn, fused in table_ops:
            factory, table, values = group.factories[idx], {}, {}
            cpu = time.process_time()
            for ev in events:
                key = getter(ev)
                if key is None:
                    continue
                st = table.get(key)
                if st is None:
                    st = table[key] = factory()
                if fused:
                    fn(st, ev, values)
                else:
                    fn(st, ev)
            out[f"{group.kind}:{name}"] = round((time.process_time() - cpu) / len(events) * 1e6, 2)
    return out


def run_windows(events: list[Event], naive: bool) -> float:
    """Six windowed aggregates (count and sum over 1/7/30 days, per customer and per terminal):
    incremental rings (``naive=False``) or a rescan of the key's history per event (``naive=True``).
    Returns events/s. This isolates the window algorithm from rules, levels and decisions."""
    windows = (86400, 7 * 86400, 30 * 86400)
    start = time.perf_counter()
    if naive:
        history: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for ev in events:
            for key in (ev.subject, ev.terminal_id or ""):
                past = history[key]
                past.append((ev.ts, ev.amount_fen or 0))
                for window in windows:
                    low = ev.ts - window
                    live = [a for t, a in past if t > low]
                    _ = (len(live), sum(live))
    else:
        from xindai.risk.windows import SumRing

        rings: dict[str, list[SumRing]] = {}
        for ev in events:
            for key in (ev.subject, ev.terminal_id or ""):
                state = rings.get(key)
                if state is None:
                    state = rings[key] = [SumRing(w / 60, 60) for w in windows]
                for ring in state:
                    ring.add(ev.ts, ev.amount_fen or 0)
                    _ = (ring.count, ring.total)
    return len(events) / (time.perf_counter() - start)


def run_redis(
    events: list[Event], url: str, checkpoint_every: int = 50_000, interval_s: float = 5.0
) -> dict[str, Any]:
    import redis

    from xindai.streams.redis_streams import RedisEventProducer, StreamKeys
    from xindai.streams.worker import RiskWorker

    client = redis.Redis.from_url(url)
    prefix = f"bench:risk:{uuid.uuid4().hex[:8]}"
    raws = [event_to_dict(e) for e in events]
    try:
        start = time.perf_counter()
        RedisEventProducer(client, prefix, batch=2000).publish_many(raws)
        published = time.perf_counter()
        worker = RiskWorker(
            client,
            prefix,
            lambda: engine(None),
            consumer="bench",
            batch=1000,
            checkpoint_every=checkpoint_every,
            checkpoint_interval_s=interval_s,
            block_ms=50,
        )
        stats = worker.run(stop_when_idle=True)
        done = time.perf_counter()
        worker.release()
        pending = client.xinfo_groups(StreamKeys(prefix, 0).events)[0]["pending"]
        out = client.xlen(StreamKeys(prefix, 0).decisions)
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
    return {
        "events": len(events),
        "end_to_end_events_per_s": round(len(events) / (done - start), 1),
        "publish_events_per_s": round(len(events) / (published - start), 1),
        "worker_events_per_s": round(stats.applied / (done - published), 1),
        "checkpoints": stats.checkpoints,
        "snapshots": stats.snapshots,
        "replayed": stats.replayed,
        "decisions_out": out,
        "pending_after": pending,
    }


def _pure_python(n: int, runs: int) -> dict[str, Any]:
    """The in-process figure of the same script in a subprocess without the kernel."""
    env = dict(os.environ, XINDAI_NATIVE="0")
    cmd = [sys.executable, __file__, "--limit", str(n), "--runs", str(runs), "--old-limit", "0"]
    out = subprocess.run(
        [*cmd, "--baseline", "0"], env=env, capture_output=True, text=True, check=True
    )
    data = json.loads(out.stdout)
    assert data["compiled_kernel"] is False
    return {"events": n, **data["in_process"]}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        k: round(statistics.median(r[k] for r in runs), 1)
        for k in ("events_per_s", "events_per_cpu_s", "p50_us", "p99_us")
    }


def _vs(old: list[dict[str, float]], new: list[dict[str, float]], n: int) -> dict[str, Any]:
    """Old (interpretive) against new (compiled) engine on the same ``n`` events."""
    o, c = _median(old), _median(new)
    return {
        "events": n,
        "old": o,
        "new": c,
        "ratio": round(c["events_per_s"] / o["events_per_s"], 2),
        "ratio_cpu": round(c["events_per_cpu_s"] / o["events_per_cpu_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=200_000)
    parser.add_argument("--full", action="store_true", help="all 1.75M events")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=200_000)
    parser.add_argument("--model", type=Path, default=None, help="also run with this model")
    parser.add_argument("--batch", type=int, default=1024, help="micro-batch of the model run")
    parser.add_argument("--old-limit", type=int, default=200_000, help="events for the old engine")
    parser.add_argument("--ops", type=int, default=0, help="per-operation CPU µs on N events")
    parser.add_argument("--redis", default=os.environ.get("XINDAI_TEST_REDIS_URL"))
    parser.add_argument("--redis-events", type=int, default=100_000)
    parser.add_argument(
        "--pure",
        action="store_true",
        help="also run the first --old-limit events in a subprocess with XINDAI_NATIVE=0 "
        "(the whole engine in Python, rings included: the engine before the kernel)",
    )
    args = parser.parse_args()

    path = datasets_dir() / "fraud" / "handbook_sim" / "transactions.csv.gz"
    t = time.perf_counter()
    events = list(handbook_events(path, None if args.full else args.limit))
    parse_rate = len(events) / (time.perf_counter() - t)

    with streaming_gc():
        _run_all(args, events, parse_rate)


def _run_all(args: argparse.Namespace, events: list[Event], parse_rate: float) -> None:
    runs = [run_inprocess(events) for _ in range(args.runs)]
    result: dict[str, Any] = {
        "benchmark": "risk_engine",
        "dataset": "handbook_sim",
        "events": len(events),
        "indicators": len(REGISTRY.indicators),
        "rules": len(RULES.rules),
        "runs": args.runs,
        "compiled_kernel": kernel is not None,
        "parse_events_per_s": round(parse_rate, 1),
        "in_process": _median(runs),
        "anchors": {"tazama_measured_tps": 2497, "jube_ms_per_windowed_read": [3, 6]},
        "load_average": os.getloadavg()[0],
    }
    old_events = events[: args.old_limit]
    if old_events:
        # Baselines in the same process, on the same events: the generated Python plans and
        # Python decision path (native=False; the rings are the kernel's when it is built), and
        # the interpretive engine (closures per rule and indicator step).
        new_same = [run_inprocess(old_events) for _ in range(args.runs)]
        python = [run_inprocess(old_events, native=False) for _ in range(args.runs)]
        old = [run_inprocess(old_events, compiled=False) for _ in range(args.runs)]
        result["kernel_vs_python_plans_same_events"] = _vs(python, new_same, len(old_events))
        result["old_engine_same_events"] = _vs(old, new_same, len(old_events))
    if args.pure and old_events:
        result["pure_python_subprocess"] = _pure_python(len(old_events), args.runs)
    prefix = events[: args.baseline]
    if prefix:
        rings = statistics.median(run_windows(prefix, naive=False) for _ in range(args.runs))
        naive = statistics.median(run_windows(prefix, naive=True) for _ in range(args.runs))
        result["windows_vs_naive_rescan"] = {
            "events": len(prefix),
            "aggregates_per_event": 12,
            "rings_events_per_s": round(rings, 1),
            "naive_events_per_s": round(naive, 1),
            "ratio": round(rings / naive, 2),
        }
    if args.model is not None:
        gbm = GbmModel.load(args.model)
        anomaly = RobustZAnomaly.from_json(json.loads((args.model / "anomaly.json").read_text()))
        walker = TreeScorer(gbm.booster().dump_model(), gbm.feature_names, compiled=False)
        with_model = [run_inprocess(events, gbm, anomaly=anomaly) for _ in range(args.runs)]
        result["in_process_with_model"] = _median(with_model)
        batched = [
            run_inprocess(events, gbm, anomaly=anomaly, batch=args.batch) for _ in range(args.runs)
        ]
        result["in_process_with_model_batched"] = {"batch": args.batch, **_median(batched)}
        old_m = [
            run_inprocess(old_events, walker, anomaly=anomaly, compiled=False)
            for _ in range(args.runs)
        ]
        new_m = [run_inprocess(old_events, gbm, anomaly=anomaly) for _ in range(args.runs)]
        result["old_engine_same_events_with_model"] = _vs(old_m, new_m, len(old_events))
    if args.ops:
        result["cpu_us_per_event_by_operation"] = run_ops(events[: args.ops])
    if args.redis:
        redis_runs = [run_redis(events[: args.redis_events], args.redis) for _ in range(args.runs)]
        result["redis"] = redis_runs[0] | {
            k: statistics.median(r[k] for r in redis_runs)
            for k in ("end_to_end_events_per_s", "publish_events_per_s", "worker_events_per_s")
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
