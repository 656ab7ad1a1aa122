"""The Redis Streams worker against a real Redis (``XINDAI_TEST_REDIS_URL``; skipped without it).

The fault drill kills a worker process with SIGKILL mid-stream, starts another, and checks that
every event was applied to the windows exactly once: the final window state equals that of an
uninterrupted in-process run over the same events, and exactly one decision per event came out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

redis = pytest.importorskip("redis")

from xindai.risk.engine import RiskEngine  # noqa: E402
from xindai.risk.registry import load_registry  # noqa: E402
from xindai.risk.rules import load_ruleset  # noqa: E402
from xindai.streams.redis_streams import RedisEventProducer, StreamKeys  # noqa: E402
from xindai.streams.worker import LeaseLost, RiskWorker  # noqa: E402

URL = os.environ.get("XINDAI_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="XINDAI_TEST_REDIS_URL is not set (no Redis to test)"
)

REGISTRY = load_registry()
RULES = load_ruleset(None, REGISTRY.names)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KINDS = ["login", "address_changed", "transaction", "gps_reported", "app_session", "device_bound"]


def make_engine() -> RiskEngine:
    return RiskEngine(REGISTRY, RULES)


def events(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        out.append(
            {
                "event_id": f"ev{i}",
                "subject": f"u{i % 17}",
                "type": KINDS[i % len(KINDS)],
                "occurred_at": (T0 + timedelta(seconds=37 * i)).isoformat(),
                "device_id": f"d{i % 5}",
                "ip": f"10.0.{i % 3}.1",
                "amount": f"{(i * 7) % 400}.50",
                "terminal_id": f"t{i % 4}",
                "lat": 30.0 + (i % 11) * 0.3,
                "lon": 120.0 + (i % 13) * 0.2,
                "attributes": {"duration_s": 20 + i % 9},
                "label": int(i % 23 == 0),
            }
        )
    return out


@pytest.fixture
def client() -> Iterator[Any]:
    c = redis.Redis.from_url(URL)
    c.ping()
    yield c
    c.close()


@pytest.fixture
def prefix(client: Any) -> Iterator[str]:
    name = f"test:risk:{uuid.uuid4().hex[:10]}"
    yield name
    for key in client.scan_iter(match=f"{name}:*"):
        client.delete(key)


def states(engine: RiskEngine) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in engine.dump_state().items()}


def decisions(client: Any, prefix: str) -> list[dict[str, Any]]:
    rows = client.xrange(StreamKeys(prefix, 0).decisions)
    return [json.loads(fields[b"d"]) for _, fields in rows]


def test_worker_consumes_checkpoints_and_dead_letters(client: Any, prefix: str) -> None:
    producer = RedisEventProducer(client, prefix)
    raws = events(300)
    producer.publish_many(raws)
    producer.publish_text(0, "{not json")
    producer.publish_many([{**raws[0], "event_id": "bad", "type": "teleport"}])
    producer.publish_many([raws[-3]])  # a producer-side duplicate (inside the lateness horizon)
    worker = RiskWorker(
        client, prefix, make_engine, consumer="w1", checkpoint_every=100, block_ms=50
    )
    stats = worker.run(stop_when_idle=True)
    worker.release()
    assert stats.checkpoints >= 3
    out = decisions(client, prefix)
    assert sorted(d["e"] for d in out) == sorted(r["event_id"] for r in raws)
    dead = [json.loads(f[b"d"]) for _, f in client.xrange(StreamKeys(prefix, 0).dead)]
    assert {d["field"] for d in dead} == {"event", "type"}
    group = client.xinfo_groups(StreamKeys(prefix, 0).events)[0]
    assert group["pending"] == 0
    reference = make_engine()
    for raw in raws:
        reference.process_raw(raw)
    assert states(worker.engine) == states(reference)
    # A fresh worker restores exactly the checkpointed state.
    again = RiskWorker(client, prefix, make_engine, consumer="w2", block_ms=50)
    again.acquire()
    again.restore()
    assert states(again.engine) == states(reference)
    again.release()


def test_a_worker_without_the_lease_cannot_checkpoint(client: Any, prefix: str) -> None:
    RedisEventProducer(client, prefix).publish_many(events(10))
    owner = RiskWorker(client, prefix, make_engine, consumer="owner", lease_ms=5000)
    owner.ensure_group()
    assert owner.acquire()
    zombie = RiskWorker(client, prefix, make_engine, consumer="zombie", lease_ms=5000)
    assert not zombie.acquire(wait_s=0.1)
    with pytest.raises(LeaseLost):
        zombie.flush()
    owner.release()


WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import redis
    from xindai.risk.engine import RiskEngine
    from xindai.risk.registry import load_registry
    from xindai.risk.rules import load_ruleset
    from xindai.streams.worker import RiskWorker

    url, prefix, snapshot_every = sys.argv[1], sys.argv[2], int(sys.argv[3])
    registry = load_registry()
    rules = load_ruleset(None, registry.names)

    def factory():
        engine = RiskEngine(registry, rules)
        # Make the stream long enough to be killed mid-way: 1 ms per event on either path the
        # worker may take (event by event without a batch-scoring model, else micro-batches).
        one, many = engine.process, engine.process_batch
        def slow_one(event, model_score=None):
            time.sleep(0.001)
            return one(event, model_score)
        def slow_many(events):
            events = list(events)
            time.sleep(0.001 * len(events))
            return many(events)
        engine.process, engine.process_batch = slow_one, slow_many
        return engine

    worker = RiskWorker(redis.Redis.from_url(url), prefix, factory, consumer="doomed",
                        lease_ms=1500, batch=40, checkpoint_every=150, checkpoint_interval_s=60,
                        snapshot_every=snapshot_every, snapshot_interval_s=600)
    worker.run(stop_when_idle=True)
    """
)


@pytest.mark.parametrize("snapshot_every", [10**9, 300])
def test_fault_drill_kill_a_worker_mid_stream_every_event_applied_once(
    client: Any, prefix: str, snapshot_every: int
) -> None:
    # Checkpoints (decisions + XACK) every 150 entries; state snapshots never before the kill
    # (the survivor replays every acknowledged entry onto an empty state) or every 300 entries
    # (it replays those acknowledged after the last snapshot).
    raws = events(1500)
    RedisEventProducer(client, prefix).publish_many(raws)
    proc = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, URL, prefix, str(snapshot_every)])
    try:
        deadline = time.monotonic() + 60
        # Kill once some checkpoints are durable and more work is in flight.
        while time.monotonic() < deadline and len(decisions(client, prefix)) < 450:
            time.sleep(0.01)
            assert proc.poll() is None, "the worker finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done_before = len(decisions(client, prefix))
    assert 0 < done_before < len(raws)
    snapshot_at = client.get(StreamKeys(prefix, 0).snapshot)
    assert (snapshot_at is not None) == (snapshot_every == 300)

    survivor = RiskWorker(
        client, prefix, make_engine, consumer="survivor", lease_ms=1500, block_ms=50
    )
    stats = survivor.run(stop_when_idle=True)
    survivor.release()
    assert stats.reclaimed > 0  # the dead worker's in-flight entries were reclaimed
    if snapshot_every > len(raws):
        assert stats.replayed == done_before  # everything acknowledged, onto an empty state
    stream = StreamKeys(prefix, 0).events
    in_snapshot = len(client.xrange(stream, "-", snapshot_at)) if snapshot_at else 0
    assert in_snapshot + stats.replayed + stats.applied == len(raws)

    reference = make_engine()
    for raw in raws:
        reference.process_raw(raw)
    assert states(survivor.engine) == states(reference)
    out = decisions(client, prefix)
    ids = [d["e"] for d in out]
    assert len(ids) == len(set(ids)) == len(raws)
    assert client.xinfo_groups(StreamKeys(prefix, 0).events)[0]["pending"] == 0


def test_the_lease_is_renewed_between_checkpoints_further_apart_than_its_ttl(
    client: Any, prefix: str
) -> None:
    import threading

    raws = events(60)
    producer = RedisEventProducer(client, prefix)

    def trickle() -> None:  # 60 events over ~1.5 s: longer than the 500 ms lease
        for i in range(0, 60, 2):
            producer.publish_many(raws[i : i + 2])
            time.sleep(0.05)

    worker = RiskWorker(
        client,
        prefix,
        make_engine,
        consumer="slow",
        lease_ms=500,
        checkpoint_every=10**6,
        checkpoint_interval_s=3600,
        block_ms=1000,
    )
    feeder = threading.Thread(target=trickle)
    feeder.start()
    stats = worker.run(max_events=60)
    feeder.join()
    worker.release()
    assert stats.applied == 60
    assert sorted(d["e"] for d in decisions(client, prefix)) == sorted(r["event_id"] for r in raws)


def test_poison_entries_are_dead_lettered_and_never_stop_the_worker(
    client: Any, prefix: str
) -> None:
    # Each of these once could crash a worker (and, left pending, every worker after it): JSON
    # nested deeper than the interpreter's stack, and lone surrogates (valid JSON escapes that
    # cannot be encoded as UTF-8 for Redis) in a subject, a device id and a field name.
    producer = RedisEventProducer(client, prefix)
    good = events(20)
    producer.publish_many(good[:10])
    base = json.dumps(good[10])[:-1]
    poison = [
        "[" * 100_000,
        '{"a":' * 50_000,
        base + ', "subject": "u\\udc00"}',
        base + ', "device_id": "\\ud800x"}',
        base + ', "col\\ud800": 1}',
        '{"event_id": "z", "subject": "u", "type": "login\\udc00", "occurred_at": "x"}',
        "\ufeff" + json.dumps(good[11]),  # a BOM in front: json.loads of bytes accepts it
        # Deep but within any stack (the C scanner's limit is the recursion limit minus the
        # depth already in use, which depends on the runner): parses, then is refused ("a").
        '{"a":' * 200 + "1" + "}" * 200,
    ]
    for text in poison:
        producer.publish_text(0, text)
    producer.publish_many(good[12:])
    worker = RiskWorker(client, prefix, make_engine, consumer="w", block_ms=50)
    stats = worker.run(stop_when_idle=True)
    worker.release()
    assert stats.dead_letters == len(poison) - 1
    applied = {d["e"] for d in decisions(client, prefix)}
    assert applied == {r["event_id"] for i, r in enumerate(good) if i != 10}
    dead = [json.loads(f[b"d"]) for _, f in client.xrange(StreamKeys(prefix, 0).dead)]
    assert [d["field"] for d in dead] == [
        "event",
        "event",
        "subject",
        "device_id",
        "col\ud800",
        "type",
        "a",
    ]
    assert client.xinfo_groups(StreamKeys(prefix, 0).events)[0]["pending"] == 0


def test_streamed_decisions_are_the_compact_json_of_each_decision(client: Any, prefix: str) -> None:
    # The worker writes decisions by hand (no dict, no encoder call per event); the text must be
    # exactly the compact JSON of the reference form, hits, non-ASCII ids and levels included.
    from xindai.risk.ports import InMemoryDecisions
    from xindai.streams.worker import compact_decision

    raws = events(400)
    raws[5] = {**raws[5], "subject": "张三\u2028", "event_id": 'e"\\5'}
    producer = RedisEventProducer(client, prefix)
    producer.publish_many(raws)
    worker = RiskWorker(client, prefix, make_engine, consumer="w", block_ms=50)
    worker.run(stop_when_idle=True)
    worker.release()
    streamed = [f[b"d"].decode() for _, f in client.xrange(StreamKeys(prefix, 0).decisions)]
    reference = make_engine()
    kept = InMemoryDecisions()
    reference.decisions = kept
    for raw in raws:
        reference.process_raw(raw)
    expected = [compact_decision(d) for d in kept.items]
    assert streamed == expected
    assert any(json.loads(text)["h"] for text in streamed)  # some rules fired


def test_pending_entries_deleted_from_the_stream_are_acknowledged_not_applied(
    client: Any, prefix: str
) -> None:
    # A previous life of "w" read six entries and died; three of them (including the last) were
    # then deleted from the stream (XDEL/XTRIM). Its next life must apply the other three once,
    # acknowledge all six and go on to the new entries — not stall on the gap.
    raws = events(9)
    producer = RedisEventProducer(client, prefix)
    producer.publish_many(raws[:6])
    stream = StreamKeys(prefix, 0).events
    worker = RiskWorker(client, prefix, make_engine, consumer="w", block_ms=50)
    worker.ensure_group()
    read = client.xreadgroup("risk", "w", {stream: ">"}, count=6)
    ids = [entry_id for entry_id, _ in read[0][1]]
    client.xdel(stream, ids[1], ids[4], ids[5])
    producer.publish_many(raws[6:])
    stats = worker.run(stop_when_idle=True)
    worker.release()
    assert stats.applied == 6
    assert sorted(d["e"] for d in decisions(client, prefix)) == sorted(
        r["event_id"] for i, r in enumerate(raws) if i not in (1, 4, 5)
    )
    assert client.xinfo_groups(stream)[0]["pending"] == 0


def test_the_producer_partitions_by_subject_and_keeps_each_partition_in_order(
    client: Any, prefix: str
) -> None:
    from xindai.streams.redis_streams import partition_of

    raws = events(250)
    sent = RedisEventProducer(client, prefix, partitions=3, batch=7).publish_many(raws)
    assert sent == len(raws)
    for p in range(3):
        rows = client.xrange(StreamKeys(prefix, p).events)
        mine = [r for r in raws if partition_of(r["subject"], 3) == p]
        assert mine, "every partition gets some subjects in this sample"
        assert [json.loads(fields[b"e"]) for _, fields in rows] == mine


def test_a_worker_stopped_mid_stream_leaves_nothing_delivered_but_unapplied(
    client: Any, prefix: str
) -> None:
    # Small batches, so the worker always has the next batch requested while it applies one:
    # stopping at max_events must apply or leave pending (never lose) what was prefetched, and a
    # second life of the same worker resumes without a gap or a double.
    raws = events(200)
    RedisEventProducer(client, prefix).publish_many(raws)
    first = RiskWorker(client, prefix, make_engine, consumer="w", batch=7, block_ms=50)
    stats = first.run(max_events=50)
    assert 50 <= stats.applied < 200
    stream = StreamKeys(prefix, 0).events
    assert client.xinfo_groups(stream)[0]["pending"] == 0  # all delivered entries were applied
    assert len(decisions(client, prefix)) == stats.applied
    first.release()
    second = RiskWorker(client, prefix, make_engine, consumer="w", batch=7, block_ms=50)
    second.run(stop_when_idle=True)
    second.release()
    ids = [d["e"] for d in decisions(client, prefix)]
    assert sorted(ids) == sorted(r["event_id"] for r in raws)
    assert len(ids) == len(set(ids))
    reference = make_engine()
    for raw in raws:
        reference.process_raw(raw)
    assert states(second.engine) == states(reference)


def test_state_between_snapshots_is_rebuilt_by_replaying_acknowledged_entries(
    client: Any, prefix: str
) -> None:
    # A worker checkpoints (decisions out, entries acknowledged) without snapshotting its state,
    # then vanishes. The next life (same name: it holds the lease at once) must rebuild the state
    # by replaying exactly the acknowledged entries — silently: no second decision — then apply
    # the entries that were delivered but not acknowledged, then the rest.
    raws = events(260)
    RedisEventProducer(client, prefix).publish_many(raws)
    first = RiskWorker(client, prefix, make_engine, consumer="w", batch=50, block_ms=50)
    first.ensure_group()
    assert first.acquire()
    first.restore()
    for _ in range(3):
        entries, _last = first._read_batch(">")
        first._apply(entries)
        first.flush(snapshot=False)
    entries, _last = first._read_batch(">")  # delivered, applied in memory, never acknowledged
    first._apply(entries)
    assert client.get(StreamKeys(prefix, 0).snapshot) is None
    assert len(decisions(client, prefix)) == 150
    # The first life is gone without a word.
    second = RiskWorker(client, prefix, make_engine, consumer="w", batch=50, block_ms=50)
    stats = second.run(stop_when_idle=True)
    second.release()
    assert stats.replayed == 150
    assert stats.applied == 110
    ids = [d["e"] for d in decisions(client, prefix)]
    assert len(ids) == len(set(ids)) == len(raws)
    reference = make_engine()
    for raw in raws:
        reference.process_raw(raw)
    assert states(second.engine) == states(reference)
    # Its final checkpoint was a snapshot at the last entry: a third life replays nothing.
    third = RiskWorker(client, prefix, make_engine, consumer="w3", block_ms=50)
    assert third.acquire()
    third.restore()
    assert third.stats.replayed == 0
    assert states(third.engine) == states(reference)
    third.release()


def test_restoring_twice_does_not_apply_the_replay_on_top_of_the_live_state(
    client: Any, prefix: str
) -> None:
    # run() restores; a worker object used again after its loop stopped (an error, a lost lease)
    # restores again. It must start from a fresh engine: restoring the snapshot over the live
    # state resets the dedup set and the snapshotted entities but not the entities created after
    # the snapshot, so the replay would count their events twice.
    raws = events(120)
    for i in range(60, 120):  # the second half: subjects, devices, IPs, terminals not seen before
        raws[i] |= {
            "subject": f"v{i % 7}",
            "device_id": f"dv{i % 5}",
            "ip": f"10.9.{i % 3}.1",
            "terminal_id": f"tv{i % 4}",
        }
    RedisEventProducer(client, prefix).publish_many(raws)
    worker = RiskWorker(client, prefix, make_engine, consumer="w", batch=60, block_ms=50)
    worker.ensure_group()
    assert worker.acquire()
    worker.restore()
    for snapshot in (True, False):
        entries, _last = worker._read_batch(">")
        worker._apply(entries)
        worker.flush(snapshot=snapshot)
    stats = worker.run(stop_when_idle=True)
    worker.release()
    assert stats.replayed == 60
    ids = [d["e"] for d in decisions(client, prefix)]
    assert len(ids) == len(set(ids)) == len(raws)
    reference = make_engine()
    for raw in raws:
        reference.process_raw(raw)
    assert states(worker.engine) == states(reference)


def test_with_a_batch_scorer_the_worker_scores_micro_batches_with_the_same_decisions(
    client: Any, prefix: str
) -> None:
    # An anomaly scorer with score_many makes the worker score each read as one micro-batch
    # (without one it goes event by event); either way the decisions equal a one-by-one run.
    import numpy as np

    from xindai.risk.model import RobustZAnomaly
    from xindai.risk.ports import InMemoryDecisions
    from xindai.streams.worker import _scores_batches, compact_decision

    raws = events(300)
    probe = make_engine()
    seen = InMemoryDecisions()
    probe.decisions = seen
    for raw in raws:
        probe.process_raw(raw)
    names = sorted(REGISTRY.names)
    x = np.array([[d.indicators.get(n, np.nan) for n in names] for d in seen.items], dtype=float)
    anomaly = RobustZAnomaly.fit(x, names)

    def with_anomaly() -> RiskEngine:
        return RiskEngine(REGISTRY, RULES, anomaly=anomaly)

    RedisEventProducer(client, prefix).publish_many(raws)
    worker = RiskWorker(client, prefix, with_anomaly, consumer="w", batch=64, block_ms=50)
    assert _scores_batches(worker.engine) and not _scores_batches(make_engine())
    worker.run(stop_when_idle=True)
    worker.release()
    reference = with_anomaly()
    kept = InMemoryDecisions()
    reference.decisions = kept
    for raw in raws:
        reference.process_raw(raw)
    streamed = [f[b"d"].decode() for _, f in client.xrange(StreamKeys(prefix, 0).decisions)]
    assert streamed == [compact_decision(d) for d in kept.items]
    assert any(d.anomaly_score for d in kept.items)  # the scorer did contribute
    assert states(worker.engine) == states(reference)


def test_a_replay_longer_than_the_lease_keeps_the_lease(client: Any, prefix: str) -> None:
    # 500 acknowledged entries to replay at ~2 ms each (~1 s, in batches of 40) under a 600 ms
    # lease: the replay renews it between batches, so no other worker can take the partition.
    raws = events(500)
    RedisEventProducer(client, prefix).publish_many(raws)
    first = RiskWorker(client, prefix, make_engine, consumer="w", batch=100, block_ms=50)
    first.ensure_group()
    assert first.acquire()
    first.restore()
    for _ in range(5):
        entries, _last = first._read_batch(">")
        first._apply(entries)
        first.flush(snapshot=False)
    first.release()

    def slow_engine() -> RiskEngine:
        engine = make_engine()
        inner = engine.process

        def slow(event: Any, model_score: float | None = None) -> Any:
            time.sleep(0.002)
            return inner(event, model_score)

        engine.process = slow  # type: ignore[method-assign]
        return engine

    second = RiskWorker(
        client, prefix, slow_engine, consumer="w2", lease_ms=600, batch=40, block_ms=50
    )
    assert second.acquire()
    rival = RiskWorker(client, prefix, make_engine, consumer="rival", lease_ms=600)
    started = time.monotonic()
    second.restore()
    assert time.monotonic() - started > 0.6  # the replay did outlast the lease
    assert second.stats.replayed == 500
    assert not rival.acquire(wait_s=0)
    assert client.get(StreamKeys(prefix, 0).lease) == b"w2"
    second.release()
