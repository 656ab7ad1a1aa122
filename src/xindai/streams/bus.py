"""The in-process event bus: the default way events reach the risk engine.

Publishing appends to a FIFO; ``drain`` hands every queued event to the engine in order. No threads:
the caller decides when to drain, so a test or a replay is deterministic. Malformed events are
dead-lettered by the engine (``RiskEngine.process_raw``); the bus never raises on bad input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from xindai.risk.decisions import Decision
from xindai.risk.engine import RiskEngine


class InProcessBus:
    """A FIFO of raw events in front of one engine."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine
        self.queue: deque[Mapping[str, Any]] = deque()
        self.subscribers: list[Callable[[Decision], None]] = []

    def publish(self, raw: Mapping[str, Any]) -> None:
        self.queue.append(raw)

    def subscribe(self, handler: Callable[[Decision], None]) -> None:
        """Call ``handler`` with every decision (e.g. the credit side reacting to a block)."""
        self.subscribers.append(handler)

    def drain(self) -> int:
        """Process everything queued; returns the number of decisions made."""
        made = 0
        queue = self.queue
        while queue:
            decision = self.engine.process_raw(queue.popleft(), "bus")
            if decision is not None:
                made += 1
                for handler in self.subscribers:
                    handler(decision)
        return made
