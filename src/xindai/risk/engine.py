"""The real-time risk engine: event → indicators → model → rules → level → decision (→ case).

``RiskEngine.process(event)`` runs the whole path for one event and returns its ``Decision`` (or
``None`` for a duplicate or a too-late event). ``process_raw`` validates a raw mapping first and
dead-letters it on any ``ValidationError``: bad input never raises out of the engine.

Invariants:
* exactly-once windows: an ``event_id`` seen within the lateness horizon is ignored, and an event
  older than ``watermark - lateness`` is dead-lettered, so the dedup set only needs the ids inside
  the horizon (bounded memory) and no event is counted twice;
* per-event work is O(number of indicators + rules for its type), each indicator O(1) amortised;
* the state (windows, levels, dedup set, watermark) round-trips through ``dump_state`` /
  ``load_state`` as plain JSON (checkpoints; no pickle) and ``dirty_keys`` lists what changed
  since the last checkpoint so it can be written incrementally.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from xindai.kernel import ValidationError
from xindai.risk.accel import kernel
from xindai.risk.cases import AnalystAction, Case, Watchlists
from xindai.risk.codegen import RulesFn, compile_rules, compile_source, identifier
from xindai.risk.decisions import Decision, RuleHit, new_decision
from xindai.risk.events import Event, EventType, parse_event
from xindai.risk.indicators import NAN, FusedDelayed, FusedRing, Indicator, fuse
from xindai.risk.level import LevelPolicy, LevelState, apply_evidence, decayed
from xindai.risk.native import build_plan
from xindai.risk.ports import (
    CaseStore,
    DeadLetter,
    DeadLetterStore,
    DecisionStore,
    InMemoryCases,
    InMemoryDeadLetters,
    InMemoryDecisions,
)
from xindai.risk.registry import Registry
from xindai.risk.rules import Action, Rule, RuleSet

KEY_GETTERS: dict[str, Callable[[Event], str | None]] = {
    "subject": lambda ev: ev.subject,
    "device": lambda ev: ev.device_id,
    "ip": lambda ev: ev.ip,
    "terminal": lambda ev: ev.terminal_id,
    "event": lambda ev: "",
}
_REPAYMENT = EventType.REPAYMENT_MADE


def _kernel() -> Any:
    """The compiled kernel (only called when ``RiskEngine.native`` is true, i.e. it is built)."""
    return kernel


# The event attribute that holds each key kind (the "event" kind has none).
_KEY_ATTRS = {"subject": "subject", "device": "device_id", "ip": "ip", "terminal": "terminal_id"}


@contextmanager
def streaming_gc() -> Iterator[None]:
    """Keep CPython's cyclic garbage collector out of the hot loop of a replay or worker process.

    The engine's state is millions of small, long-lived, acyclic containers (window buckets);
    automatic collections re-walk them (on the handbook stream, with raised thresholds, 15 passes
    still cost 16 % of the wall time and one gen-1 pass took ~5 s). Inside the block automatic
    collection is off and what exists is frozen; a long-running loop calls ``collect_young()`` at
    its checkpoints, which frees any cycles made since (rare: an exception with its traceback)
    and freezes the survivors, so each object is examined once. On exit collection is back on and
    frozen objects are collectable again. Process-wide, so only entry points (CLI replay, the Redis
    worker, benchmarks) use it — never the engine itself.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def collect_young() -> None:
    """Inside ``streaming_gc``: collect what was allocated since the last call, freeze the rest.
    Outside it (automatic collection on) this does nothing."""
    if not gc.isenabled():
        gc.collect(0)
        gc.freeze()


class Scorer(Protocol):
    """A model next to the rules: maps indicator values to a score in [0, 1]."""

    def score(self, values: Mapping[str, float]) -> float: ...


@dataclass(frozen=True, slots=True)
class EnginePolicy:
    """Tunables of the decision path."""

    level: LevelPolicy = field(default_factory=LevelPolicy)
    lateness_s: float = 3600.0
    model_weight: float = 30.0
    anomaly_weight: float = 0.0
    open_cases: bool = True
    confirm_fraud_points: float = 60.0


@dataclass(slots=True)
class EngineStats:
    processed: int = 0
    duplicates: int = 0
    too_late: int = 0
    dead_letters: int = 0
    rule_errors: int = 0
    actions: dict[str, int] = field(default_factory=lambda: {a.value: 0 for a in Action})


# (slot index, indicator name, update-or-read function, counts this type?, value of an empty state)
_Step = tuple[int, str, Callable[[Any, Event], float], bool, float]
_FusedStep = tuple[
    int, Callable[[Any, Event, dict[str, float]], None], bool, tuple[tuple[str, float], ...]
]
_PROBE = Event("probe", "probe", EventType.LOGIN, datetime(2000, 1, 1, tzinfo=UTC), 946684800.0)


@dataclass(slots=True)
class _Group:
    kind: str
    getter: Callable[[Event], str | None]
    table: dict[str, list[Any]]
    factories: tuple[Callable[[], Any], ...]
    steps: tuple[_Step, ...]
    fused: tuple[_FusedStep, ...]
    names: tuple[str, ...]


class RiskEngine:
    """Stateful engine for one partition of subjects."""

    def __init__(
        self,
        registry: Registry,
        ruleset: RuleSet,
        *,
        policy: EnginePolicy | None = None,
        model: Scorer | None = None,
        anomaly: Scorer | None = None,
        decisions: DecisionStore | None = None,
        cases: CaseStore | None = None,
        dead_letters: DeadLetterStore | None = None,
        watchlists: Watchlists | None = None,
        track_dirty: bool = False,
        clock: Callable[[], float] = time.perf_counter,
        compiled: bool = True,
        native: bool = True,
    ) -> None:
        self.registry = registry
        self.ruleset = ruleset
        self.policy = policy or EnginePolicy()
        self.model = model
        self.anomaly = anomaly
        self.decisions: DecisionStore = decisions if decisions is not None else InMemoryDecisions()
        self.cases: CaseStore = cases if cases is not None else InMemoryCases()
        self.dead_letters: DeadLetterStore = (
            dead_letters if dead_letters is not None else InMemoryDeadLetters()
        )
        self.watchlists = watchlists or Watchlists()
        self.stats = EngineStats()
        self.watermark = -math.inf
        self.seen: dict[str, float] = {}
        # Eviction order of ``seen`` (a deque: deleting from the front of a dict makes
        # ``next(iter(dict))`` skip tombstones, which turns eviction quadratic).
        self._seen_order: deque[tuple[float, str]] = deque()
        self.levels: dict[str, LevelState] = {}
        self.tables: dict[str, dict[str, list[Any]]] = {k: {} for k in KEY_GETTERS}
        self.track_dirty = track_dirty
        self.dirty: set[tuple[str, str]] = set()
        self._clock = clock
        self._ops: dict[str, list[Indicator | FusedRing | FusedDelayed]] = {}
        self._template: dict[str, float] = dict.fromkeys(
            [*(i.name for i in registry.indicators), "model_score", "anomaly_score", "risk_level"],
            NAN,
        )
        self._plans = {t: self._plan(t) for t in EventType}
        # Per event type: (condition, rule id, active hit, shadow hit, shadow?, severity), with the
        # hit records built once here rather than per firing.
        self._rules = {
            t: tuple(
                (
                    r.condition.fn,
                    r.rule_id,
                    _hit(r, False),
                    _hit(r, True),
                    r.shadow,
                    r.action.severity,
                )
                for r in ruleset.for_type(t)
            )
            for t in EventType
        }
        # The compiled path (default): per event type ONE generated function for the indicator
        # plan and ONE for the rule set (``xindai.risk.codegen``). ``compiled=False`` keeps the
        # interpretive path, the reference the compiled one is cross-checked against.
        self.compiled = compiled
        self._ind_fns: dict[EventType, Callable[[Event, dict[str, float], Any], None]] = {}
        self._rule_fns: dict[EventType, RulesFn] = {}
        # With the compiled window kernel built (``xindai.risk.accel``), the indicator plans run
        # in it; ``native=False`` keeps the generated Python plans (the cross-check reference).
        self.native = compiled and native and kernel is not None
        if compiled:
            for t in EventType:
                self._ind_fns[t] = self._native_plan(t) if self.native else self._compile_plan(t)
                trees = [r.condition.tree for r in ruleset.for_type(t)]
                if any(tree is None for tree in trees):
                    raise ValueError("compiled=True needs rule conditions with their parse trees")
                self._rule_fns[t] = compile_rules([tr for tr in trees if tr is not None])

    # --- compilation --------------------------------------------------------------------------
    def _kind_ops(self, kind: str) -> list[Indicator | FusedRing | FusedDelayed]:
        """The state slots of one key kind: plain indicators and fused rings, in a fixed order."""
        ops = self._ops.get(kind)
        if ops is None:
            ops = self._ops[kind] = fuse(
                [i for i in self.registry.indicators if i.spec.key == kind]
            )
        return ops

    def _plan(self, event_type: EventType) -> tuple[_Group, ...]:
        groups = []
        for kind, getter in KEY_GETTERS.items():
            ops = self._kind_ops(kind)
            if not ops:
                continue
            steps: list[_Step] = []
            fused: list[_FusedStep] = []
            names: list[str] = []
            for idx, op in enumerate(ops):
                types = op.spec.types if isinstance(op, Indicator) else op.types
                counts = types is None or event_type in types or kind == "event"
                if isinstance(op, Indicator):
                    names.append(op.name)
                    # A state is created on the first event it counts; until then a read returns
                    # what an empty state would (0 for counts, NaN for "unknown"), without a call.
                    empty = op.read(op.new_state(), _PROBE) if kind != "event" else NAN
                    steps.append((idx, op.name, op.update if counts else op.read, counts, empty))
                else:
                    names.extend(op.names)
                    probe: dict[str, float] = {}
                    read_any: Any = op.read  # FusedRing or FusedDelayed, with their own states
                    read_any(op.new_state(), _PROBE, probe)
                    fn = op.update if counts else op.read
                    fused.append((idx, fn, counts, tuple(probe.items())))
            groups.append(
                _Group(
                    kind,
                    getter,
                    self.tables[kind],
                    tuple(op.new_state for op in ops),
                    tuple(steps),
                    tuple(fused),
                    tuple(names),
                )
            )
        return tuple(groups)

    def _native_plan(self, event_type: EventType) -> Callable[[Event, dict[str, float], Any], None]:
        """The plan of ``event_type`` in the compiled kernel (same steps, same order)."""
        return build_plan(
            [
                (g.kind, _KEY_ATTRS.get(g.kind), g.table, g.steps, g.fused, g.names)
                for g in self._plans[event_type]
            ],
            self._kind_ops,
        )

    def _compile_plan(
        self, event_type: EventType
    ) -> Callable[[Event, dict[str, float], Any], None]:
        """The plan of ``event_type`` as one straight-line function ``(event, values, dirty)``:
        the same steps, in the same order, as the loop in ``indicators`` (no per-step tuple
        unpacking, no loop, no getter calls). Only internal identifiers and identifier-checked
        indicator names appear in the source; the step functions live in its namespace."""
        ns: dict[str, Any] = {"NAN": NAN}
        lines = ["def _plan(ev, values, dirty):"]
        attr = _KEY_ATTRS
        for g, group in enumerate(self._plans[event_type]):
            if group.kind == "event":
                for idx, name, fn, _counts, _empty in group.steps:
                    ns[f"U{g}_{idx}"] = fn
                    lines.append(f"    values[{identifier(name)}] = U{g}_{idx}(None, ev)")
                for idx, ffn, _counts, _empties in group.fused:
                    ns[f"U{g}_{idx}"] = ffn
                    lines.append(f"    U{g}_{idx}(None, ev, values)")
                continue
            ns[f"T{g}"] = group.table
            ns[f"K{g}"] = group.kind
            lines.append(f"    key = ev.{attr[group.kind]}")
            lines.append("    if key is None:")
            ns[f"NANS{g}"] = dict.fromkeys(group.names, NAN)
            lines.append(f"        values.update(NANS{g})")
            lines.append("    else:")
            lines.append(f"        slots = T{g}.get(key)")
            lines.append("        if slots is None:")
            lines.append(f"            slots = T{g}[key] = [None] * {len(group.factories)}")
            lines.append("        if dirty is not None:")
            lines.append(f"            dirty.add((K{g}, key))")
            for idx, name, fn, counts, empty in group.steps:
                ns[f"U{g}_{idx}"] = fn
                ns[f"F{g}_{idx}"] = group.factories[idx]
                ns[f"E{g}_{idx}"] = empty
                lines.append(f"        st = slots[{idx}]")
                if counts:
                    lines.append("        if st is None:")
                    lines.append(f"            st = slots[{idx}] = F{g}_{idx}()")
                    lines.append(f"        values[{identifier(name)}] = U{g}_{idx}(st, ev)")
                else:
                    lines.append(
                        f"        values[{identifier(name)}] = "
                        f"E{g}_{idx} if st is None else U{g}_{idx}(st, ev)"
                    )
            for idx, ffn, counts, empties in group.fused:
                ns[f"U{g}_{idx}"] = ffn
                ns[f"F{g}_{idx}"] = group.factories[idx]
                ns[f"E{g}_{idx}"] = dict(empties)
                lines.append(f"        st = slots[{idx}]")
                if counts:
                    lines.append("        if st is None:")
                    lines.append(f"            st = slots[{idx}] = F{g}_{idx}()")
                    lines.append(f"        U{g}_{idx}(st, ev, values)")
                else:
                    lines.append("        if st is None:")
                    lines.append(f"            values.update(E{g}_{idx})")
                    lines.append("        else:")
                    lines.append(f"            U{g}_{idx}(st, ev, values)")
        lines.append("    return None")
        plan: Callable[[Event, dict[str, float], Any], None] = compile_source(
            "_plan", "\n".join(lines) + "\n", ns
        )
        return plan

    # --- the decision path --------------------------------------------------------------------
    def indicators(self, event: Event) -> dict[str, float]:
        """Fold ``event`` into every window and return all indicator values (no dedup check)."""
        # A copy of the presized template: no rehashing as ~50 values go in, and one key order
        # (registry order) for every decision whatever the plan or the missing keys.
        values = self._template.copy()
        if self.compiled:
            self._ind_fns[event.type](event, values, self.dirty if self.track_dirty else None)
            return values
        dirty = self.dirty if self.track_dirty else None
        for group in self._plans[event.type]:
            key = group.getter(event)
            if key is None:
                for name in group.names:
                    values[name] = NAN
                continue
            slots = group.table.get(key)
            if slots is None:
                slots = group.table[key] = [None] * len(group.factories)
            if dirty is not None and group.kind != "event":
                dirty.add((group.kind, key))
            factories = group.factories
            for idx, name, fn, counts, empty in group.steps:
                state = slots[idx]
                if state is None:
                    if not counts:
                        values[name] = empty
                        continue
                    state = slots[idx] = factories[idx]()
                values[name] = fn(state, event)
            for idx, ffn, counts, empties in group.fused:
                state = slots[idx]
                if state is None:
                    if not counts:
                        values.update(empties)
                        continue
                    state = slots[idx] = factories[idx]()
                ffn(state, event, values)
        return values

    def admit(self, event: Event) -> bool:
        """Dedup and lateness gate; records the id. False means: do not process."""
        if self.native:
            return bool(_kernel().admit(self, event))
        if event.event_id in self.seen:
            self.stats.duplicates += 1
            return False
        horizon = self.watermark - self.policy.lateness_s
        if event.ts < horizon:
            self.stats.too_late += 1
            self._dead(event.event_id, "occurred_at", "later than the allowed lateness", "late")
            return False
        self.seen[event.event_id] = event.ts
        order = self._seen_order
        order.append((event.ts, event.event_id))
        if event.ts > self.watermark:
            self.watermark = event.ts
            cutoff = event.ts - self.policy.lateness_s
            # Arrival order approximates time order; stale ids leave from the front.
            while order and order[0][0] < cutoff:
                self.seen.pop(order.popleft()[1], None)
        if self.track_dirty:
            self.dirty.add(("meta", ""))
        return True

    def process(self, event: Event, model_score: float | None = None) -> Decision | None:
        """Score one event. ``model_score`` may be supplied by a batched caller."""
        if self.native:
            # The same path compiled (``xindai.risk._kernel.process``): admit, plan, decide.
            decision: Decision | None = _kernel().process(self, event, model_score)
            return decision
        start = self._clock()
        if not self.admit(event):
            return None
        values = self.indicators(event)
        return self.decide(event, values, start, model_score)

    def decide(
        self,
        event: Event,
        values: dict[str, float],
        start: float,
        model_score: float | None = None,
        anomaly_score: float | None = None,
    ) -> Decision:
        """Model, rules, level and decision for an admitted event whose indicators are known
        (``model_score`` / ``anomaly_score`` may come from a batched caller).

        With the kernel built (``native``) the compiled twin ``_kernel.decide`` runs instead; this
        Python body is the reference both are tested against (``tests/unit/risk/test_native.py``).
        It is written for the hot path too: locals instead of repeated attribute chains, one
        watchlist screen, the decay inlined (``level.decayed``), the record built by
        ``new_decision``."""
        if self.native:
            fast: Decision = _kernel().decide(
                self, event, values, start, model_score, anomaly_score
            )
            return fast
        policy = self.policy
        if model_score is None and self.model is not None:
            model_score = self.model.score(values)
        if anomaly_score is None and self.anomaly is not None:
            anomaly_score = self.anomaly.score(values)
        subject = event.subject
        ts = event.ts
        state = self.levels.get(subject)
        if state is None:
            state = self.levels[subject] = LevelState(0.0, ts)
        level_policy = policy.level
        # ``decayed(level_policy, state, ts)``, inlined.
        before = state.score
        if ts > state.ts and before != 0.0:
            before = before * 0.5 ** ((ts - state.ts) / level_policy.half_life_s)
        level_before = level_policy.level_of(before)
        values["model_score"] = NAN if model_score is None else model_score
        values["anomaly_score"] = NAN if anomaly_score is None else anomaly_score
        values["risk_level"] = float(level_before)

        hits: list[RuleHit] = []
        shadow: list[RuleHit] = []
        errors: list[str] = []
        whitelisted, listed = self.watchlists.screen(subject, event.device_id, event.ip)
        action = Action.ALLOW
        severity = 0
        points = 0.0
        rules = self._rules[event.type]
        if self.compiled:
            fired, failed = self._rule_fns[event.type](values)
            for i in fired:
                _, rule_id, active_hit, shadow_hit, is_shadow, rule_severity = rules[i]
                if is_shadow or whitelisted:
                    shadow.append(shadow_hit)
                else:
                    hits.append(active_hit)
                    points += active_hit.weight
                    if rule_severity > severity:
                        severity = rule_severity
                        action = active_hit.action
            if failed:
                errors = [f"{rules[i][1]}: {type(exc).__name__}: {exc}" for i, exc in failed]
        else:
            for fn, rule_id, active_hit, shadow_hit, is_shadow, rule_severity in rules:
                try:
                    fired_one = fn(values)
                except (ArithmeticError, TypeError, ValueError) as exc:
                    errors.append(f"{rule_id}: {type(exc).__name__}: {exc}")
                    continue
                if fired_one:
                    if is_shadow or whitelisted:
                        shadow.append(shadow_hit)
                    else:
                        hits.append(active_hit)
                        points += active_hit.weight
                        if rule_severity > severity:
                            severity = rule_severity
                            action = active_hit.action
        if errors:
            self.stats.rule_errors += len(errors)

        if model_score is not None and model_score == model_score:  # not NaN
            points += policy.model_weight * model_score
        if anomaly_score is not None and anomaly_score == anomaly_score:
            points += policy.anomaly_weight * anomaly_score
        if listed is not None:
            action = Action.BLOCK

        if event.type is _REPAYMENT and event.attributes.get("on_time") is True:
            points -= level_policy.good_credit
        if points:
            level_after = level_policy.level_of(apply_evidence(level_policy, state, ts, points))
        else:
            level_after = level_before
        if self.track_dirty:
            self.dirty.add(("level", subject))

        decision = new_decision(
            "d-" + event.event_id,
            event.event_id,
            subject,
            event.type.value,
            event.occurred_at.isoformat(),
            action,
            points,
            tuple(hits),
            tuple(shadow),
            values,
            model_score,
            anomaly_score,
            level_before,
            level_after,
            (self._clock() - start) * 1e6,
            tuple(errors),
            listed,
            event.label,
        )
        self.stats.processed += 1
        self.stats.actions[action] += 1
        self.decisions.append(decision)
        if self.policy.open_cases and action in (Action.REVIEW, Action.BLOCK):
            self._open_case(event, decision, listed)
        return decision

    def _open_case(self, event: Event, decision: Decision, listed: str | None) -> None:
        """A review or block opens a case for the analysts (both decision paths call this)."""
        self.cases.save(
            Case(
                case_id="c-" + event.event_id,
                subject=decision.subject,
                decision_id=decision.decision_id,
                event_id=event.event_id,
                opened_at=decision.occurred_at,
                reasons_en=decision.reasons_en or ((f"listed {listed}",) if listed else ()),
                reasons_zh=decision.reasons_zh or ((f"名单命中 {listed}",) if listed else ()),
            )
        )

    def process_raw(self, raw: Mapping[str, Any], source: str = "") -> Decision | None:
        """Validate then process; a malformed event goes to the dead-letter store, never raises."""
        try:
            event = parse_event(raw)
        except ValidationError as exc:
            self._dead(_raw_text(raw), exc.field, exc.reason, source)
            return None
        return self.process(event)

    def process_many(self, events: Iterable[Event]) -> list[Decision]:
        return [d for d in map(self.process, events) if d is not None]

    def process_batch(self, events: Iterable[Event]) -> list[Decision]:
        """Score a micro-batch: indicators event by event, the model and the anomaly score once for
        the whole batch (vectorised: LightGBM's predict, numpy), then rules and levels event by
        event, in order.

        Same decisions as ``process`` one by one — indicator state never depends on decisions —
        but each event's latency now includes waiting for the batch's model call.
        """
        admitted: list[tuple[Event, float, dict[str, float]]] = []
        clock = self._clock
        for event in events:
            start = clock()
            if self.admit(event):
                admitted.append((event, start, self.indicators(event)))
        if not admitted:
            return []
        rows = [values for _, _, values in admitted]
        scores: list[float] | list[None] = [None] * len(admitted)
        model = self.model
        if model is not None and hasattr(model, "score_many"):
            scores = model.score_many(rows)
        anomalies: list[float] | list[None] = [None] * len(admitted)
        anomaly = self.anomaly
        if anomaly is not None and hasattr(anomaly, "score_many"):
            anomalies = anomaly.score_many(rows)
        return [
            self.decide(event, values, start, score, anomaly_score)
            for (event, start, values), score, anomaly_score in zip(
                admitted, scores, anomalies, strict=True
            )
        ]

    def _dead(self, raw: str, field_name: str, reason: str, source: str) -> None:
        self.stats.dead_letters += 1
        self.dead_letters.put(DeadLetter(raw, field_name, reason, source))

    # --- levels and cases ---------------------------------------------------------------------
    def level_of(self, subject: str, at_ts: float | None = None) -> int:
        """The subject's current level (L1..L5 as 1..5), decayed to ``at_ts`` (default watermark)."""
        state = self.levels.get(subject)
        if state is None:
            return 1
        ts = self.watermark if at_ts is None else at_ts
        return self.policy.level.level_of(decayed(self.policy.level, state, ts))

    def score_of(self, subject: str, at_ts: float | None = None) -> float:
        state = self.levels.get(subject)
        if state is None:
            return 0.0
        ts = self.watermark if at_ts is None else at_ts
        return decayed(self.policy.level, state, ts)

    def act_on_case(
        self,
        case_id: str,
        action: AnalystAction,
        analyst: str,
        at: str,
        note: str = "",
        list_kind: str | None = None,
        list_value: str | None = None,
    ) -> Case:
        """Apply an analyst action; confirming fraud raises the subject's level."""
        case = self.cases.get(case_id)
        updated = case.act(action, analyst, at, note)
        if action is AnalystAction.ADD_TO_LIST:
            if list_kind is None or list_value is None:
                raise ValidationError("list_kind", "add_to_list needs a list kind and a value")
            self.watchlists.add(list_kind, list_value)
        if action is AnalystAction.CONFIRM_FRAUD:
            state = self.levels.setdefault(case.subject, LevelState(0.0, self.watermark))
            apply_evidence(
                self.policy.level, state, self.watermark, self.policy.confirm_fraud_points
            )
        self.cases.save(updated)
        return updated

    # --- checkpoints --------------------------------------------------------------------------
    def dump_entity(self, kind: str, key: str) -> Any:
        """JSON-able state of one entity (``kind`` is an indicator key, ``level`` or ``meta``)."""
        if kind == "meta":
            return {"watermark": self.watermark, "seen": self.seen}
        if kind == "level":
            state = self.levels.get(key)
            return None if state is None else state.dump()
        slots = self.tables[kind].get(key)
        if slots is None:
            return None
        ops = self._kind_ops(kind)
        return [None if s is None else op.dump(s) for op, s in zip(ops, slots, strict=True)]

    def load_entity(self, kind: str, key: str, data: Any) -> None:
        if kind == "meta":
            self.watermark = float(data["watermark"])
            self.seen = {k: float(v) for k, v in data["seen"].items()}
            self._seen_order = deque(sorted((ts, k) for k, ts in self.seen.items()))
        elif kind == "level":
            self.levels[key] = LevelState(float(data[0]), float(data[1]))
        else:
            ops = self._kind_ops(kind)
            self.tables[kind][key] = [
                None if d is None else op.load(d) for op, d in zip(ops, data, strict=True)
            ]

    def take_dirty(self) -> dict[str, str]:
        """Serialised entities changed since the last call, as ``{"kind|key": json}``."""
        out = {f"{kind}|{key}": _COMPACT(self.dump_entity(kind, key)) for kind, key in self.dirty}
        self.dirty = set()
        return out

    def restore(self, entries: Mapping[str, str]) -> None:
        """Inverse of ``take_dirty`` over a full set of entries (a checkpoint)."""
        for composite, text in entries.items():
            kind, _, key = composite.partition("|")
            data = json.loads(text)
            if data is not None:
                self.load_entity(kind, key, data)

    def dump_state(self) -> dict[str, str]:
        """The full state (every entity), in the same shape as ``take_dirty``."""
        self.dirty = {("meta", "")}
        self.dirty |= {("level", s) for s in self.levels}
        for kind, table in self.tables.items():
            if kind != "event":
                self.dirty |= {(kind, k) for k in table}
        return self.take_dirty()


# One encoder for every checkpoint entity: ``json.dumps`` with non-default options builds a new
# encoder per call, which cost more than encoding a small entity.
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode


def _hit(rule: Rule, shadow: bool) -> RuleHit:
    return RuleHit(rule.rule_id, rule.action, rule.weight, rule.reason_zh, rule.reason_en, shadow)


def _raw_text(raw: object) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(raw)
