"""Redis Streams layout and the producer side.

Keys (all under one ``prefix`` so deployments and tests never collide):

* ``{prefix}:events:{p}``    the event stream of partition ``p`` (field ``e``: the event JSON);
* ``{prefix}:state:{p}``     hash: the partition's window state snapshot, one field per entity;
* ``{prefix}:snapshot:{p}``  the id of the last stream entry whose effect the state hash holds;
* ``{prefix}:lease:{p}``     the owning worker's name, with a TTL (one worker owns a partition);
* ``{prefix}:decisions:{p}`` compact decisions written by the worker, exactly once per event;
* ``{prefix}:dead:{p}``      dead letters (raw payload, field, reason).

Events are partitioned by subject (CRC-32 of the subject modulo ``partitions``), so every event of a
subject lands in the same stream and one worker owns the subject's windows. Indicators keyed by
device, IP or terminal see the events of their partition only; deployments that need global
device/terminal windows run one partition per such key space (documented in the guide).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

GROUP = "risk"

# One script call per batch appends every payload of one partition's stream, one entry per event:
# the same entries as pipelined XADDs, without building, packing and parsing a command and a reply
# per event in the client.
PUBLISH_LUA = """
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'e', ARGV[i]) end
return #ARGV
"""
# ``json.dumps(raw, separators=..., default=str)`` with one encoder instead of one per call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode


@dataclass(frozen=True, slots=True)
class StreamKeys:
    prefix: str
    partition: int

    @property
    def events(self) -> str:
        return f"{self.prefix}:events:{self.partition}"

    @property
    def state(self) -> str:
        return f"{self.prefix}:state:{self.partition}"

    @property
    def snapshot(self) -> str:
        return f"{self.prefix}:snapshot:{self.partition}"

    @property
    def lease(self) -> str:
        return f"{self.prefix}:lease:{self.partition}"

    @property
    def decisions(self) -> str:
        return f"{self.prefix}:decisions:{self.partition}"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:dead:{self.partition}"


def partition_of(subject: str, partitions: int) -> int:
    """Stable partition of a subject (CRC-32, not Python's salted ``hash``)."""
    return zlib.crc32(subject.encode("utf-8")) % partitions


class RedisEventProducer:
    """Publishes raw events to the partition streams, ``batch`` events per script call."""

    def __init__(
        self, client: redis.Redis, prefix: str, partitions: int = 1, batch: int = 1000
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.client = client
        self.prefix = prefix
        self.partitions = partitions
        self.batch = batch
        self._streams = [StreamKeys(prefix, p).events for p in range(partitions)]

    def publish_many(self, raws: Iterable[Mapping[str, Any]]) -> int:
        """XADD every event (compact JSON in field ``e``) to its subject's partition, in order
        within each partition; returns how many were sent. One batch is in flight while the next
        is encoded (on a connection of its own), so Redis appends while the client encodes."""
        sent = 0
        batch, partitions = self.batch, self.partitions
        buffers: list[list[str]] = [[] for _ in range(partitions)]
        pool = self.client.connection_pool
        conn = pool.get_connection()
        inflight = 0
        try:
            partition = 0
            for raw in raws:
                if partitions > 1:
                    partition = partition_of(str(raw.get("subject", "")), partitions)
                buffer = buffers[partition]
                buffer.append(_ENCODE(raw))
                if len(buffer) >= batch:
                    inflight = self._send(conn, partition, buffer, inflight)
                    sent += len(buffer)
                    buffers[partition] = []
            for partition, buffer in enumerate(buffers):
                if buffer:
                    inflight = self._send(conn, partition, buffer, inflight)
                    sent += len(buffer)
            while inflight:
                conn.read_response()
                inflight -= 1
        finally:
            if inflight:  # an error with replies on the way: the connection is unusable
                conn.disconnect()  # type: ignore[no-untyped-call]
            pool.release(conn)
        return sent

    def _send(self, conn: Any, partition: int, buffer: list[str], inflight: int) -> int:
        """Send one batch, after reading the reply of the one before (at most one in flight)."""
        if inflight:
            conn.read_response()
            inflight -= 1
        conn.send_command("EVAL", PUBLISH_LUA, 1, self._streams[partition], *buffer)
        return inflight + 1

    def publish(self, raw: Mapping[str, Any]) -> None:
        self.publish_many([raw])

    def publish_text(self, partition: int, text: str) -> None:
        """Publish an arbitrary payload (used to test that malformed input is dead-lettered)."""
        self.client.xadd(StreamKeys(self.prefix, partition).events, {"e": text})
