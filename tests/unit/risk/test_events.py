from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.kernel import ValidationError
from xindai.risk import events as events_module
from xindai.risk.events import EventType, event_to_dict, parse_event

BASE = {
    "event_id": "e1",
    "subject": "u1",
    "type": "login",
    "occurred_at": "2025-03-02T03:00:00+08:00",
}


def test_parses_to_aware_utc() -> None:
    ev = parse_event({**BASE, "amount": "12.34", "lat": 31.2, "lon": 121.5})
    assert ev.occurred_at == datetime(2025, 3, 1, 19, 0, tzinfo=UTC)
    assert ev.amount_fen == 1234
    assert ev.type is EventType.LOGIN


@pytest.mark.parametrize(
    ("patch", "field", "fragment"),
    [
        ({"occurred_at": "2025-03-02T03:00:00"}, "occurred_at", "no zone"),
        ({"occurred_at": "yesterday"}, "occurred_at", "ISO-8601"),
        ({"type": "teleported"}, "type", "unknown event type"),
        ({"subject": ""}, "subject", "required"),
        ({"amount": 1.5}, "amount", "float"),
        ({"amount": "1.001"}, "amount", "two decimals"),
        ({"amount": "-1"}, "amount", "negative"),
        ({"lat": 95, "lon": 1}, "lat", "±90"),
        ({"lat": 10}, "lon", "together"),
        ({"colour": "red"}, "colour", "not a field"),
        ({"attributes": {"x": [1]}}, "attributes.x", "string, number or boolean"),
        ({"label": 2}, "label", "0 or 1"),
        ({"subject": "u\udc00"}, "subject", "lone surrogate"),
        ({"device_id": "\ud800"}, "device_id", "lone surrogate"),
    ],
)
def test_bad_input_names_field_and_reason(patch: dict, field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event({**BASE, **patch})
    assert info.value.field == field
    assert fragment in info.value.reason


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    lat=st.floats(min_value=-90, max_value=90),
    lon=st.floats(min_value=-180, max_value=180),
    seconds=st.integers(min_value=0, max_value=10**9),
    kind=st.sampled_from(list(EventType)),
)
def test_round_trip(amount: int, lat: float, lon: float, seconds: int, kind: EventType) -> None:
    moment = datetime.fromtimestamp(1_600_000_000 + seconds, UTC)
    raw = {
        "event_id": "x",
        "subject": "s",
        "type": kind.value,
        "occurred_at": moment.isoformat(),
        "amount": f"{amount // 100}.{amount % 100:02d}",
        "lat": lat,
        "lon": lon,
        "attributes": {"on_time": True},
        "label": 1,
    }
    ev = parse_event(raw)
    assert parse_event(event_to_dict(ev)) == ev
    assert ev.amount_fen == amount


# --- the fast path of parse_event ----------------------------------------------------------------
# ``parse_event`` tries a straight-line path for plain, well-formed dicts and falls back to the
# checked path for anything else. The fast path must never accept what the checked path refuses,
# never build a different event, and never change an error.

_STRS = st.one_of(
    st.text(max_size=5),
    st.sampled_from(["", " ", "u1", " u1 ", "x" * 128, "x" * 129, " " + "x" * 128, "\u00e9"]),
    st.sampled_from(["\ud800", "u\udc00", "\u5f20\u4e09", "\u00a0u1\u00a0"]),
    st.integers(min_value=-3, max_value=3),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
)
_INSTANTS = st.one_of(
    st.sampled_from(
        [
            "2025-03-02T03:00:00Z",
            "2025-03-02T03:00:00z",
            "2025-03-02T03:00:00+08:00",
            "2025-03-02T03:00:00.250000Z",
            "2025-03-02T03:00:00",
            "2025-13-02T03:00:00Z",
            "2025-03-02 03:00:00Z",
            "2025-03-02T03:00:60Z",
            " 2025-03-02T03:00:00Z",
            "2025-03-02T03:00:00ZZ",
            "yesterday",
            "",
        ]
    ),
    st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.datetimes(timezones=st.just(UTC)),
    st.integers(),
    st.none(),
)
_AMOUNTS = st.one_of(
    st.sampled_from(
        ["12.34", "12.3", "12", "0", "0.00", "12.", ".5", "-1", "1.001", "1_000", " 5", "\u0665"]
    ),
    st.sampled_from(["1" * 18 + ".99", "9" * 19, "1" * 30 + ".10", "1e3", "NaN", "", "12.30"]),
    st.integers(min_value=-5, max_value=10**20),
    st.decimals(allow_nan=True).map(str),
    st.floats(),
    st.booleans(),
    st.none(),
)
_COORDS = st.one_of(
    st.floats(),
    st.integers(min_value=-200, max_value=200),
    st.booleans(),
    st.sampled_from(["31.2", "", "x"]),
    st.none(),
)
_ATTRS = st.one_of(
    st.none(),
    st.just(""),
    st.lists(st.integers()),
    st.dictionaries(
        st.one_of(st.text(max_size=3), st.integers()),
        st.one_of(st.text(max_size=3), st.integers(), st.floats(), st.booleans(), st.none()),
        max_size=3,
    ),
)
_LABELS = st.one_of(
    st.sampled_from([0, 1, 2, -1, "0", "1", "2", True, False, 0.0, 1.0, 0.5, "", None])
)
_FIELDS = {
    "event_id": _STRS,
    "subject": _STRS,
    "type": st.one_of(st.sampled_from([t.value for t in EventType]), _STRS),
    "occurred_at": _INSTANTS,
    "amount": _AMOUNTS,
    "lat": _COORDS,
    "lon": _COORDS,
    "device_id": _STRS,
    "ip": _STRS,
    "terminal_id": _STRS,
    "attributes": _ATTRS,
    "label": _LABELS,
    "colour": st.just("red"),
}


@st.composite
def _raw_events(draw: st.DrawFn) -> dict[str, object]:
    # Mostly valid events with one or two fields drawn from the hostile strategies above.
    raw: dict[str, object] = {
        "event_id": "e1",
        "subject": "u1",
        "type": draw(st.sampled_from([t.value for t in EventType])),
        "occurred_at": "2025-03-02T03:00:00Z",
    }
    if draw(st.booleans()):
        raw |= {"amount": "12.34", "terminal_id": "t1", "label": 0}
    if draw(st.booleans()):
        raw |= {"lat": 31.2, "lon": 121.5, "device_id": "d1", "ip": "10.0.0.1"}
    if draw(st.booleans()):
        raw["attributes"] = {"duration_s": 20, "on_time": True}
    for name in draw(st.lists(st.sampled_from(sorted(_FIELDS)), max_size=3)):
        if draw(st.integers(0, 4)) == 0:
            raw.pop(name, None)
        else:
            raw[name] = draw(_FIELDS[name])
    return raw


@settings(max_examples=1500, deadline=None)
@given(raw=_raw_events())
def test_the_fast_path_agrees_with_the_checked_path(raw: dict[str, object]) -> None:
    from xindai.risk.events import _parse_checked, _parse_fast

    try:
        expected = _parse_checked(raw)
    except ValidationError as exc:
        # Refused by the checked path: the fast path declines, and parse_event raises the same.
        if raw.keys() <= events_module._KNOWN_FIELDS:
            assert _parse_fast(raw) is None
        with pytest.raises(ValidationError) as info:
            parse_event(raw)
        assert (info.value.field, info.value.reason) == (exc.field, exc.reason)
        return
    got = parse_event(raw)
    assert got == expected
    assert repr(got) == repr(expected)  # same tzinfo, same float signs, same attribute mapping
    assert type(got.attributes) is type(expected.attributes)


def test_the_fast_path_takes_the_common_forms() -> None:
    # Not a silent fallback: the well-formed shapes a producer writes are taken by the fast path.
    from xindai.risk.events import _parse_fast

    full = {
        **BASE,
        "occurred_at": "2025-03-01T19:00:00Z",
        "amount": "12.3",
        "lat": 31.2,
        "lon": 121,
        "device_id": "d1",
        "ip": "10.0.0.1",
        "terminal_id": " t1 ",
        "attributes": {"duration_s": 20, "on_time": True, "score": 0.5, "app": "x"},
        "label": 1,
    }
    for raw in (BASE, full, {**BASE, "amount": 5}, {**full, "occurred_at": BASE["occurred_at"]}):
        fast = _parse_fast(dict(raw))
        assert fast is not None
        assert fast == parse_event(dict(raw))
    fast = _parse_fast(full)
    assert fast is not None
    assert (fast.amount_fen, fast.lon, fast.terminal_id) == (1230, 121.0, "t1")


def test_events_are_immutable_whichever_way_they_were_built() -> None:
    from dataclasses import FrozenInstanceError, replace

    from xindai.risk.events import Event, new_event

    fast = parse_event({**BASE, "amount": "1.00"})
    slow = Event(
        event_id="e1",
        subject="u1",
        type=EventType.LOGIN,
        occurred_at=datetime(2025, 3, 1, 19, 0, tzinfo=UTC),
        ts=datetime(2025, 3, 1, 19, 0, tzinfo=UTC).timestamp(),
        amount_fen=100,
    )
    assert type(fast) is Event
    assert fast == slow
    built = new_event(
        slow.event_id, slow.subject, slow.type, slow.occurred_at, slow.ts, amount_fen=100
    )
    assert built == slow
    assert type(built) is Event
    for event in (fast, built, slow):
        with pytest.raises(FrozenInstanceError):
            event.subject = "someone else"  # type: ignore[misc]
        with pytest.raises(FrozenInstanceError):
            del event.ts  # type: ignore[misc]
        # No new attributes either (slots; CPython 3.11's frozen-slots dataclass raises TypeError
        # from its generated ``__setattr__`` here, for an event built by ``Event(...)`` as well).
        with pytest.raises((AttributeError, TypeError)):
            event.extra = 1  # type: ignore[attr-defined]
        assert replace(event, subject="u2").subject == "u2"
