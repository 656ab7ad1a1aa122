"""The indicator registry: a declarative YAML file of named, documented indicators.

Each entry names the indicator, its kind, the entity it is keyed by, the event types it counts, the
window (``15m``, ``1h``, ``24h``, ``30d``), and a description in zh-CN and English. Loading
validates every entry and reports all problems at once as ``ValidationError`` naming
``indicators[i].<field>``. The shipped registry is ``xindai/risk/defaults/indicators.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from xindai.kernel import Finding, ValidationError, raise_if_errors
from xindai.risk.events import EventType
from xindai.risk.indicators import FIELDS, KEYS, KINDS, Indicator, IndicatorSpec

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
WINDOWED = {
    "count",
    "sum",
    "mean",
    "max",
    "distinct",
    "night_share",
    "changes",
    "zscore",
    "ratio_to_mean",
    "delayed_rate",
    "delayed_count",
}
STATELESS = {"value", "local_hour", "is_night", "is_weekend"}


def parse_duration(text: object, field: str) -> int:
    """``"90s" | "15m" | "24h" | "30d"`` → seconds; ``ValidationError`` otherwise."""
    match = _DURATION.match(str(text)) if isinstance(text, (str, int)) else None
    if match is None:
        raise ValidationError(field, f"{text!r} is not a duration like 15m, 24h or 30d")
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if seconds <= 0:
        raise ValidationError(field, "must be positive")
    return seconds


@dataclass(frozen=True, slots=True)
class Registry:
    """A validated, ordered set of indicators (order is the model's feature order)."""

    version: str
    indicators: tuple[Indicator, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.indicators)

    def get(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)


def _spec(i: int, raw: Any, findings: list[Finding]) -> IndicatorSpec | None:
    where = f"indicators[{i}]"
    if not isinstance(raw, Mapping):
        findings.append(Finding(where, "must be a mapping"))
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        findings.append(Finding(f"{where}.name", "must be snake_case letters, digits, _"))
        return None
    where = f"indicators[{i}] ({name})"
    kind = raw.get("kind")
    if kind not in KINDS:
        findings.append(Finding(f"{where}.kind", f"unknown kind {kind!r}; one of {KINDS}"))
        return None
    key = raw.get("key", "event" if kind in STATELESS else "subject")
    if key not in KEYS:
        findings.append(Finding(f"{where}.key", f"unknown key {key!r}; one of {KEYS}"))
        return None
    if (key == "event") != (kind in STATELESS):
        findings.append(Finding(f"{where}.key", "stateless kinds use key 'event', others not"))
        return None
    for lang in ("description_zh", "description_en"):
        if not isinstance(raw.get(lang), str) or not raw[lang].strip():
            findings.append(Finding(f"{where}.{lang}", "is required"))
    types_raw = raw.get("types")
    types: frozenset[EventType] | None = None
    if types_raw is not None:
        if not isinstance(types_raw, Sequence) or isinstance(types_raw, str) or not types_raw:
            findings.append(Finding(f"{where}.types", "must be a non-empty list"))
            return None
        try:
            types = frozenset(EventType(t) for t in types_raw)
        except ValueError as exc:
            findings.append(Finding(f"{where}.types", str(exc)))
            return None
    field = raw.get("field")
    if field is not None and field not in FIELDS and not str(field).startswith("attr:"):
        findings.append(Finding(f"{where}.field", f"unknown field {field!r}"))
        return None
    window_s = 0
    window_text = ""
    if kind in WINDOWED:
        try:
            window_s = parse_duration(raw.get("window"), f"{where}.window")
            window_text = str(raw.get("window"))
        except ValidationError as exc:
            findings.append(Finding(exc.field, exc.reason))
            return None
    buckets = raw.get("buckets", 60)
    if not isinstance(buckets, int) or isinstance(buckets, bool) or not 1 <= buckets <= 10_000:
        findings.append(Finding(f"{where}.buckets", "must be an integer in 1..10000"))
        return None
    delay_s = 0
    if kind in ("delayed_rate", "delayed_count"):
        try:
            delay_s = parse_duration(raw.get("delay"), f"{where}.delay")
        except ValidationError as exc:
            findings.append(Finding(exc.field, exc.reason))
            return None
        if window_s and delay_s % (window_s / buckets) != 0:
            findings.append(Finding(f"{where}.delay", "must be a whole number of buckets"))
            return None
    where_raw = raw.get("where")
    where_attr = where_value = None
    if where_raw is not None:
        if not isinstance(where_raw, Mapping) or len(where_raw) != 1:
            findings.append(Finding(f"{where}.where", "must be one {attribute: value} pair"))
            return None
        ((where_attr, where_value),) = where_raw.items()
    return IndicatorSpec(
        name=name,
        kind=kind,
        key=key,
        description_zh=str(raw.get("description_zh", "")),
        description_en=str(raw.get("description_en", "")),
        types=types,
        field=field,
        window_s=window_s,
        buckets=buckets,
        delay_s=delay_s,
        where_attr=where_attr,
        where_value=where_value,
        window_text=window_text,
    )


def build_registry(data: Any) -> Registry:
    """Validate a parsed registry document; raises ``ValidationError`` listing every problem."""
    if not isinstance(data, Mapping) or not isinstance(data.get("indicators"), list):
        raise ValidationError("indicators", "the registry must have an 'indicators' list")
    findings: list[Finding] = []
    specs: list[IndicatorSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["indicators"]):
        spec = _spec(i, raw, findings)
        if spec is None:
            continue
        if spec.name in seen:
            findings.append(Finding(f"indicators[{i}].name", f"duplicate name {spec.name!r}"))
        seen.add(spec.name)
        specs.append(spec)
    raise_if_errors(findings)
    return Registry(str(data.get("version", "0")), tuple(Indicator(s) for s in specs))


def load_registry(path: str | Path | None = None) -> Registry:
    """Load a registry file, or the shipped default when ``path`` is None."""
    if path is None:
        text = (
            resources.files("xindai.risk").joinpath("defaults/indicators.yaml").read_text("utf-8")
        )
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError("indicators", f"not valid YAML: {exc}") from None
    return build_registry(data)
