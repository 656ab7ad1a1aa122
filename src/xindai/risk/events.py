"""Risk events: the validated schema every signal enters the engine through.

Invariants:
* ``occurred_at`` is an aware UTC ``datetime``; ``ts`` is the same instant as epoch seconds (a float
  is fine here: it is a time, not money) and is what windows use.
* ``amount_fen`` is integer fen parsed with ``xindai.money.parse_yuan`` (never a float).
* ``parse_event`` either returns a valid ``Event`` or raises ``ValidationError(field, reason)``; it
  never returns a half-valid event. The engine turns that error into a dead-letter entry.
* ``parse_event`` has a fast path for plain, well-formed dicts (what ``json.loads`` gives a worker):
  it accepts only inputs whose every field is obviously valid and builds exactly the event the
  checked path would; anything else (a bad or merely unusual field) falls through to the checked
  path, which alone raises, so errors and dead-letter reasons are those of the checked path.
* ``new_event`` is the one cheap way to build an ``Event`` (slots filled on a mutable twin of the
  same layout, whose class is then switched): ~4× cheaper than the frozen dataclass ``__init__``,
  same immutable result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from xindai.kernel import ValidationError
from xindai.money import parse_yuan

AttrValue = str | int | float | bool
_EMPTY: Mapping[str, AttrValue] = MappingProxyType({})


class EventType(StrEnum):
    """The behavioural signals the engine understands."""

    LOGIN = "login"
    DEVICE_BOUND = "device_bound"
    ADDRESS_CHANGED = "address_changed"
    GPS_REPORTED = "gps_reported"
    APP_SESSION = "app_session"
    CONTACT_CHANGED = "contact_changed"
    APPLICATION_SUBMITTED = "application_submitted"
    ORDER_PLACED = "order_placed"
    REPAYMENT_MADE = "repayment_made"
    TRANSACTION = "transaction"


_TYPES = {t.value: t for t in EventType}


@dataclass(frozen=True, slots=True)
class Event:
    """One behavioural event about a subject (a user).

    ``label`` is the delayed ground truth (1 fraud, 0 genuine) when a replayed file carries it; the
    engine only ever uses labels through delayed-label indicators, which read windows that end at
    least the configured delay in the past.
    """

    event_id: str
    subject: str
    type: EventType
    occurred_at: datetime
    ts: float
    device_id: str | None = None
    ip: str | None = None
    lat: float | None = None
    lon: float | None = None
    amount_fen: int | None = None
    terminal_id: str | None = None
    attributes: Mapping[str, AttrValue] = field(default_factory=lambda: _EMPTY)
    label: int | None = None


class _EventBuilder:
    """A mutable twin of ``Event`` with the same slots in the same order (so the instance layout is
    identical): its plain attribute stores are what make ``new_event`` cheap. Never escapes this
    module: ``new_event`` switches the instance's class to ``Event`` before returning it."""

    __slots__ = Event.__slots__

    def __init__(
        self,
        event_id: str,
        subject: str,
        type: EventType,
        occurred_at: datetime,
        ts: float,
        device_id: str | None,
        ip: str | None,
        lat: float | None,
        lon: float | None,
        amount_fen: int | None,
        terminal_id: str | None,
        attributes: Mapping[str, AttrValue],
        label: int | None,
    ) -> None:
        self.event_id = event_id
        self.subject = subject
        self.type = type
        self.occurred_at = occurred_at
        self.ts = ts
        self.device_id = device_id
        self.ip = ip
        self.lat = lat
        self.lon = lon
        self.amount_fen = amount_fen
        self.terminal_id = terminal_id
        self.attributes = attributes
        self.label = label


def new_event(
    event_id: str,
    subject: str,
    type: EventType,
    occurred_at: datetime,
    ts: float,
    device_id: str | None = None,
    ip: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    amount_fen: int | None = None,
    terminal_id: str | None = None,
    attributes: Mapping[str, AttrValue] = _EMPTY,
    label: int | None = None,
) -> Event:
    """``Event(...)`` without the frozen dataclass ``__init__`` (one ``object.__setattr__`` per
    field): the same fields, no validation (that is ``parse_event``'s job), an equal, frozen
    ``Event``."""
    built: Any = _EventBuilder(
        event_id,
        subject,
        type,
        occurred_at,
        ts,
        device_id,
        ip,
        lat,
        lon,
        amount_fen,
        terminal_id,
        attributes,
        label,
    )
    built.__class__ = Event
    event: Event = built
    return event


_KNOWN_FIELDS = frozenset(
    {
        "event_id",
        "subject",
        "type",
        "occurred_at",
        "device_id",
        "ip",
        "lat",
        "lon",
        "amount",
        "terminal_id",
        "attributes",
        "label",
    }
)


def _req_str(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None or value == "":
        raise ValidationError(name, "is required")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(name, f"must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise ValidationError(name, "is required")
    if len(text) > 128:
        raise ValidationError(name, "is longer than 128 characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (JSON allows ``"\\ud800"``): such a key could not be stored.
            raise ValidationError(name, "is not valid Unicode (lone surrogate)") from None
    return text


def _opt_str(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    return _req_str(raw, name)


def _opt_coord(raw: Mapping[str, Any], name: str, limit: float) -> float | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(name, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(name, f"{value!r} is not a number") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise ValidationError(name, f"must be within ±{limit:g}")
    return number


def parse_instant(value: object, name: str = "occurred_at") -> datetime:
    """Parse an ISO-8601 instant that carries a zone (or an aware datetime) into aware UTC.

    A timestamp without a zone is refused: guessing the zone is how 3 a.m. becomes 11 a.m.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(name, f"{value!r} is not an ISO-8601 timestamp") from None
    else:
        raise ValidationError(name, "must be an ISO-8601 timestamp string")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(name, "timestamp has no zone (add Z or +08:00)")
    return moment.astimezone(UTC)


def _attributes(value: object) -> Mapping[str, AttrValue]:
    if value is None or value == "":
        return _EMPTY
    if not isinstance(value, Mapping):
        raise ValidationError("attributes", "must be an object")
    clean: dict[str, AttrValue] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValidationError("attributes", "keys must be strings")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValidationError(f"attributes.{key}", "must be finite")
        if not isinstance(item, (str, int, float, bool)):
            raise ValidationError(f"attributes.{key}", "must be a string, number or boolean")
        clean[key] = item
    return MappingProxyType(clean)


def _label(value: object) -> int | None:
    if value is None or value == "":
        return None
    if value in (0, 1, "0", "1", True, False):
        return int(value in (1, "1", True))
    raise ValidationError("label", "must be 0 or 1")


def parse_event(raw: Mapping[str, Any]) -> Event:
    """Validate a raw mapping (from JSON, CSV or a stream entry) into an ``Event``.

    Requires ``event_id``, ``subject``, ``type`` (one of ``EventType``) and ``occurred_at`` with a
    zone. ``amount`` is a yuan decimal string or integer (floats refused). Unknown top-level fields
    are refused so that a typo is not silently ignored.
    """
    if type(raw) is dict and raw.keys() <= _KNOWN_FIELDS:
        event = _parse_fast(raw)
        if event is not None:
            return event
    return _parse_checked(raw)


_SCALAR_TYPES = (str, int, bool)
_fromisoformat = datetime.fromisoformat


def _fast_str(value: object) -> str | None:
    """The stripped text of a plain ASCII ``str`` of 1..128 characters after stripping, else
    ``None`` (``None`` here means: let the checked path decide)."""
    if type(value) is str:
        text = value.strip()
        if text and len(text) <= 128 and text.isascii():
            return text
    return None


def _fast_coord(value: object, limit: float) -> float | None:
    """A plain float or int within ``±limit`` (so finite), else ``None`` (let the checked path
    decide, including for an absent value)."""
    if type(value) is float:
        if -limit <= value <= limit:  # False for NaN and ±inf
            return value
    elif type(value) is int and -limit <= value <= limit:
        return float(value)
    return None


def _parse_fast(raw: dict[str, Any]) -> Event | None:
    """The common case of ``parse_event`` in straight-line code: a plain dict whose fields are all
    of the usual types and valid. Returns ``None`` at the first field it does not accept as plainly
    valid (the checked path then parses it again and raises the precise error, or accepts an
    unusual but valid form). Every value it returns equals what ``_parse_checked`` returns
    (``tests/unit/risk/test_events.py`` checks that on generated inputs)."""
    get = raw.get
    # ``_fast_str`` inlined for the two required ids.
    event_id = get("event_id")
    if type(event_id) is not str:
        return None
    event_id = event_id.strip()
    subject = get("subject")
    if type(subject) is not str:
        return None
    subject = subject.strip()
    if not (
        event_id
        and subject
        and len(event_id) <= 128
        and len(subject) <= 128
        and event_id.isascii()
        and subject.isascii()
    ):
        return None
    type_name = get("type")
    event_type = _TYPES.get(type_name) if type(type_name) is str else None
    if event_type is None:
        return None
    when = get("occurred_at")
    if type(when) is not str:
        return None
    if len(when) == 20 and when[19] == "Z" and when[10] == "T":
        # ``YYYY-MM-DDTHH:MM:SSZ`` (what ``event_to_dict`` writes): ``fromisoformat`` reads the
        # ``Z`` as UTC itself, the same instant the checked path gets via ``+00:00``.
        try:
            occurred_at = _fromisoformat(when)
        except ValueError:
            return None
    else:
        try:
            occurred_at = parse_instant(when)
        except ValidationError:
            return None
    amount = get("amount")
    amount_fen: int | None
    if amount is None:
        amount_fen = None
    elif type(amount) is str:
        whole, dot, cents = amount.partition(".")
        # Up to 18 digits: exact in the checked path's Decimal context too (28 digits).
        if not (len(whole) <= 18 and whole.isascii() and whole.isdigit()):
            return None
        if dot:
            if not (0 < len(cents) <= 2 and cents.isascii() and cents.isdigit()):
                return None
            amount_fen = int(whole) * 100 + int(cents) * (10 if len(cents) == 1 else 1)
        else:
            amount_fen = int(whole) * 100
    elif type(amount) is int and amount >= 0:
        amount_fen = amount * 100
    else:
        return None
    lat_raw, lon_raw = get("lat"), get("lon")
    if lat_raw is None and lon_raw is None:
        lat = lon = None
    else:
        lat = _fast_coord(lat_raw, 90.0)
        lon = _fast_coord(lon_raw, 180.0)
        if lat is None or lon is None:
            return None
    device_id = get("device_id")
    if device_id is not None and (device_id := _fast_str(device_id)) is None:
        return None
    ip = get("ip")
    if ip is not None and (ip := _fast_str(ip)) is None:
        return None
    terminal_id = get("terminal_id")
    if terminal_id is not None and (terminal_id := _fast_str(terminal_id)) is None:
        return None
    value = get("attributes")
    attributes: Mapping[str, AttrValue]
    if value is None:
        attributes = _EMPTY
    elif type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return None
            kind = type(item)
            if kind is float:
                if not math.isfinite(item):
                    return None
            elif kind not in _SCALAR_TYPES:
                return None
        attributes = MappingProxyType(dict(value))
    else:
        return None
    label = get("label")
    if label is not None and (type(label) is not int or (label != 0 and label != 1)):
        return None
    return new_event(
        event_id,
        subject,
        event_type,
        occurred_at,
        occurred_at.timestamp(),
        device_id,
        ip,
        lat,
        lon,
        amount_fen,
        terminal_id,
        attributes,
        label,
    )


def _parse_checked(raw: Mapping[str, Any]) -> Event:
    """``parse_event`` field by field with every check and error message (any mapping)."""
    if not isinstance(raw, Mapping):
        raise ValidationError("event", "must be an object")
    unknown = sorted(k for k in raw if k not in _KNOWN_FIELDS)
    if unknown:
        raise ValidationError(unknown[0], "is not a field of the event schema")
    event_id = _req_str(raw, "event_id")
    subject = _req_str(raw, "subject")
    type_name = raw.get("type")
    event_type = _TYPES.get(type_name) if isinstance(type_name, str) else None
    if event_type is None:
        raise ValidationError("type", f"unknown event type {type_name!r}")
    occurred_at = parse_instant(raw.get("occurred_at"))
    amount = raw.get("amount")
    amount_fen = None if amount is None or amount == "" else parse_yuan(amount, "amount")
    if amount_fen is not None and amount_fen < 0:
        raise ValidationError("amount", "must not be negative")
    lat = _opt_coord(raw, "lat", 90.0)
    lon = _opt_coord(raw, "lon", 180.0)
    if (lat is None) != (lon is None):
        raise ValidationError("lat" if lat is None else "lon", "lat and lon come together")
    return new_event(
        event_id,
        subject,
        event_type,
        occurred_at,
        occurred_at.timestamp(),
        _opt_str(raw, "device_id"),
        _opt_str(raw, "ip"),
        lat,
        lon,
        amount_fen,
        _opt_str(raw, "terminal_id"),
        _attributes(raw.get("attributes")),
        _label(raw.get("label")),
    )


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event; ``parse_event(event_to_dict(e)) == e`` (round trip)."""
    out: dict[str, Any] = {
        "event_id": event.event_id,
        "subject": event.subject,
        "type": event.type.value,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
    }
    if event.device_id is not None:
        out["device_id"] = event.device_id
    if event.ip is not None:
        out["ip"] = event.ip
    if event.lat is not None and event.lon is not None:
        out["lat"] = event.lat
        out["lon"] = event.lon
    if event.amount_fen is not None:
        out["amount"] = f"{event.amount_fen // 100}.{event.amount_fen % 100:02d}"
    if event.terminal_id is not None:
        out["terminal_id"] = event.terminal_id
    if event.attributes:
        out["attributes"] = dict(event.attributes)
    if event.label is not None:
        out["label"] = event.label
    return out
