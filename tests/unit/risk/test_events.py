from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.kernel import ValidationError
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
