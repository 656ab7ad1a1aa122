"""Incremental windows against a slow reference that rescans the history (the cross-check)."""

from hypothesis import given
from hypothesis import strategies as st

from xindai.risk.windows import DelayedRing, DistinctRing, MaxRing, SumRing

WIDTH, N = 10.0, 6

# Mostly increasing times with occasional late events (up to 25 s back).
steps = st.lists(
    st.tuples(st.integers(min_value=-25, max_value=40), st.integers(0, 9), st.integers(0, 1)),
    min_size=1,
    max_size=80,
)


def timeline(raw: list[tuple[int, int, int]]) -> list[tuple[float, int, int]]:
    out, now = [], 1000.0
    for delta, value, flag in raw:
        now = now + delta if delta >= 0 else now
        ts = now + delta if delta < 0 else now
        out.append((ts, value, flag))
    return out


def accepted(history: list[tuple[float, int, int]], head: int, ts: float) -> bool:
    return int(ts // WIDTH) > head - N


@given(steps)
def test_sum_ring_matches_rescan(raw: list[tuple[int, int, int]]) -> None:
    ring = SumRing(WIDTH, N)
    kept: list[tuple[int, int]] = []
    head = -(10**9)
    for ts, value, _ in timeline(raw):
        head = max(head, int(ts // WIDTH))
        ok = ring.add(ts, value)
        assert ok == (int(ts // WIDTH) > head - N)
        if ok:
            kept.append((int(ts // WIDTH), value))
        live = [v for b, v in kept if b > head - N]
        assert ring.count == len(live)
        assert ring.total == sum(live)
        assert ring.sq == sum(v * v for v in live)


@given(steps)
def test_max_and_distinct_match_rescan(raw: list[tuple[int, int, int]]) -> None:
    mx, dc = MaxRing(WIDTH, N), DistinctRing(WIDTH, N)
    kept: list[tuple[int, int]] = []
    head = -(10**9)
    for ts, value, _ in timeline(raw):
        head = max(head, int(ts // WIDTH))
        ok = mx.add(ts, value)
        assert dc.add(ts, str(value)) == ok
        if ok:
            kept.append((int(ts // WIDTH), value))
        live = [v for b, v in kept if b > head - N]
        assert mx.best == (max(live) if live else None)
        assert len(dc.counts) == len(set(live))


@given(steps)
def test_delayed_ring_matches_rescan(raw: list[tuple[int, int, int]]) -> None:
    delay = 3
    ring = DelayedRing(WIDTH, N, delay)
    kept: list[tuple[int, int]] = []
    head = -(10**9)
    for ts, _, flag in timeline(raw):
        head = max(head, int(ts // WIDTH))
        if ring.add(ts, flag):
            kept.append((int(ts // WIDTH), flag))
        window = [f for b, f in kept if head - delay - N < b <= head - delay]
        assert ring.count == len(window)
        assert ring.positives == sum(window)


@given(steps)
def test_dump_load_round_trip(raw: list[tuple[int, int, int]]) -> None:
    rings = [SumRing(WIDTH, N), MaxRing(WIDTH, N), DistinctRing(WIDTH, N), DelayedRing(WIDTH, N, 2)]
    events = timeline(raw)
    half = len(events) // 2
    for ts, value, flag in events[:half]:
        rings[0].add(ts, value)
        rings[1].add(ts, value)
        rings[2].add(ts, str(value))
        rings[3].add(ts, flag)
    copies = [
        SumRing(WIDTH, N),
        MaxRing(WIDTH, N),
        DistinctRing(WIDTH, N),
        DelayedRing(WIDTH, N, 2),
    ]
    for original, copy in zip(rings, copies, strict=True):
        copy.load(original.dump())
    for ts, value, flag in events[half:]:
        for ring_set in (rings, copies):
            ring_set[0].add(ts, value)
            ring_set[1].add(ts, value)
            ring_set[2].add(ts, str(value))
            ring_set[3].add(ts, flag)
    for original, copy in zip(rings, copies, strict=True):
        assert original.dump() == copy.dump()


def test_idle_key_expires_everything() -> None:
    ring = SumRing(60.0, 60)
    for i in range(100):
        ring.add(i * 1.0, 2)
    ring.advance(10_000.0)
    assert (ring.count, ring.total, ring.dump()[-1]) == (0, 0, [])


@given(steps)
def test_multi_ring_matches_rescan(raw: list[tuple[int, int, int]]) -> None:
    from xindai.risk.windows import MultiRing

    ring = MultiRing(WIDTH, N)
    kept: list[tuple[int, int | None]] = []
    head = -(10**9)
    for ts, value, flag in timeline(raw):
        head = max(head, int(ts // WIDTH))
        x = value if flag else None
        if ring.add(ts, x):
            kept.append((int(ts // WIDTH), x))
        live = [v for b, v in kept if b > head - N]
        values = [v for v in live if v is not None]
        assert (ring.count, ring.nx, ring.total) == (len(live), len(values), sum(values))
    copy = MultiRing(WIDTH, N)
    copy.load(ring.dump())
    assert copy.dump() == ring.dump()
