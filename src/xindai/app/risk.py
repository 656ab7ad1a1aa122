"""Risk use cases for the HTTP API: score an event, read a subject's level, browse decisions, work
cases, maintain black/white lists — over one in-process ``RiskEngine``.

Invariants:
* every call holds one lock: the engine's windows, levels and stores are mutated by one request at
  a time (FastAPI runs sync endpoints in a thread pool);
* bad input raises ``ValidationError`` naming the field *before* anything changes — an event the
  API refuses is not dead-lettered (the caller got the error) and does not touch any window;
* submitting an event twice returns the decision of the first submission (``decision_id`` is
  ``d-<event_id>``), so a retried POST is harmless.

The engine is configured from the environment: ``XINDAI_RISK_RULES`` (a rule file),
``XINDAI_RISK_INDICATORS`` (a registry file) and ``XINDAI_RISK_MODEL`` (a directory written by
``xindai risk train``); unset means the shipped registry and rules and no model.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xindai.kernel import NotFoundError, ValidationError
from xindai.risk.cases import AnalystAction, Case, CaseStatus, ListKind, Watchlists
from xindai.risk.decisions import Decision
from xindai.risk.engine import RiskEngine, Scorer
from xindai.risk.events import parse_event, parse_instant
from xindai.risk.model import GbmModel, RobustZAnomaly
from xindai.risk.ports import (
    BrowsableCases,
    BrowsableDecisions,
    CaseStore,
    DeadLetterStore,
    DecisionStore,
)
from xindai.risk.registry import load_registry
from xindai.risk.rules import load_ruleset

LEVEL_NAMES = {1: "L1", 2: "L2", 3: "L3", 4: "L4", 5: "L5"}


@dataclass(frozen=True, slots=True)
class SubjectLevel:
    subject: str
    level: int
    score: float
    as_of: float  # epoch seconds (the engine's watermark)


class RiskService:
    """Thread-safe facade over a ``RiskEngine`` (one process, one partition of subjects)."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    # --- events and decisions ---------------------------------------------------------------------
    def submit(self, raw: Mapping[str, Any]) -> tuple[Decision, bool]:
        """Score one raw event; returns ``(decision, created)`` (``False`` for a resubmission)."""
        event = parse_event(raw)  # ValidationError names the field; nothing changed yet
        with self._lock:
            engine = self.engine
            if event.event_id in engine.seen:
                return self._decision("d-" + event.event_id), False
            if event.ts < engine.watermark - engine.policy.lateness_s:
                raise ValidationError("occurred_at", "later than the allowed lateness")
            decision = engine.process(event)
            if decision is None:  # pragma: no cover - both refusals were checked above
                raise ValidationError("event_id", "was not processed")
            return decision, True

    def _decision(self, decision_id: str) -> Decision:
        try:
            return self.engine.decisions.get(decision_id)
        except NotFoundError:
            # Seen within the lateness horizon but its record is not kept (a count-only store).
            raise NotFoundError(f"decision {decision_id}") from None

    def decision(self, decision_id: str) -> Decision:
        with self._lock:
            return self._decision(decision_id)

    def decisions(
        self, subject: str | None = None, action: str | None = None, limit: int = 100
    ) -> list[Decision]:
        """Newest first, optionally one subject's and/or one action's."""
        with self._lock:
            store = self.engine.decisions
            if subject is None and isinstance(store, BrowsableDecisions):
                return store.recent(limit, action)
            if subject is None:  # pragma: no cover - every shipped store is browsable
                raise ValidationError("subject", "is required by this decision store")
            items = store.for_subject(subject)
        if action is not None:
            items = [d for d in items if d.action.value == action]
        return items[::-1][:limit]

    def level(self, subject: str) -> SubjectLevel:
        with self._lock:
            engine = self.engine
            at = engine.watermark if engine.watermark != float("-inf") else 0.0
            return SubjectLevel(
                subject, engine.level_of(subject, at), engine.score_of(subject, at), at
            )

    # --- cases ---------------------------------------------------------------------------------
    def cases(self, status: str | None = None) -> list[Case]:
        if status is not None and status not in {s.value for s in CaseStatus}:
            raise ValidationError("status", f"must be one of {[s.value for s in CaseStatus]}")
        with self._lock:
            store = self.engine.cases
            if isinstance(store, BrowsableCases):
                return store.with_status(status)
            items = store.open_cases()
        return [c for c in items if status is None or c.status.value == status]

    def act_on_case(
        self,
        case_id: str,
        action: str,
        analyst: str,
        at: str,
        note: str = "",
        list_kind: str | None = None,
        list_value: str | None = None,
    ) -> Case:
        try:
            analyst_action = AnalystAction(action)
        except ValueError:
            raise ValidationError(
                "action", f"must be one of {[a.value for a in AnalystAction]}"
            ) from None
        when = parse_instant(at, "at").isoformat()
        if analyst_action is AnalystAction.ADD_TO_LIST:
            _check_list(list_kind, list_value, "list_kind", "list_value")
        with self._lock:
            return self.engine.act_on_case(
                case_id, analyst_action, analyst, when, note, list_kind, list_value
            )

    # --- lists ---------------------------------------------------------------------------------
    def add_to_list(self, which: str, kind: str, value: str) -> None:
        black = _which(which)
        _check_list(kind, value, "kind", "value")
        with self._lock:
            self.engine.watchlists.add(kind, value, black=black)

    def remove_from_list(self, which: str, kind: str, value: str) -> bool:
        """Remove an entry; ``False`` when it was not listed."""
        black = _which(which)
        _check_list(kind, value, "kind", "value")
        with self._lock:
            lists = self.engine.watchlists.black if black else self.engine.watchlists.white
            present = value in lists[ListKind(kind)]
            self.engine.watchlists.remove(kind, value, black=black)
            return present

    def lists(self) -> dict[str, Any]:
        with self._lock:
            return self.engine.watchlists.dump()


def _which(which: str) -> bool:
    if which not in ("black", "white"):
        raise ValidationError("list", "must be 'black' or 'white'")
    return which == "black"


def _check_list(kind: str | None, value: str | None, kind_field: str, value_field: str) -> None:
    if kind not in {k.value for k in ListKind}:
        raise ValidationError(kind_field, f"must be one of {[k.value for k in ListKind]}")
    if value is None or not value.strip():
        raise ValidationError(value_field, "is required")
    if len(value) > 128:
        raise ValidationError(value_field, "is longer than 128 characters")


def build_risk_service(
    env: Mapping[str, str] | None = None,
    *,
    decisions: DecisionStore | None = None,
    cases: CaseStore | None = None,
    dead_letters: DeadLetterStore | None = None,
    watchlists: Watchlists | None = None,
) -> RiskService:
    """A service over the configured (or shipped) registry, rules and model; the stores default
    to in-memory ones (the platform passes its database's)."""
    env = os.environ if env is None else env
    indicators = env.get("XINDAI_RISK_INDICATORS") or None
    rules = env.get("XINDAI_RISK_RULES") or None
    model_dir = env.get("XINDAI_RISK_MODEL") or None
    registry = load_registry(indicators)
    ruleset = load_ruleset(rules, registry.names)
    model: Scorer | None = None
    anomaly: Scorer | None = None
    if model_dir is not None:
        folder = Path(model_dir)
        model = GbmModel.load(folder)
        if (folder / "anomaly.json").exists():
            raw = json.loads((folder / "anomaly.json").read_text(encoding="utf-8"))
            anomaly = RobustZAnomaly.from_json(raw)
    return RiskService(
        RiskEngine(
            registry,
            ruleset,
            model=model,
            anomaly=anomaly,
            decisions=decisions,
            cases=cases,
            dead_letters=dead_letters,
            watchlists=watchlists,
        )
    )
