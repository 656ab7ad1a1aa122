"""Persistence ports of the risk engine and their in-memory and JSON-lines implementations.

The engine talks to three stores through these Protocols: decisions (append-only), cases (latest
version per case id) and dead letters (append-only: the raw input and why it was refused). The SQL
adapter lives outside the domain; here are the in-memory store (tests, replays) and an append-only
JSON-lines file store (one object per line; a reader reconstructs state by replaying the file, so a
crash can at worst lose a torn last line, which the reader skips).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from xindai.kernel import NotFoundError
from xindai.risk.cases import Case, CaseStatus, case_from_json, case_to_json
from xindai.risk.decisions import Decision, decision_from_json, decision_to_json


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A refused input: the raw payload (as text), the field and the reason."""

    raw: str
    field: str
    reason: str
    source: str = ""


class DecisionStore(Protocol):
    def append(self, decision: Decision) -> None: ...

    def get(self, decision_id: str) -> Decision: ...

    def for_subject(self, subject: str) -> list[Decision]: ...

    def __len__(self) -> int: ...


class CaseStore(Protocol):
    def save(self, case: Case) -> None: ...

    def get(self, case_id: str) -> Case: ...

    def open_cases(self) -> list[Case]: ...


@runtime_checkable
class BrowsableDecisions(Protocol):
    """A decision store that can list across subjects (the API's decision browser)."""

    def recent(self, limit: int, action: str | None = None) -> list[Decision]: ...


@runtime_checkable
class BrowsableCases(Protocol):
    def with_status(self, status: str | None) -> list[Case]: ...


class DeadLetterStore(Protocol):
    def put(self, letter: DeadLetter) -> None: ...

    def entries(self) -> list[DeadLetter]: ...


class InMemoryDecisions:
    """Decisions in a list plus an index by id (``keep=False`` keeps only counts, for benchmarks)."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.items: list[Decision] = []
        self.by_id: dict[str, Decision] = {}
        self.count = 0

    def append(self, decision: Decision) -> None:
        self.count += 1
        if self.keep:
            self.items.append(decision)
            self.by_id[decision.decision_id] = decision

    def get(self, decision_id: str) -> Decision:
        try:
            return self.by_id[decision_id]
        except KeyError:
            raise NotFoundError(f"decision {decision_id}") from None

    def for_subject(self, subject: str) -> list[Decision]:
        return [d for d in self.items if d.subject == subject]

    def recent(self, limit: int, action: str | None = None) -> list[Decision]:
        """Newest first, optionally only one action's."""
        out: list[Decision] = []
        for d in reversed(self.items):
            if action is None or d.action.value == action:
                out.append(d)
                if len(out) >= limit:
                    break
        return out

    def __len__(self) -> int:
        return self.count


class InMemoryCases:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}

    def save(self, case: Case) -> None:
        self.cases[case.case_id] = case

    def get(self, case_id: str) -> Case:
        try:
            return self.cases[case_id]
        except KeyError:
            raise NotFoundError(f"case {case_id}") from None

    def open_cases(self) -> list[Case]:
        return [c for c in self.cases.values() if c.status is CaseStatus.OPEN]

    def with_status(self, status: str | None) -> list[Case]:
        """Cases in one status (``None``: all), in opening order."""
        return [c for c in self.cases.values() if status is None or c.status.value == status]


class InMemoryDeadLetters:
    def __init__(self) -> None:
        self.items: list[DeadLetter] = []

    def put(self, letter: DeadLetter) -> None:
        self.items.append(letter)

    def entries(self) -> list[DeadLetter]:
        return list(self.items)


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a crash


class _JsonlFile:
    """An append handle opened on the first write (readers never hold a handle); ``close`` it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: Any = None

    def write(self, obj: dict[str, Any]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class JsonlDecisions(InMemoryDecisions):
    """Append-only decision log; existing lines are loaded on open."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(keep=True)
        for raw in _read_lines(Path(path)):
            super().append(decision_from_json(raw))
        self._file = _JsonlFile(path)

    def append(self, decision: Decision) -> None:
        self._file.write(decision_to_json(decision))
        super().append(decision)

    def close(self) -> None:
        self._file.close()


class JsonlCases(InMemoryCases):
    """Append-only case log: every version is a line, the last line per case id wins."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        for raw in _read_lines(Path(path)):
            super().save(case_from_json(raw))
        self._file = _JsonlFile(path)

    def save(self, case: Case) -> None:
        self._file.write(case_to_json(case))
        super().save(case)

    def close(self) -> None:
        self._file.close()


class JsonlDeadLetters(InMemoryDeadLetters):
    def __init__(self, path: str | Path) -> None:
        super().__init__()
        for raw in _read_lines(Path(path)):
            super().put(DeadLetter(raw["raw"], raw["field"], raw["reason"], raw.get("source", "")))
        self._file = _JsonlFile(path)

    def put(self, letter: DeadLetter) -> None:
        self._file.write(
            {
                "raw": letter.raw,
                "field": letter.field,
                "reason": letter.reason,
                "source": letter.source,
            }
        )
        super().put(letter)

    def close(self) -> None:
        self._file.close()
