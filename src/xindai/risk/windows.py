"""Incremental window primitives: sparse bucketed rings and a delayed-label ring.

Every primitive is O(1) amortised per event: a bucket is appended once and expired once, and only
non-empty buckets are stored (a sparse ring), so an idle key costs nothing and a busy one holds at
most ``n`` buckets. History is never rescanned.

Window semantics (documented in docs/guide/risk-engine.md): time is cut into buckets of ``width``
seconds; a window of ``n`` buckets read at watermark ``h`` (the newest bucket seen by this key)
covers buckets ``(h - n, h]``, i.e. between ``(n - 1) * width`` and ``n * width`` seconds of history.
Registries pick ``width = window / 60`` or finer, so the edge error is at most 1/60 of the window.

Late events: an event whose bucket is still inside the ring is added to its bucket (found from the
right, late events are near the head); an event older than the ring is refused (``add`` returns
``False``). The engine's lateness limit is normally far tighter than any ring.

State serialises to plain JSON lists (``dump``/``load``) for checkpoints: no pickle.

These classes are the reference implementation; ``xindai.risk._kernel`` compiles the same rings,
and the module-level names ``SumRing`` etc. pick the compiled ones when
they are built (see ``xindai.risk.accel``).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from xindai.risk.accel import kernel

NEG_INF_BUCKET = -(1 << 62)


class PySumRing:
    """Count, sum and sum of squares over a sliding window (ints stay exact)."""

    __slots__ = ("buckets", "count", "head", "n", "sq", "total", "width")

    def __init__(self, width: float, n: int) -> None:
        self.width = width
        self.n = n
        self.buckets: deque[list[Any]] = deque()
        self.head = NEG_INF_BUCKET
        self.count = 0
        self.total: float = 0
        self.sq: float = 0

    def advance(self, ts: float) -> None:
        """Move the watermark to ``ts`` (if later) and expire buckets that fell out."""
        bid = int(ts // self.width)
        if bid > self.head:
            self.head = bid
        buckets = self.buckets
        if buckets and buckets[0][0] <= self.head - self.n:
            low = self.head - self.n
            while buckets and buckets[0][0] <= low:
                _, c, s, q = buckets.popleft()
                self.count -= c
                self.total -= s
                self.sq -= q
            if not buckets:
                self.count, self.total, self.sq = 0, 0, 0

    def add(self, ts: float, x: float = 1) -> bool:
        """Add one observation at ``ts``; ``False`` if it is older than the ring."""
        bid = int(ts // self.width)
        self.advance(ts)
        if bid <= self.head - self.n:
            return False
        buckets = self.buckets
        if buckets and buckets[-1][0] == bid:
            b = buckets[-1]
            b[1] += 1
            b[2] += x
            b[3] += x * x
        elif not buckets or buckets[-1][0] < bid:
            buckets.append([bid, 1, x, x * x])
        else:
            late = _insert_late(buckets, bid, lambda: [bid, 0, 0, 0], 1, x)
            late[3] += x * x
        self.count += 1
        self.total += x
        self.sq += x * x
        return True

    def dump(self) -> list[Any]:
        return [self.head, self.count, self.total, self.sq, [list(b) for b in self.buckets]]

    def load(self, data: list[Any]) -> None:
        self.head, self.count, self.total, self.sq = data[0], data[1], data[2], data[3]
        self.buckets = deque(list(b) for b in data[4])


def _insert_late(buckets: deque[list[Any]], bid: int, make: Any, count: int, x: float) -> list[Any]:
    """Add to bucket ``bid`` that lies left of the head, creating it in order if absent."""
    idx = len(buckets) - 1
    while idx >= 0 and buckets[idx][0] > bid:
        idx -= 1
    if idx >= 0 and buckets[idx][0] == bid:
        bucket = buckets[idx]
    else:
        bucket = make()
        buckets.insert(idx + 1, bucket)
    bucket[1] += count
    bucket[2] += x
    return bucket


class PyMaxRing:
    """Maximum over a sliding window; the cached max is recomputed only when its bucket expires."""

    __slots__ = ("best", "buckets", "head", "n", "width")

    def __init__(self, width: float, n: int) -> None:
        self.width = width
        self.n = n
        self.buckets: deque[list[Any]] = deque()
        self.head = NEG_INF_BUCKET
        self.best: float | None = None

    def advance(self, ts: float) -> None:
        bid = int(ts // self.width)
        if bid > self.head:
            self.head = bid
        buckets = self.buckets
        low = self.head - self.n
        dropped_best = False
        while buckets and buckets[0][0] <= low:
            if buckets.popleft()[1] == self.best:
                dropped_best = True
        if dropped_best or not buckets:
            self.best = max((b[1] for b in buckets), default=None)

    def add(self, ts: float, x: float) -> bool:
        bid = int(ts // self.width)
        self.advance(ts)
        if bid <= self.head - self.n:
            return False
        buckets = self.buckets
        if buckets and buckets[-1][0] == bid:
            if x > buckets[-1][1]:
                buckets[-1][1] = x
        elif not buckets or buckets[-1][0] < bid:
            buckets.append([bid, x])
        else:
            idx = len(buckets) - 1
            while idx >= 0 and buckets[idx][0] > bid:
                idx -= 1
            if idx >= 0 and buckets[idx][0] == bid:
                buckets[idx][1] = max(buckets[idx][1], x)
            else:
                buckets.insert(idx + 1, [bid, x])
        if self.best is None or x > self.best:
            self.best = x
        return True

    def dump(self) -> list[Any]:
        return [self.head, self.best, [list(b) for b in self.buckets]]

    def load(self, data: list[Any]) -> None:
        self.head, self.best = data[0], data[1]
        self.buckets = deque(list(b) for b in data[2])


class PyDistinctRing:
    """Number of distinct values over a sliding window (per-bucket value counts)."""

    __slots__ = ("buckets", "counts", "head", "n", "width")

    def __init__(self, width: float, n: int) -> None:
        self.width = width
        self.n = n
        self.buckets: deque[list[Any]] = deque()
        self.head = NEG_INF_BUCKET
        self.counts: dict[str, int] = {}

    def advance(self, ts: float) -> None:
        bid = int(ts // self.width)
        if bid > self.head:
            self.head = bid
        buckets = self.buckets
        low = self.head - self.n
        counts = self.counts
        while buckets and buckets[0][0] <= low:
            for value, c in buckets.popleft()[1].items():
                left = counts[value] - c
                if left:
                    counts[value] = left
                else:
                    del counts[value]

    def add(self, ts: float, value: str) -> bool:
        bid = int(ts // self.width)
        self.advance(ts)
        if bid <= self.head - self.n:
            return False
        buckets = self.buckets
        if buckets and buckets[-1][0] == bid:
            bucket = buckets[-1][1]
        elif not buckets or buckets[-1][0] < bid:
            bucket = {}
            buckets.append([bid, bucket])
        else:
            idx = len(buckets) - 1
            while idx >= 0 and buckets[idx][0] > bid:
                idx -= 1
            if idx >= 0 and buckets[idx][0] == bid:
                bucket = buckets[idx][1]
            else:
                bucket = {}
                buckets.insert(idx + 1, [bid, bucket])
        bucket[value] = bucket.get(value, 0) + 1
        self.counts[value] = self.counts.get(value, 0) + 1
        return True

    def dump(self) -> list[Any]:
        return [self.head, [[b[0], b[1]] for b in self.buckets]]

    def load(self, data: list[Any]) -> None:
        self.head = data[0]
        self.buckets = deque([b[0], dict(b[1])] for b in data[1])
        counts: dict[str, int] = {}
        for _, bucket in self.buckets:
            for value, c in bucket.items():
                counts[value] = counts.get(value, 0) + c
        self.counts = counts


class PyDelayedRing:
    """Counts and positives over a window that ends ``delay`` buckets before the watermark.

    Used for delayed-label entity risk: a terminal's fraud rate over ``(h - delay - n, h - delay]``,
    because labels only become known after the delay. Buckets move from ``pending`` to ``matured``
    once and leave ``matured`` once: O(1) amortised.
    """

    __slots__ = (
        "count",
        "delay",
        "head",
        "matured",
        "n",
        "pending",
        "positives",
        "width",
    )

    def __init__(self, width: float, n: int, delay: int) -> None:
        self.width = width
        self.n = n
        self.delay = delay
        self.pending: deque[list[Any]] = deque()
        self.matured: deque[list[Any]] = deque()
        self.head = NEG_INF_BUCKET
        self.count = 0
        self.positives = 0

    def advance(self, ts: float) -> None:
        bid = int(ts // self.width)
        if bid > self.head:
            self.head = bid
        ripe = self.head - self.delay
        pending, matured = self.pending, self.matured
        while pending and pending[0][0] <= ripe:
            b = pending.popleft()
            matured.append(b)
            self.count += b[1]
            self.positives += b[2]
        low = ripe - self.n
        while matured and matured[0][0] <= low:
            b = matured.popleft()
            self.count -= b[1]
            self.positives -= b[2]

    def add(self, ts: float, positive: int) -> bool:
        bid = int(ts // self.width)
        self.advance(ts)
        if bid <= self.head - self.delay - self.n:
            return False
        if bid <= self.head - self.delay:
            # Rare: a late event whose bucket has already matured.
            _insert_late(self.matured, bid, lambda: [bid, 0, 0], 1, positive)
            self.count += 1
            self.positives += positive
            return True
        pending = self.pending
        if pending and pending[-1][0] == bid:
            pending[-1][1] += 1
            pending[-1][2] += positive
        elif not pending or pending[-1][0] < bid:
            pending.append([bid, 1, positive])
        else:
            _insert_late(pending, bid, lambda: [bid, 0, 0], 1, positive)
        return True

    def dump(self) -> list[Any]:
        return [
            self.head,
            self.count,
            self.positives,
            [list(b) for b in self.pending],
            [list(b) for b in self.matured],
        ]

    def load(self, data: list[Any]) -> None:
        self.head, self.count, self.positives = data[0], data[1], data[2]
        self.pending = deque(list(b) for b in data[3])
        self.matured = deque(list(b) for b in data[4])


class PyMultiRing:
    """One ring feeding several aggregates (fused indicators): all-events count, and count, sum and
    sum of squares of the events that carry a value. ``add(ts, None)`` counts without a value."""

    __slots__ = ("buckets", "count", "head", "n", "nx", "sq", "total", "width")

    def __init__(self, width: float, n: int) -> None:
        self.width = width
        self.n = n
        self.buckets: deque[list[Any]] = deque()
        self.head = NEG_INF_BUCKET
        self.count = 0
        self.nx = 0
        self.total: float = 0
        self.sq: float = 0

    def advance(self, ts: float) -> None:
        bid = int(ts // self.width)
        if bid > self.head:
            self.head = bid
        buckets = self.buckets
        if buckets and buckets[0][0] <= self.head - self.n:
            low = self.head - self.n
            while buckets and buckets[0][0] <= low:
                _, c, cx, s, q = buckets.popleft()
                self.count -= c
                self.nx -= cx
                self.total -= s
                self.sq -= q
            if not buckets:
                self.count, self.nx, self.total, self.sq = 0, 0, 0, 0

    def add(self, ts: float, x: float | None) -> bool:
        bid = int(ts // self.width)
        if bid > self.head or (self.buckets and self.buckets[0][0] <= self.head - self.n):
            self.advance(ts)
        if bid <= self.head - self.n:
            return False
        buckets = self.buckets
        if buckets and buckets[-1][0] == bid:
            b = buckets[-1]
        elif not buckets or buckets[-1][0] < bid:
            b = [bid, 0, 0, 0, 0]
            buckets.append(b)
        else:
            idx = len(buckets) - 1
            while idx >= 0 and buckets[idx][0] > bid:
                idx -= 1
            if idx >= 0 and buckets[idx][0] == bid:
                b = buckets[idx]
            else:
                b = [bid, 0, 0, 0, 0]
                buckets.insert(idx + 1, b)
        b[1] += 1
        self.count += 1
        if x is not None:
            b[2] += 1
            b[3] += x
            b[4] += x * x
            self.nx += 1
            self.total += x
            self.sq += x * x
        return True

    def dump(self) -> list[Any]:
        return [
            self.head,
            self.count,
            self.nx,
            self.total,
            self.sq,
            [list(b) for b in self.buckets],
        ]

    def load(self, data: list[Any]) -> None:
        self.head, self.count, self.nx, self.total, self.sq = data[:5]
        self.buckets = deque(list(b) for b in data[5])


# The active implementation: the compiled kernel's rings when it is built (same API, same dumps —
# ``tests/unit/risk/test_native.py``), else the Python ones above, which stay the reference.
if TYPE_CHECKING:
    DistinctRing = PyDistinctRing
    SumRing = PySumRing
    MaxRing = PyMaxRing
    DelayedRing = PyDelayedRing
    MultiRing = PyMultiRing
elif kernel is not None:
    DistinctRing, SumRing, MaxRing, DelayedRing, MultiRing = (
        kernel.DistinctRing,
        kernel.SumRing,
        kernel.MaxRing,
        kernel.DelayedRing,
        kernel.MultiRing,
    )
else:
    DistinctRing, SumRing, MaxRing, DelayedRing, MultiRing = (
        PyDistinctRing,
        PySumRing,
        PyMaxRing,
        PyDelayedRing,
        PyMultiRing,
    )
