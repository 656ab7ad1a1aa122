"""Replaying event files: column mapping, the replay/backtest loop and its report.

An event file is JSON lines in the event schema, or CSV/JSONL in any shape plus a small mapping
(YAML) naming the column for each event field, constants (``type: transaction``) and the zone of
naive timestamps. Files may be gzip-compressed (``.gz``). Every row goes through ``parse_event``;
malformed rows are dead-lettered by the engine and counted, never fatal.

The report gives counts per action, throughput, p50/p99 per-event decision latency and, where the
events carry labels, per-rule hits, precision and recall (shadow rules included; that is what
shadow mode is for) — the backtest.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import yaml

from xindai.kernel import ValidationError
from xindai.risk.engine import RiskEngine
from xindai.risk.events import EventType

EVENT_FIELDS = (
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
    "label",
)


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """How to turn a row of a foreign file into a raw event mapping."""

    columns: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    prefixes: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None
    format: str | None = None
    round_amounts: bool = False

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ColumnMapping:
        columns = dict(raw.get("columns") or {})
        for name in columns:
            if name not in EVENT_FIELDS:
                raise ValidationError(f"columns.{name}", "is not an event field")
        constants = dict(raw.get("constants") or {})
        if "type" in constants and constants["type"] not in {t.value for t in EventType}:
            raise ValidationError("constants.type", f"unknown event type {constants['type']!r}")
        tz = raw.get("timezone")
        if tz is not None:
            try:
                ZoneInfo(str(tz))
            except (KeyError, ValueError):
                raise ValidationError("timezone", f"unknown zone {tz!r}") from None
        fmt = raw.get("format")
        if fmt not in (None, "csv", "jsonl"):
            raise ValidationError("format", "must be csv or jsonl")
        return cls(
            columns=columns,
            constants=constants,
            attributes=dict(raw.get("attributes") or {}),
            prefixes=dict(raw.get("prefixes") or {}),
            timezone=None if tz is None else str(tz),
            format=fmt,
            round_amounts=bool(raw.get("round_amounts", False)),
        )

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, Mapping):
            raise ValidationError("mapping", "must be a YAML mapping")
        return cls.from_mapping(data)

    def apply(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One foreign row → a raw event mapping (still to be validated by ``parse_event``)."""
        if not self.columns and not self.constants:
            return dict(row)
        out: dict[str, Any] = dict(self.constants)
        for target, source in self.columns.items():
            value = row.get(source)
            if value is not None and value != "":
                prefix = self.prefixes.get(target)
                out[target] = f"{prefix}{value}" if prefix else value
        if self.attributes:
            attrs = {}
            for name, source in self.attributes.items():
                value = row.get(source)
                if value is not None and value != "":
                    attrs[name] = _number_or_text(value)
            if attrs:
                out["attributes"] = attrs
        if self.round_amounts and isinstance(out.get("amount"), str):
            out["amount"] = _round_yuan(out["amount"])
        when = out.get("occurred_at")
        if self.timezone is not None and isinstance(when, str):
            out["occurred_at"] = _localise(when, self.timezone)
        return out


def _round_yuan(text: str) -> str:
    """Round a yuan string half-even to fen (for sources written through binary floats, e.g.
    ``85.64999999999999``); text that is not a number is left for ``parse_event`` to refuse."""
    try:
        return str(Decimal(text.strip()).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
    except InvalidOperation:
        return text


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


_ZONES: dict[str, ZoneInfo] = {}


def _localise(text: str, tz: str) -> Any:
    """Attach the configured zone to a naive timestamp; aware ones pass through unchanged."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text  # parse_event reports it
    if moment.tzinfo is not None:
        return moment
    zone = _ZONES.get(tz) or _ZONES.setdefault(tz, ZoneInfo(tz))
    return moment.replace(tzinfo=zone)


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_rows(path: str | Path, mapping: ColumnMapping | None = None) -> Iterator[Any]:
    """Yield raw event mappings from a CSV or JSONL file (gzip allowed).

    A JSONL line that is not valid JSON is yielded as ``{"_invalid": line}`` so that the engine
    dead-letters it with its text.
    """
    file = Path(path)
    mapping = mapping or ColumnMapping()
    name = file.name[:-3] if file.name.endswith(".gz") else file.name
    fmt = mapping.format or ("csv" if name.endswith(".csv") else "jsonl")
    with _open_text(file) as fh:
        if fmt == "csv":
            for row in csv.DictReader(fh):
                yield mapping.apply(row)
        else:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    yield {"_invalid": line}
                    continue
                yield mapping.apply(obj) if isinstance(obj, Mapping) else {"_invalid": line}


@dataclass
class RuleStats:
    hits: int = 0
    true_positives: int = 0
    shadow: bool = False


@dataclass
class ReplayReport:
    """What a replay or backtest measured."""

    events: int = 0
    decisions: int = 0
    dead_letters: int = 0
    duplicates: int = 0
    too_late: int = 0
    rule_errors: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies_us: list[float] = field(default_factory=list)
    rules: dict[str, RuleStats] = field(default_factory=dict)
    labelled: int = 0
    positives: int = 0
    flagged_true: int = 0
    flagged: int = 0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def percentile_us(self, q: float) -> float:
        if not self.latencies_us:
            return 0.0
        ordered = sorted(self.latencies_us)
        index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
        return ordered[index]

    def to_json(self) -> dict[str, Any]:
        rules = {}
        for rule_id, st in sorted(self.rules.items()):
            entry: dict[str, Any] = {"hits": st.hits, "shadow": st.shadow}
            if self.labelled:
                entry["precision"] = round(st.true_positives / st.hits, 4) if st.hits else None
                entry["recall"] = (
                    round(st.true_positives / self.positives, 4) if self.positives else None
                )
            rules[rule_id] = entry
        out: dict[str, Any] = {
            "events": self.events,
            "decisions": self.decisions,
            "dead_letters": self.dead_letters,
            "duplicates": self.duplicates,
            "too_late": self.too_late,
            "rule_errors": self.rule_errors,
            "actions": self.actions,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "latency_p50_us": round(self.percentile_us(50), 1),
            "latency_p99_us": round(self.percentile_us(99), 1),
            "rules": rules,
        }
        if self.labelled:
            out["labelled"] = self.labelled
            out["positives"] = self.positives
            out["flagged_precision"] = (
                round(self.flagged_true / self.flagged, 4) if self.flagged else None
            )
            out["flagged_recall"] = (
                round(self.flagged_true / self.positives, 4) if self.positives else None
            )
        return out


def replay(engine: RiskEngine, rows: Iterable[Mapping[str, Any]], source: str = "") -> ReplayReport:
    """Run every row through the engine and collect the report (incl. backtest statistics)."""
    report = ReplayReport()
    rules = report.rules
    for rule in engine.ruleset.rules:
        rules[rule.rule_id] = RuleStats(shadow=rule.shadow)
    latencies = report.latencies_us
    started = time.perf_counter()
    for row in rows:
        report.events += 1
        decision = engine.process_raw(row, source)
        if decision is None:
            continue
        latencies.append(decision.latency_us)
        label = decision.label
        if label is not None:
            report.labelled += 1
            report.positives += label
            if decision.action.value != "allow":
                report.flagged += 1
                report.flagged_true += label
        for hit in decision.hits:
            st = rules[hit.rule_id]
            st.hits += 1
            st.true_positives += label or 0
        for hit in decision.shadow_hits:
            st = rules[hit.rule_id]
            st.hits += 1
            st.true_positives += label or 0
    report.seconds = time.perf_counter() - started
    stats = engine.stats
    report.decisions = stats.processed
    report.dead_letters = stats.dead_letters
    report.duplicates = stats.duplicates
    report.too_late = stats.too_late
    report.rule_errors = stats.rule_errors
    report.actions = dict(stats.actions)
    return report
