"""Rule sets: versioned YAML files of named conditions with an action, a weight and reasons.

A rule fires when its compiled condition (``xindai.risk.lang``) is true for an event of one of its
``events`` types. ``mode: shadow`` rules are evaluated and logged but never act. A rule whose condition
raises at run time (division by zero) does not fire and the error is recorded on the decision.

Parse errors carry the file line and column: the YAML node position of ``when`` plus the position
inside the expression, e.g. ``rules.yaml:14:38: unknown indicator 'adress_changes_1h'``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from xindai.kernel import ValidationError
from xindai.risk.events import EventType
from xindai.risk.lang import Expression, RuleSyntaxError, compile_expression

ENGINE_NAMES = ("model_score", "anomaly_score", "risk_level")


class Action(StrEnum):
    """What a decision asks the credit side to do, from weakest to strongest."""

    ALLOW = "allow"
    REVIEW = "review"
    STEP_UP = "step_up"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Action.ALLOW: 0, Action.STEP_UP: 1, Action.REVIEW: 2, Action.BLOCK: 3}
_ACTIONS = {a.value: a for a in Action} | {"step-up": Action.STEP_UP}


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule."""

    rule_id: str
    condition: Expression
    action: Action
    weight: float
    reason_zh: str
    reason_en: str
    shadow: bool = False
    on: frozenset[EventType] | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A named, versioned list of rules, with a per-event-type index for fast evaluation."""

    name: str
    version: str
    rules: tuple[Rule, ...]

    def for_type(self, event_type: EventType) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.on is None or event_type in r.on)


class RuleFileError(ValidationError):
    """A rule file problem located at ``path:line:column``."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        self.path, self.line, self.column, self.message = path, line, column, message
        super().__init__(f"{path}:{line}:{column}", message)


def _node_map(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _expr_position(value_node: yaml.Node, exc: RuleSyntaxError) -> tuple[int, int]:
    """Map a position inside the expression to the file (exact for plain and quoted scalars)."""
    mark = value_node.start_mark
    style = getattr(value_node, "style", None)
    if style in ("|", ">"):
        return mark.line + 1 + exc.line, exc.column  # block scalars start on the next line
    if exc.line == 1:
        return mark.line + 1, mark.column + exc.column + (1 if style in ('"', "'") else 0)
    return mark.line + exc.line, exc.column


def build_ruleset(text: str, indicator_names: Collection[str], path: str = "<rules>") -> RuleSet:
    """Parse and compile a rule file's text against the known indicator names."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise RuleFileError(path, line, col, f"not valid YAML: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list) or root is None:
        raise RuleFileError(path, 1, 1, "a rule file needs 'name', 'version' and a 'rules' list")
    names = frozenset(indicator_names) | frozenset(ENGINE_NAMES)
    rule_nodes = _node_map(root).get("rules")
    node_list: Sequence[yaml.Node] = (
        rule_nodes.value if isinstance(rule_nodes, yaml.SequenceNode) else []
    )
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["rules"]):
        node = node_list[i] if i < len(node_list) else root
        rules.append(_rule(raw, node, names, path, seen))
    return RuleSet(str(data.get("name", "rules")), str(data.get("version", "0")), tuple(rules))


def _rule(raw: Any, node: yaml.Node, names: frozenset[str], path: str, seen: set[str]) -> Rule:
    here = (node.start_mark.line + 1, node.start_mark.column + 1)
    fields = _node_map(node)

    def fail(key: str | None, message: str) -> RuleFileError:
        at = fields[key].start_mark if key in fields else None
        line, col = (at.line + 1, at.column + 1) if at is not None else here
        return RuleFileError(path, line, col, message)

    if not isinstance(raw, Mapping):
        raise fail(None, "each rule must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise fail("id", "rule needs an 'id'")
    if rule_id in seen:
        raise fail("id", f"duplicate rule id {rule_id!r}")
    seen.add(rule_id)
    try:
        condition = compile_expression(raw.get("when", ""), names)
    except RuleSyntaxError as exc:
        value_node = fields.get("when")
        if value_node is None:
            raise fail(None, f"rule {rule_id}: needs a 'when' condition") from None
        line, col = _expr_position(value_node, exc)
        raise RuleFileError(path, line, col, f"rule {rule_id}: {exc.message}") from None
    action = _ACTIONS.get(str(raw.get("action", "")))
    if action is None:
        raise fail("action", f"rule {rule_id}: action must be one of allow/review/step_up/block")
    weight = raw.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 100:
        raise fail("weight", f"rule {rule_id}: weight must be a number in 0..100")
    mode = raw.get("mode", "active")
    if mode not in ("active", "shadow"):
        raise fail("mode", f"rule {rule_id}: mode must be 'active' or 'shadow'")
    on_raw = raw.get("events")
    on: frozenset[EventType] | None = None
    if on_raw is not None:
        try:
            on = frozenset(EventType(t) for t in on_raw)
        except (ValueError, TypeError) as exc:
            raise fail("events", f"rule {rule_id}: {exc}") from None
    for lang in ("reason_zh", "reason_en"):
        if not isinstance(raw.get(lang), str) or not raw[lang].strip():
            raise fail(None, f"rule {rule_id}: '{lang}' is required")
    return Rule(
        rule_id=rule_id,
        condition=condition,
        action=action,
        weight=float(weight),
        reason_zh=raw["reason_zh"],
        reason_en=raw["reason_en"],
        shadow=mode == "shadow",
        on=on,
    )


def load_ruleset(path: str | Path | None, indicator_names: Collection[str]) -> RuleSet:
    """Load a rule file, or the shipped default rule set when ``path`` is None."""
    if path is None:
        files = resources.files("xindai.risk").joinpath("defaults/rules.yaml")
        return build_ruleset(files.read_text("utf-8"), indicator_names, "defaults/rules.yaml")
    return build_ruleset(Path(path).read_text(encoding="utf-8"), indicator_names, str(path))
