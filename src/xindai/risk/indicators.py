"""Indicator kinds: windowed aggregates compiled from a declarative registry.

An ``Indicator`` is one named number per event (``address_changes_1h``, ``terminal_risk_7d``). It is
keyed by an entity (subject, device, ip, terminal) or by the event itself (``local_hour``). Each
stateful kind exposes two functions the engine calls through a per-event-type plan:

* ``update(state, event)``: the event is one the indicator counts — fold it in, return the value;
* ``read(state, event)``: another event type — advance the window to the event's time, return the
  value without counting the event.

Both are O(1) amortised (see ``xindai.risk.windows``). Values are floats; ``nan`` means unknown
(every comparison with ``nan`` is false, so a rule over an unknown value does not fire).
Amounts are kept in integer fen inside the state (exact sums) and read out in yuan.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xindai.risk.accel import kernel
from xindai.risk.events import Event, EventType
from xindai.risk.geo import haversine_km, local_hour, local_weekday
from xindai.risk.windows import DelayedRing, DistinctRing, MaxRing, MultiRing, SumRing

NAN = math.nan
KEYS = ("subject", "device", "ip", "terminal", "event")
KINDS = (
    "value",
    "local_hour",
    "is_night",
    "is_weekend",
    "count",
    "sum",
    "mean",
    "max",
    "distinct",
    "since_last",
    "night_share",
    "gps_speed",
    "gps_jump",
    "region_mismatch",
    "changes",
    "zscore",
    "ratio_to_mean",
    "delayed_rate",
    "delayed_count",
)
FIELDS = ("amount", "device_id", "ip", "subject", "terminal_id")

Observe = Callable[[Any, Event], float]


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One registry entry, validated. ``window_s``/``buckets``/``delay_s`` are 0 when unused."""

    name: str
    kind: str
    key: str
    description_zh: str
    description_en: str
    types: frozenset[EventType] | None = None
    field: str | None = None
    window_s: int = 0
    buckets: int = 60
    delay_s: int = 0
    where_attr: str | None = None
    where_value: str | int | float | bool | None = None
    window_text: str = ""


def _numeric(spec: IndicatorSpec) -> Callable[[Event], float | None]:
    """Extractor of the numeric field (amount in fen, or a numeric attribute)."""
    fld = spec.field or "amount"
    if fld == "amount":
        return lambda ev: ev.amount_fen
    if fld.startswith("attr:"):
        attr = fld[5:]

        def get_attr(ev: Event) -> float | None:
            value = ev.attributes.get(attr)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            return value

        return get_attr
    raise ValueError(f"field {fld!r} is not numeric")


def _categorical(spec: IndicatorSpec) -> Callable[[Event], str | None]:
    fld = spec.field or "device_id"
    if fld == "device_id":
        return lambda ev: ev.device_id
    if fld == "ip":
        return lambda ev: ev.ip
    if fld == "subject":
        return lambda ev: ev.subject
    if fld == "terminal_id":
        return lambda ev: ev.terminal_id
    raise ValueError(f"field {fld!r} is not categorical")


def _scale(spec: IndicatorSpec) -> float:
    """Amounts live in fen in the state and are read in yuan."""
    return 100.0 if (spec.field or "amount") == "amount" else 1.0


def scale_of(spec: IndicatorSpec) -> float:
    """The divisor from state units to read-out units (fen → yuan for amounts)."""
    return _scale(spec)


def categorical_attr(spec: IndicatorSpec) -> str:
    """The event attribute a categorical indicator reads (``_categorical``)."""
    fld = spec.field or "device_id"
    if fld not in ("device_id", "ip", "subject", "terminal_id"):
        raise ValueError(f"field {fld!r} is not categorical")
    return fld


def numeric_attr(spec: IndicatorSpec) -> str | None:
    """The attribute a numeric indicator reads, or ``None`` for the amount (``_numeric``)."""
    fld = spec.field or "amount"
    if fld == "amount":
        return None
    if fld.startswith("attr:"):
        return fld[5:]
    raise ValueError(f"field {fld!r} is not numeric")


class Indicator:
    """A compiled indicator: spec plus state factory, update/read functions and (de)serialisers."""

    def __init__(self, spec: IndicatorSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.new_state: Callable[[], Any]
        self.update: Observe
        self.read: Observe
        self.dump: Callable[[Any], Any] = lambda st: st.dump()
        self.load: Callable[[Any], Any]
        _COMPILERS[spec.kind](self, spec)
        if spec.where_attr is not None:
            self._filter(spec.where_attr, spec.where_value)
        if not hasattr(self, "load"):
            factory = self.new_state

            def load(data: Any) -> Any:
                state = factory()
                state.load(data)
                return state

            self.load = load

    def _filter(self, attr: str, expected: object) -> None:
        """Count only events whose attribute equals ``expected``; others just advance time."""
        update, read = self.update, self.read

        def filtered(state: Any, ev: Event) -> float:
            if ev.attributes.get(attr) == expected:
                return update(state, ev)
            return read(state, ev)

        self.update = filtered


def _width(spec: IndicatorSpec) -> float:
    return spec.window_s / spec.buckets


def _ring_sum(ind: Indicator, spec: IndicatorSpec, finish: Callable[[SumRing], float]) -> None:
    width, n = _width(spec), spec.buckets
    get = _numeric(spec) if spec.kind in ("sum", "mean") else None
    ind.new_state = lambda: SumRing(width, n)

    if get is None:

        def update(st: SumRing, ev: Event) -> float:
            st.add(ev.ts, 1)
            return finish(st)

    else:

        def update(st: SumRing, ev: Event) -> float:
            x = get(ev)
            if x is None:
                st.advance(ev.ts)
            else:
                st.add(ev.ts, x)
            return finish(st)

    def read(st: SumRing, ev: Event) -> float:
        st.advance(ev.ts)
        return finish(st)

    ind.update, ind.read = update, read


def _compile_count(ind: Indicator, spec: IndicatorSpec) -> None:
    _ring_sum(ind, spec, lambda st: float(st.count))


def _compile_sum(ind: Indicator, spec: IndicatorSpec) -> None:
    scale = _scale(spec)
    _ring_sum(ind, spec, lambda st: st.total / scale)


def _compile_mean(ind: Indicator, spec: IndicatorSpec) -> None:
    scale = _scale(spec)
    _ring_sum(ind, spec, lambda st: st.total / st.count / scale if st.count else 0.0)


def _compile_night_share(ind: Indicator, spec: IndicatorSpec) -> None:
    width, n = _width(spec), spec.buckets
    ind.new_state = lambda: SumRing(width, n)

    def update(st: SumRing, ev: Event) -> float:
        st.add(ev.ts, 1 if local_hour(ev.ts) < 6 else 0)
        return st.total / st.count if st.count else 0.0

    def read(st: SumRing, ev: Event) -> float:
        st.advance(ev.ts)
        return st.total / st.count if st.count else 0.0

    ind.update, ind.read = update, read


def _compile_max(ind: Indicator, spec: IndicatorSpec) -> None:
    width, n, get, scale = _width(spec), spec.buckets, _numeric(spec), _scale(spec)
    ind.new_state = lambda: MaxRing(width, n)

    def update(st: MaxRing, ev: Event) -> float:
        x = get(ev)
        if x is None:
            st.advance(ev.ts)
        else:
            st.add(ev.ts, x)
        return NAN if st.best is None else st.best / scale

    def read(st: MaxRing, ev: Event) -> float:
        st.advance(ev.ts)
        return NAN if st.best is None else st.best / scale

    ind.update, ind.read = update, read


def _compile_distinct(ind: Indicator, spec: IndicatorSpec) -> None:
    width, n, get = _width(spec), spec.buckets, _categorical(spec)
    ind.new_state = lambda: DistinctRing(width, n)

    def update(st: DistinctRing, ev: Event) -> float:
        value = get(ev)
        if value is None:
            st.advance(ev.ts)
        else:
            st.add(ev.ts, value)
        return float(len(st.counts))

    def read(st: DistinctRing, ev: Event) -> float:
        st.advance(ev.ts)
        return float(len(st.counts))

    ind.update, ind.read = update, read


class _Last:
    """A small mutable record for kinds that remember the previous observation."""

    __slots__ = ("a", "b", "c", "d")

    def __init__(self) -> None:
        self.a: Any = None
        self.b: Any = None
        self.c: Any = None
        self.d: Any = None

    def dump(self) -> list[Any]:
        return [self.a, self.b, self.c, self.d]

    def load(self, data: list[Any]) -> None:
        self.a, self.b, self.c, self.d = data


def _compile_since_last(ind: Indicator, spec: IndicatorSpec) -> None:
    ind.new_state = LastState

    def update(st: _Last, ev: Event) -> float:
        # The gap to the previous matching event, not to this one (which would always be 0).
        last = st.a
        value = NAN if last is None else max(0.0, ev.ts - last)
        if last is None or ev.ts > last:
            st.a = ev.ts
        return value

    def read(st: _Last, ev: Event) -> float:
        return NAN if st.a is None else max(0.0, ev.ts - st.a)

    ind.update, ind.read = update, read


def _compile_gps(ind: Indicator, spec: IndicatorSpec) -> None:
    speed = spec.kind == "gps_speed"
    ind.new_state = LastState  # a: ts, b: lat, c: lon, d: last hop value

    def update(st: _Last, ev: Event) -> float:
        if ev.lat is None or ev.lon is None:
            return NAN if st.d is None else float(st.d)
        if st.a is not None and ev.ts >= st.a:
            km = haversine_km(st.b, st.c, ev.lat, ev.lon)
            # A hop faster than one second is timed as one second: the clock resolution.
            hours = max(ev.ts - st.a, 1.0) / 3600.0
            st.d = km / hours if speed else km
        if st.a is None or ev.ts >= st.a:
            st.a, st.b, st.c = ev.ts, ev.lat, ev.lon
        return NAN if st.d is None else float(st.d)

    def read(st: _Last, ev: Event) -> float:
        return NAN if st.d is None else float(st.d)

    ind.update, ind.read = update, read


def _compile_region_mismatch(ind: Indicator, spec: IndicatorSpec) -> None:
    ind.new_state = LastState  # a: last GPS region, b: last IP region

    def update(st: _Last, ev: Event) -> float:
        attrs = ev.attributes
        gps_region = attrs.get("gps_region")
        ip_region = attrs.get("ip_region")
        if gps_region is not None:
            st.a = str(gps_region)
        if ip_region is not None:
            st.b = str(ip_region)
        return read(st, ev)

    def read(st: _Last, ev: Event) -> float:
        if st.a is None or st.b is None:
            return NAN
        return 1.0 if st.a != st.b else 0.0

    ind.update, ind.read = update, read


class _ChangeState:
    __slots__ = ("last", "ring")

    def __init__(self, width: float, n: int) -> None:
        self.last: str | None = None
        self.ring = SumRing(width, n)

    def dump(self) -> list[Any]:
        return [self.last, self.ring.dump()]

    def load(self, data: list[Any]) -> None:
        self.last = data[0]
        self.ring.load(data[1])


# The compiled kernel's state records when it is built (its operations need their own types).
if TYPE_CHECKING:
    LastState = _Last
    ChangeState = _ChangeState
elif kernel is not None:
    LastState, ChangeState = kernel.Last, kernel.ChangeState
else:
    LastState, ChangeState = _Last, _ChangeState


def _compile_changes(ind: Indicator, spec: IndicatorSpec) -> None:
    width, n, get = _width(spec), spec.buckets, _categorical(spec)
    ind.new_state = lambda: ChangeState(width, n)

    def update(st: _ChangeState, ev: Event) -> float:
        value = get(ev)
        if value is not None and value != st.last:
            if st.last is not None:
                st.ring.add(ev.ts, 1)
            st.last = value
        st.ring.advance(ev.ts)
        return float(st.ring.count)

    def read(st: _ChangeState, ev: Event) -> float:
        st.ring.advance(ev.ts)
        return float(st.ring.count)

    ind.update, ind.read = update, read


def _compile_history(ind: Indicator, spec: IndicatorSpec) -> None:
    """``zscore`` and ``ratio_to_mean``: the event's value against the key's own window history."""
    width, n, get = _width(spec), spec.buckets, _numeric(spec)
    zscore = spec.kind == "zscore"
    ind.new_state = lambda: SumRing(width, n)

    def compare(st: SumRing, x: float) -> float:
        count = st.count
        if count == 0:
            return NAN
        mean = st.total / count
        if not zscore:
            return x / mean if mean else NAN
        if count < 2:
            return NAN
        var = max(0.0, st.sq / count - mean * mean)
        return (x - mean) / math.sqrt(var) if var > 0 else 0.0

    def update(st: SumRing, ev: Event) -> float:
        x = get(ev)
        st.advance(ev.ts)
        if x is None:
            return NAN
        value = compare(st, x)  # history before this event
        st.add(ev.ts, x)
        return value

    def read(st: SumRing, ev: Event) -> float:
        x = get(ev)
        st.advance(ev.ts)
        return NAN if x is None else compare(st, x)

    ind.update, ind.read = update, read


def _compile_delayed(ind: Indicator, spec: IndicatorSpec) -> None:
    width, n = _width(spec), spec.buckets
    delay = round(spec.delay_s / width)
    rate = spec.kind == "delayed_rate"
    ind.new_state = lambda: DelayedRing(width, n, delay)

    def value(st: DelayedRing) -> float:
        if rate:
            return st.positives / st.count if st.count else 0.0
        return float(st.count)

    def update(st: DelayedRing, ev: Event) -> float:
        st.add(ev.ts, 1 if ev.label else 0)
        return value(st)

    def read(st: DelayedRing, ev: Event) -> float:
        st.advance(ev.ts)
        return value(st)

    ind.update, ind.read = update, read


def _compile_stateless(ind: Indicator, spec: IndicatorSpec) -> None:
    kind = spec.kind
    fn: Callable[[Event], float]
    if kind == "local_hour":

        def fn(ev: Event) -> float:
            return float(local_hour(ev.ts))

    elif kind == "is_night":

        def fn(ev: Event) -> float:
            return 1.0 if local_hour(ev.ts) < 6 else 0.0

    elif kind == "is_weekend":

        def fn(ev: Event) -> float:
            return 1.0 if local_weekday(ev.ts) >= 5 else 0.0

    else:  # value
        get, scale = _numeric(spec), _scale(spec)

        def fn(ev: Event) -> float:
            x = get(ev)
            return NAN if x is None else x / scale

    ind.new_state = lambda: None
    ind.dump = lambda st: None
    ind.load = lambda data: None
    ind.update = lambda st, ev: fn(ev)
    ind.read = ind.update if kind != "value" else (lambda st, ev: NAN)


_COMPILERS: dict[str, Callable[[Indicator, IndicatorSpec], None]] = {
    "value": _compile_stateless,
    "local_hour": _compile_stateless,
    "is_night": _compile_stateless,
    "is_weekend": _compile_stateless,
    "count": _compile_count,
    "sum": _compile_sum,
    "mean": _compile_mean,
    "max": _compile_max,
    "distinct": _compile_distinct,
    "since_last": _compile_since_last,
    "night_share": _compile_night_share,
    "gps_speed": _compile_gps,
    "gps_jump": _compile_gps,
    "region_mismatch": _compile_region_mismatch,
    "changes": _compile_changes,
    "zscore": _compile_history,
    "ratio_to_mean": _compile_history,
    "delayed_rate": _compile_delayed,
    "delayed_count": _compile_delayed,
}


# --- fusion -------------------------------------------------------------------------------------

FUSABLE = frozenset({"count", "sum", "mean", "zscore", "ratio_to_mean"})


def _signature(spec: IndicatorSpec) -> tuple[Any, ...]:
    return (spec.key, spec.types, spec.where_attr, spec.where_value, spec.window_s, spec.buckets)


class FusedRing:
    """Several ring indicators over the same key, event types, filter and window, sharing one
    ``MultiRing``: one ring update per event instead of one per indicator (same values)."""

    def __init__(self, specs: list[IndicatorSpec]) -> None:
        self.specs = tuple(specs)
        self.names = tuple(s.name for s in specs)
        first = specs[0]
        self.types = first.types
        width, n = first.window_s / first.buckets, first.buckets
        numeric = [s for s in specs if s.kind != "count"]
        get = _numeric(numeric[0]) if numeric else (lambda ev: None)
        scale = _scale(numeric[0]) if numeric else 1.0
        pre: list[tuple[str, Callable[[MultiRing, float], float]]] = []
        post: list[tuple[str, Callable[[MultiRing], float]]] = []
        for spec in specs:
            if spec.kind == "count":
                post.append((spec.name, lambda st: float(st.count)))
            elif spec.kind == "sum":
                post.append((spec.name, lambda st: st.total / scale))
            elif spec.kind == "mean":
                post.append((spec.name, lambda st: st.total / st.nx / scale if st.nx else 0.0))
            else:
                pre.append((spec.name, _history_fn(spec.kind == "zscore")))
        self.new_state: Callable[[], MultiRing] = lambda: MultiRing(width, n)
        pre_t, post_t = tuple(pre), tuple(post)

        def update(st: MultiRing, ev: Event, values: dict[str, float]) -> None:
            x = get(ev)
            if pre_t:
                st.advance(ev.ts)
                for name, fn in pre_t:
                    values[name] = NAN if x is None else fn(st, x)  # history before this event
            st.add(ev.ts, x)
            for name, fn2 in post_t:
                values[name] = fn2(st)

        def read(st: MultiRing, ev: Event, values: dict[str, float]) -> None:
            x = get(ev)
            st.advance(ev.ts)
            for name, fn in pre_t:
                values[name] = NAN if x is None else fn(st, x)
            for name, fn2 in post_t:
                values[name] = fn2(st)

        self.update: Callable[[MultiRing, Event, dict[str, float]], None] = update
        self.read: Callable[[MultiRing, Event, dict[str, float]], None] = read
        if first.where_attr is not None:
            attr, expected = first.where_attr, first.where_value

            def filtered(st: MultiRing, ev: Event, values: dict[str, float]) -> None:
                (update if ev.attributes.get(attr) == expected else read)(st, ev, values)

            self.update = filtered

    def dump(self, state: MultiRing) -> Any:
        return state.dump()

    def load(self, data: Any) -> MultiRing:
        state = self.new_state()
        state.load(data)
        return state


def _history_fn(zscore: bool) -> Callable[[MultiRing, float], float]:
    def compare(st: MultiRing, x: float) -> float:
        count = st.nx
        if count == 0:
            return NAN
        mean = st.total / count
        if not zscore:
            return x / mean if mean else NAN
        if count < 2:
            return NAN
        var = max(0.0, st.sq / count - mean * mean)
        return (x - mean) / math.sqrt(var) if var > 0 else 0.0

    return compare


class FusedDelayed:
    """``delayed_count`` / ``delayed_rate`` indicators over the same key, types, filter, window and
    delay share one ``DelayedRing`` (same interface as ``FusedRing``; same values)."""

    def __init__(self, specs: list[IndicatorSpec]) -> None:
        self.specs = tuple(specs)
        self.names = tuple(s.name for s in specs)
        first = specs[0]
        self.types = first.types
        width, n = first.window_s / first.buckets, first.buckets
        delay = round(first.delay_s / width)
        self.new_state: Callable[[], DelayedRing] = lambda: DelayedRing(width, n, delay)
        outs = tuple((s.name, s.kind == "delayed_rate") for s in specs)

        def read(st: DelayedRing, ev: Event, values: dict[str, float]) -> None:
            st.advance(ev.ts)
            count = st.count
            for name, rate in outs:
                if rate:
                    values[name] = st.positives / count if count else 0.0
                else:
                    values[name] = float(count)

        def update(st: DelayedRing, ev: Event, values: dict[str, float]) -> None:
            st.add(ev.ts, 1 if ev.label else 0)
            read(st, ev, values)

        self.read: Callable[[DelayedRing, Event, dict[str, float]], None] = read
        self.update: Callable[[DelayedRing, Event, dict[str, float]], None] = update
        if first.where_attr is not None:
            attr, expected = first.where_attr, first.where_value

            def filtered(st: DelayedRing, ev: Event, values: dict[str, float]) -> None:
                (update if ev.attributes.get(attr) == expected else read)(st, ev, values)

            self.update = filtered

    def dump(self, state: DelayedRing) -> Any:
        return state.dump()

    def load(self, data: Any) -> DelayedRing:
        state = self.new_state()
        state.load(data)
        return state


DELAYED = frozenset({"delayed_rate", "delayed_count"})


def _delayed_signature(spec: IndicatorSpec) -> tuple[Any, ...]:
    return (*_signature(spec), spec.delay_s)


def fuse(indicators: list[Indicator]) -> list[Indicator | FusedRing | FusedDelayed]:
    """Group fusable indicators with equal signatures (and the same numeric field) into rings;
    delayed-label indicators with equal signatures and delay share one delayed ring."""
    groups: dict[tuple[Any, ...], list[IndicatorSpec]] = {}
    out: list[Indicator | FusedRing | FusedDelayed] = []
    order: list[tuple[Any, ...]] = []
    delayed: dict[tuple[Any, ...], list[Indicator]] = {}
    for ind in indicators:
        if ind.spec.kind in DELAYED:
            delayed.setdefault(_delayed_signature(ind.spec), []).append(ind)
    for ind in indicators:
        spec = ind.spec
        if spec.kind in DELAYED:
            same = delayed.pop(_delayed_signature(spec), None)
            if same is None:
                continue  # already placed with the first member of its group
            out.append(ind if len(same) == 1 else FusedDelayed([m.spec for m in same]))
            continue
        if spec.kind not in FUSABLE:
            out.append(ind)
            continue
        field_sig = None if spec.kind == "count" else (spec.field or "amount")
        sig = _signature(spec)
        placed = False
        for key in order:
            if key[0] == sig and (field_sig is None or key[1] in (None, field_sig)):
                members = groups[key]
                if field_sig is not None and key[1] is None:
                    groups.pop(key)
                    new_key = (sig, field_sig, key[2])
                    groups[new_key] = members
                    order[order.index(key)] = new_key
                    key = new_key
                members.append(spec)
                placed = True
                break
        if not placed:
            key = (sig, field_sig, len(order))
            groups[key] = [spec]
            order.append(key)
    out.extend(FusedRing(groups[k]) for k in order)
    return out
