"""Redis Streams layout and the producer side.

Keys (all under one ``prefix`` so deployments and tests never collide):

* ``{prefix}:events:{p}``    the event stream of partition ``p`` (field ``e``: the event JSON);
* ``{prefix}:state:{p}``     hash: the partition's checkpointed window state, one field per entity;
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
    """Publishes raw events to the partition streams, pipelined."""

    def __init__(
        self, client: redis.Redis, prefix: str, partitions: int = 1, batch: int = 1000
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.client = client
        self.prefix = prefix
        self.partitions = partitions
        self.batch = batch

    def publish_many(self, raws: Iterable[Mapping[str, Any]]) -> int:
        """XADD every event to its subject's partition; returns how many were sent."""
        sent = 0
        pipe = self.client.pipeline(transaction=False)
        pending = 0
        for raw in raws:
            subject = str(raw.get("subject", ""))
            key = StreamKeys(self.prefix, partition_of(subject, self.partitions)).events
            pipe.xadd(key, {"e": json.dumps(raw, separators=(",", ":"), default=str)})
            pending += 1
            if pending >= self.batch:
                pipe.execute()
                sent += pending
                pending = 0
        if pending:
            pipe.execute()
            sent += pending
        return sent

    def publish(self, raw: Mapping[str, Any]) -> None:
        self.publish_many([raw])

    def publish_text(self, partition: int, text: str) -> None:
        """Publish an arbitrary payload (used to test that malformed input is dead-lettered)."""
        self.client.xadd(StreamKeys(self.prefix, partition).events, {"e": text})
