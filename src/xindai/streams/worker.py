"""The Redis Streams risk worker: consumer group, checkpoints, snapshots, reclaim, exactly-once.

Protocol for one partition (see ``redis_streams`` for the keys):

1. take the partition lease (``SET NX PX``); only the lease holder applies events to the windows;
2. restore the state snapshot (the state hash and the stream position it holds), then **replay**,
   silently (no decision, no dead letter), every entry after that position that the group has
   acknowledged (those up to its last delivered id that are not pending);
3. reclaim with ``XAUTOCLAIM`` every entry still pending in the group (delivered to a worker that died
   before its checkpoint), then read its own pending list from ``0``, then new entries with ``>``
   (through a Lua script returning a batch as three blobs; the next batch is requested before the
   current one is applied);
4. apply events in memory; every ``checkpoint_every`` events or ``checkpoint_interval_s`` seconds,
   one Lua script atomically: checks the lease is still ours (fencing a zombie), appends the compact
   decisions and dead letters and ``XACK``s the entries; every ``snapshot_every`` entries or
   ``snapshot_interval_s`` seconds, and at every stop, the same script also writes the entities
   changed since the last snapshot and the id of the last entry applied.

Why this is exactly-once: an entry is acknowledged in the same atomic step that emits its decision.
Its effect on the state is durable as of then too: either in the snapshot or, after the snapshot
position, recomputable from the stream — the replay re-applies exactly the acknowledged entries
after the position, in stream order (the order they were applied in: a partition has one owner,
which applies its pending entries, then new ones, in id order, and acknowledges everything applied
at each checkpoint). An entry not acknowledged stays pending; it is in neither the snapshot nor the
replay, and the next owner applies it once, with its decision. The engine's dedup set (part of the
state) also absorbs producer-side duplicates. Malformed payloads are dead-lettered and acknowledged;
nothing in an entry can crash the worker.

Why snapshots are rarer than checkpoints: a snapshot writes every entity changed since the last one,
and on a busy stream that is nearly every entity (the handbook stream: ~19k entities, 8–15 MB of
JSON, 1–1.7 CPU-s per snapshot), whatever the number of events; a checkpoint costs ~1 µs per event.
The price is the replay after a crash: at most ``snapshot_every`` entries or
``snapshot_interval_s`` seconds of them (the snapshot cadence set to the checkpoint cadence gives
the old behaviour back: a snapshot with nearly every checkpoint, little to replay). Retention: the
stream must keep every entry after the last snapshot position (trim only up to it).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

import redis

from xindai.kernel import NotFoundError, ValidationError
from xindai.risk.decisions import Decision
from xindai.risk.engine import RiskEngine, collect_young
from xindai.risk.events import Event, parse_event
from xindai.risk.ports import DeadLetter
from xindai.streams.redis_streams import GROUP, StreamKeys

# ARGV: consumer, lease ms, group, then three blobs — the decisions and the dead letters (JSON
# texts, one per line: JSON never contains a raw newline) and the entry ids (comma-separated) — then
# the snapshot position ('' when this checkpoint is not a snapshot) and the changed state as
# field/value pairs. Blobs instead of one argument per item: packing hundreds of thousands of small
# arguments cost the client more than the script costs Redis.
FLUSH_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local group = ARGV[3]
for k = 8, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[k], ARGV[k + 1]) end
if ARGV[7] ~= '' then redis.call('SET', KEYS[6], ARGV[7]) end
for d in string.gmatch(ARGV[4], '[^\\n]+') do redis.call('XADD', KEYS[4], '*', 'd', d) end
for d in string.gmatch(ARGV[5], '[^\\n]+') do redis.call('XADD', KEYS[5], '*', 'd', d) end
local chunk, n = {}, 0
for id in string.gmatch(ARGV[6], '[^,]+') do
  n = n + 1; chunk[n] = id
  if n == 500 then redis.call('XACK', KEYS[3], group, unpack(chunk)); chunk, n = {}, 0 end
end
if n > 0 then redis.call('XACK', KEYS[3], group, unpack(chunk)) end
return 1
"""

# Stream entries as three blobs instead of five protocol elements per entry (parsing those in
# redis-py cost ~10 CPU-µs per entry, more than everything else the worker does outside the
# engine): the entry ids and the payload lengths (comma-separated; -1 marks an entry deleted from
# the stream while pending) and the payloads (field ``e``) concatenated.
_BLOBS_LUA = """
local function blobs(entries)
  local ids, lens, parts = {}, {}, {}
  for i, entry in ipairs(entries) do
    ids[i] = entry[1]
    local fields = entry[2]
    if fields then
      local payload = ''
      for j = 1, #fields, 2 do
        if fields[j] == 'e' then payload = fields[j + 1] end
      end
      parts[#parts + 1] = payload
      lens[i] = #payload
    else
      lens[i] = -1
    end
  end
  return {table.concat(ids, ','), table.concat(lens, ','), table.concat(parts)}
end
"""
# A batch read. Non-blocking (scripts cannot block): an idle worker waits in XREADGROUP ... BLOCK.
READ_LUA = (
    _BLOBS_LUA
    + """
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
                     'STREAMS', KEYS[1], ARGV[4])
if not r or not r[1] then return {'', '', ''} end
return blobs(r[1][2])
"""
)
# Entries in an id range (the replay after a snapshot), as blobs.
RANGE_LUA = (
    _BLOBS_LUA
    + """
return blobs(redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3]))
"""
)

RENEW_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# A reused encoder: ``json.dumps(..., separators=...)`` builds a new encoder on every call.
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode
# The C string encoder ``_COMPACT`` uses for ``str`` (ASCII-only output, like ``_COMPACT``).
_JSON_STR: Callable[[str], str] = json.encoder.encode_basestring_ascii
# The C scanner behind ``json.loads``: one call, no encoding sniffing, no regex for whitespace.
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = vars(json.JSONDecoder())["scan_once"]


def _decode_payload(payload: bytes) -> Any:
    """``json.loads(payload)``, or ``None`` for a payload that is not JSON. Fast for the compact
    JSON a producer writes; anything else (surrounding whitespace, a BOM, trailing data, bad
    UTF-8) takes ``json.loads`` itself, so what is accepted is exactly what ``json.loads`` accepts."""
    try:
        text = payload.decode()
        value, end = _SCAN_JSON(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError, RecursionError):  # no value at 0, bad UTF-8, bad syntax
        pass
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):  # also UnicodeDecodeError; nesting deeper than the stack
        return None


class LeaseLost(RuntimeError):
    """Another worker owns the partition now; this worker must stop without acknowledging."""


class _Outbox:
    """Decision and dead-letter buffers flushed with the checkpoint (the worker's store ports)."""

    def __init__(self) -> None:
        self.decisions: list[str] = []
        self.dead: list[str] = []
        self.count = 0
        self._quoted: dict[str, str] = {}  # action values and rule ids, JSON-quoted once

    # DecisionStore
    def append(self, decision: Decision) -> None:
        """The compact decision ``{"e","s","a","p","l","h"}`` as JSON, written by hand with the
        encoder's own string quoting and float ``repr``: the same text as ``_COMPACT`` of the
        dict (``compact_decision``), at a fraction of the cost."""
        self.count += 1
        points = round(decision.points, 3)
        level = decision.level_after
        if type(points) is not float or not math.isfinite(points) or type(level) is not int:
            self.decisions.append(compact_decision(decision))
            return
        quoted = self._quoted
        action = decision.action  # a StrEnum: hashes and quotes as its value, no ``.value`` call
        a = quoted.get(action) or quoted.setdefault(action, _JSON_STR(action))
        h = ""
        if decision.hits:
            h = ",".join(
                [
                    quoted.get(hit.rule_id)
                    or quoted.setdefault(hit.rule_id, _JSON_STR(hit.rule_id))
                    for hit in decision.hits
                ]
            )
        self.decisions.append(
            f'{{"e":{_JSON_STR(decision.event_id)},"s":{_JSON_STR(decision.subject)},'
            f'"a":{a},"p":{points!r},"l":{level},"h":[{h}]}}'
        )

    def get(self, decision_id: str) -> Decision:
        raise NotFoundError(f"decision {decision_id} (the worker streams decisions out)")

    def for_subject(self, subject: str) -> list[Decision]:
        return []

    def __len__(self) -> int:
        return self.count

    # DeadLetterStore
    def put(self, letter: DeadLetter) -> None:
        entry = {"raw": letter.raw, "field": letter.field, "reason": letter.reason}
        text = json.dumps(entry, ensure_ascii=False)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (e.g. in a field name): escape it
                text = json.dumps(entry)
        self.dead.append(text)

    def entries(self) -> list[DeadLetter]:
        return []


def compact_decision(decision: Decision) -> str:
    """The reference form of a streamed decision (what ``_Outbox.append`` writes)."""
    return _COMPACT(
        {
            "e": decision.event_id,
            "s": decision.subject,
            "a": decision.action.value,
            "p": round(decision.points, 3),
            "l": decision.level_after,
            "h": [h.rule_id for h in decision.hits],
        }
    )


@dataclass
class WorkerStats:
    applied: int = 0
    reclaimed: int = 0
    replayed: int = 0
    checkpoints: int = 0
    snapshots: int = 0
    dead_letters: int = 0
    seconds: float = 0.0


class RiskWorker:
    """Consumes one partition's stream into a ``RiskEngine``."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        engine_factory: Callable[[], RiskEngine],
        *,
        partition: int = 0,
        consumer: str = "worker-1",
        lease_ms: int = 10_000,
        batch: int = 1_000,
        checkpoint_every: int = 50_000,
        checkpoint_interval_s: float = 5.0,
        snapshot_every: int = 500_000,
        snapshot_interval_s: float = 60.0,
        block_ms: int = 200,
    ) -> None:
        self.client = client
        self.keys = StreamKeys(prefix, partition)
        self.consumer = consumer
        self.lease_ms = lease_ms
        self.batch = batch
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval_s = checkpoint_interval_s
        self.snapshot_every = snapshot_every
        self.snapshot_interval_s = snapshot_interval_s
        self.block_ms = block_ms
        self.outbox = _Outbox()
        self._engine_factory = engine_factory
        self.engine = self._new_engine()
        self._restored = False
        self.stats = WorkerStats()
        self._flush_script = client.register_script(FLUSH_LUA)
        self._read_script = client.register_script(READ_LUA)
        self._range_script = client.register_script(RANGE_LUA)
        self._renew_script = client.register_script(RENEW_LUA)
        self._unacked: list[bytes] = []
        self._last_flush = time.monotonic()
        self._last_renew = self._last_flush
        self._last_snapshot = self._last_flush
        self._since_snapshot = 0  # entries applied since the last snapshot
        self._position: bytes | None = None  # the last entry applied (or acknowledged unapplied)

    def _new_engine(self) -> RiskEngine:
        engine = self._engine_factory()
        engine.track_dirty = True
        engine.decisions = self.outbox
        engine.dead_letters = self.outbox
        engine.policy = _no_cases(engine)
        return engine

    # --- setup ----------------------------------------------------------------------------------
    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.keys.events, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def acquire(self, wait_s: float = 30.0) -> bool:
        """Take the partition lease, waiting up to ``wait_s`` for a dead owner's lease to expire."""
        deadline = time.monotonic() + wait_s
        while True:
            if self.client.set(self.keys.lease, self.consumer, nx=True, px=self.lease_ms):
                return True
            if self.client.get(self.keys.lease) == self.consumer.encode():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def restore(self) -> int:
        """Load the state snapshot, then replay the entries acknowledged after it; returns the
        number of entities restored (``stats.replayed``: entries replayed)."""
        if self._restored:  # a second restore (run() again after an error): start from scratch,
            self.engine = self._new_engine()  # or the replay would apply entries twice
            self.outbox.decisions.clear()
            self.outbox.dead.clear()
            self._unacked.clear()
        self._restored = True
        entries: dict[str, str] = {}
        for field, value in self.client.hscan_iter(self.keys.state, count=1000):
            entries[field.decode()] = value.decode()
        self.engine.restore(entries)
        self.engine.dirty = set()
        position: Any = self.client.get(self.keys.snapshot)
        self._position = position
        self.stats.replayed += self._replay()
        return len(entries)

    def _replay(self) -> int:
        """Re-apply, silently (no decision, no dead letter: those went out when the entries were
        acknowledged), every entry after the snapshot position that the group has acknowledged:
        entries up to its last delivered id that are not pending. Pending entries are not in the
        state either; they are re-applied normally by whoever reads them next."""
        try:
            groups = self.client.xinfo_groups(self.keys.events)
        except redis.ResponseError:  # no stream yet
            return 0
        last = next((g["last-delivered-id"] for g in groups if _text(g["name"]) == GROUP), None)
        if last is None or _text(last) == "0-0":
            return 0
        pending: set[bytes] = set()
        start: Any = "-"
        while True:
            rows: Any = self.client.xpending_range(
                self.keys.events, GROUP, min=start, max="+", count=10_000
            )
            if not rows:
                break
            pending.update(row["message_id"] for row in rows)
            start = b"(" + rows[-1]["message_id"]
        cursor = b"(" + self._position if self._position else b"-"
        replayed = 0
        outbox = self.outbox
        while True:
            reply = self._range_script(keys=[self.keys.events], args=[cursor, last, self.batch])
            entries, tail = _parse_read(reply, [])
            if tail is None:
                break
            events: list[Event] = []
            for entry_id, payload in entries:
                if entry_id in pending:
                    continue
                raw = _decode_payload(payload)
                if type(raw) is dict:
                    with suppress(ValidationError):  # dead-lettered when it was first read
                        events.append(parse_event(raw))
                self._position = entry_id
            kept = (len(outbox.decisions), len(outbox.dead), outbox.count)
            self._renew_if_due(time.monotonic())  # a long replay must not lose the lease
            self._process(events)
            del outbox.decisions[kept[0] :], outbox.dead[kept[1] :]
            outbox.count = kept[2]
            replayed += len(events)
            cursor = b"(" + tail
        return replayed

    def reclaim(self) -> int:
        """XAUTOCLAIM every pending entry of the group (a dead worker's) to this consumer."""
        claimed = 0
        cursor: Any = "0-0"
        while True:
            result = self.client.xautoclaim(
                self.keys.events, GROUP, self.consumer, min_idle_time=0, start_id=cursor, count=1000
            )
            cursor, messages = result[0], result[1]
            claimed += len(messages)
            if cursor in (b"0-0", "0-0"):
                break
        self.stats.reclaimed += claimed
        return claimed

    # --- the loop -------------------------------------------------------------------------------
    def run(self, *, stop_when_idle: bool = False, max_events: int | None = None) -> WorkerStats:
        """Consume until idle (``stop_when_idle``) or ``max_events`` applied; checkpoint on exit."""
        started = time.perf_counter()
        self.ensure_group()
        if not self.acquire():
            raise LeaseLost(f"partition {self.keys.partition} is owned by another worker")
        self.restore()
        self.reclaim()
        last_id: bytes | str = "0"
        # Own pending list first (reclaimed or from a previous life under the same name).
        while True:
            entries, last = self._read_batch(last_id)
            if last is None:
                break
            self._apply(entries)
            self._renew_if_due(time.monotonic())
            last_id = last
            if max_events is not None and self.stats.applied >= max_events:
                self.flush(snapshot=True)
                self.stats.seconds = time.perf_counter() - started
                return self.stats
        # New entries. The next batch is requested before this one is applied (on a connection of
        # its own), so Redis prepares it while the engine works; the entries it delivers are
        # pending like any other until a checkpoint acknowledges them.
        conn = self.client.connection_pool.get_connection()
        inflight = False
        try:
            while True:
                if not inflight:
                    self._send_read(conn, ">")
                    inflight = True
                entries, last = _parse_read(conn.read_response(), self._unacked)
                inflight = False
                idle = False
                if last is None:  # nothing new: wait for it in a blocking read
                    entries = self._read(">", block=True)
                    idle = not entries
                elif max_events is None or self.stats.applied + len(entries) < max_events:
                    self._send_read(conn, ">")
                    inflight = True
                if entries:
                    self._apply(entries)
                now = time.monotonic()
                self._renew_if_due(now)
                due = (
                    len(self._unacked) >= self.checkpoint_every
                    or now - self._last_flush >= self.checkpoint_interval_s
                )
                if due or not entries:
                    self.flush()
                if max_events is not None and self.stats.applied >= max_events:
                    break
                if idle and stop_when_idle:
                    break
            if inflight:  # delivered to us already: apply it rather than leave it pending
                entries, _ = _parse_read(conn.read_response(), self._unacked)
                inflight = False
                self._apply(entries)
        finally:
            if inflight:  # an exception with a reply on the way: the connection is unusable
                conn.disconnect()  # type: ignore[no-untyped-call]
            self.client.connection_pool.release(conn)
        self.flush(snapshot=True)
        self.stats.seconds = time.perf_counter() - started
        return self.stats

    def _send_read(self, conn: Any, last_id: bytes | str) -> None:
        conn.send_command(
            "EVAL", READ_LUA, 1, self.keys.events, GROUP, self.consumer, self.batch, last_id
        )

    def _renew_if_due(self, now: float) -> None:
        """Keep the lease alive between checkpoints (which may be further apart than the TTL):
        every third of the lease, a compare-and-extend; a lost lease stops the worker."""
        if now - self._last_renew < self.lease_ms / 3000.0:
            return
        if not self._renew_script(keys=[self.keys.lease], args=[self.consumer, self.lease_ms]):
            raise LeaseLost(f"lost the lease of partition {self.keys.partition}")
        self._last_renew = now

    def _read_batch(self, last_id: bytes | str) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
        """Up to ``batch`` entries after ``last_id`` (``">"``: new ones) as ``(id, payload)``, and
        the last id read (``None``: nothing). Entries deleted from the stream while pending carry
        no payload: they are acknowledged with the batch, never applied."""
        reply = self._read_script(
            keys=[self.keys.events], args=[GROUP, self.consumer, self.batch, last_id]
        )
        return _parse_read(reply, self._unacked)

    def _read(self, last_id: bytes | str, block: bool) -> list[tuple[bytes, bytes]]:
        """``XREADGROUP`` through redis-py (the blocking wait of an idle worker)."""
        result: Any = self.client.xreadgroup(
            GROUP,
            self.consumer,
            {self.keys.events: last_id},
            count=self.batch,
            block=self.block_ms if block else None,
        )
        if not result:
            return []
        rows: list[tuple[bytes, dict[bytes, bytes] | None]] = result[0][1]
        entries: list[tuple[bytes, bytes]] = []
        for entry_id, fields in rows:
            if fields is None:  # deleted while pending: acknowledge, never apply
                self._unacked.append(entry_id)
            else:
                entries.append((entry_id, fields.get(b"e", b"")))
        return entries

    def _apply(self, entries: list[tuple[bytes, bytes]]) -> None:
        batch: list[Event] = []
        append = batch.append
        dead = 0
        self._unacked.extend([entry_id for entry_id, _ in entries])
        for _, payload in entries:
            raw = _decode_payload(payload)
            if type(raw) is not dict:
                text = payload.decode("utf-8", "replace")
                self.outbox.put(DeadLetter(text, "event", "not a JSON object", "redis"))
                dead += 1
                continue
            try:
                append(parse_event(raw))
            except ValidationError as exc:
                # The payload as received (re-encoding ``raw`` could itself fail, e.g. nesting).
                text = payload.decode("utf-8", "replace")
                self.outbox.put(DeadLetter(text, exc.field, exc.reason, "redis"))
                dead += 1
        self.stats.dead_letters += dead
        self.stats.applied += len(batch)
        self._since_snapshot += len(entries)
        if entries:
            self._position = entries[-1][0]
        self._process(batch)

    def _process(self, events: list[Event]) -> None:
        """With a model or anomaly scorer that scores many rows at once, one micro-batch per read
        (``process_batch``: one vectorised call); without, event by event (``process``): the same
        decisions, and the indicator values of an event are still in the CPU cache when its rules
        run (holding a read's 1,000 value dicts first cost ~5 CPU-µs per event)."""
        engine = self.engine
        if _scores_batches(engine):
            engine.process_batch(events)
        else:
            process = engine.process
            for event in events:
                process(event)

    def flush(self, snapshot: bool | None = None) -> None:
        """One atomic checkpoint: append the decisions and dead letters and acknowledge the
        entries; with ``snapshot`` (default: when ``snapshot_every`` entries or
        ``snapshot_interval_s`` seconds have passed since the last one) also write every entity
        changed since the last snapshot and the stream position the state now holds."""
        now = time.monotonic()
        if snapshot is None:
            snapshot = (
                self._since_snapshot >= self.snapshot_every
                or now - self._last_snapshot >= self.snapshot_interval_s
            )
        args: list[Any] = [
            self.consumer,
            self.lease_ms,
            GROUP,
            "\n".join(self.outbox.decisions),
            "\n".join(self.outbox.dead),
            b",".join(self._unacked),
            (self._position or b"") if snapshot else b"",
        ]
        if snapshot:
            for key, value in self.engine.take_dirty().items():
                args.append(key)
                args.append(value)
        keys = [
            self.keys.lease,
            self.keys.state,
            self.keys.events,
            self.keys.decisions,
            self.keys.dead,
            self.keys.snapshot,
        ]
        ok = self._flush_script(keys=keys, args=args)
        if not ok:
            raise LeaseLost(f"lost the lease of partition {self.keys.partition}")
        self.outbox.decisions.clear()
        self.outbox.dead.clear()
        self._unacked.clear()
        self.stats.checkpoints += 1
        if snapshot:
            self.stats.snapshots += 1
            self._since_snapshot = 0
            self._last_snapshot = now
        collect_young()  # under streaming_gc: cycles made since the last checkpoint, then freeze
        self._last_flush = self._last_renew = time.monotonic()

    def release(self) -> None:
        """Give the lease up (clean shutdown) so another worker need not wait for the TTL."""
        if self.client.get(self.keys.lease) == self.consumer.encode():
            self.client.delete(self.keys.lease)


def _parse_read(reply: Any, unacked: list[bytes]) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """``READ_LUA``'s three blobs as ``(id, payload)`` entries and the last id read (``None``:
    nothing). Ids of entries deleted while pending go straight to ``unacked``."""
    ids_blob, lens_blob, blob = reply
    if not ids_blob:
        return [], None
    ids = ids_blob.split(b",")
    entries: list[tuple[bytes, bytes]] = []
    pos = 0
    for entry_id, size in zip(ids, map(int, lens_blob.split(b",")), strict=True):
        if size < 0:
            unacked.append(entry_id)
            continue
        end = pos + size
        entries.append((entry_id, blob[pos:end]))
        pos = end
    return entries, ids[-1]


def _scores_batches(engine: RiskEngine) -> bool:
    return any(hasattr(s, "score_many") for s in (engine.model, engine.anomaly) if s is not None)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _no_cases(engine: RiskEngine) -> Any:
    # The worker streams decisions out; case management happens where analysts work.
    return replace(engine.policy, open_cases=False)
