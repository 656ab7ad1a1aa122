"""Builders shared by the risk tests (a real engine over the shipped registry and rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from xindai.risk.engine import EnginePolicy, RiskEngine
from xindai.risk.registry import load_registry
from xindai.risk.rules import load_ruleset

# 2025-03-01 19:00 UTC is 03:00 on 2 March in Asia/Shanghai.
T0 = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)
REGISTRY = load_registry()
RULES = load_ruleset(None, REGISTRY.names)


def engine(**kw: Any) -> RiskEngine:
    return RiskEngine(REGISTRY, RULES, **kw)


class Feed:
    """Numbered raw events for one engine."""

    def __init__(self, eng: RiskEngine, subject: str = "u1") -> None:
        self.eng = eng
        self.subject = subject
        self.n = 0

    def raw(self, type_: str, at: timedelta, **fields: Any) -> dict[str, Any]:
        self.n += 1
        out: dict[str, Any] = {
            "event_id": f"{self.subject}-e{self.n}",
            "subject": self.subject,
            "type": type_,
            "occurred_at": (T0 + at).isoformat(),
        }
        out.update(fields)
        return out

    def __call__(self, type_: str, at: timedelta, **fields: Any) -> Any:
        return self.eng.process_raw(self.raw(type_, at, **fields))


__all__ = ["REGISTRY", "RULES", "T0", "EnginePolicy", "Feed", "engine"]
