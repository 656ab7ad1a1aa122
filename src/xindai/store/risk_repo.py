"""The risk engine's persistence ports on SQLite and PostgreSQL.

``SqlDecisions`` (``DecisionStore``), ``SqlCases`` (``CaseStore``), ``SqlDeadLetters``
(``DeadLetterStore``) and ``SqlWatchlists`` (black/white lists, write-through) over the tables of
migration 0006. Records are stored whole as JSON (``decision_to_json`` / ``case_to_json``, the same
forms as the JSON-lines stores) next to the columns queries filter on.

Invariants:
* decisions and dead letters are append-only; a decision id is unique, so re-appending the same
  decision (a replay after a crash) is refused by the key, never stored twice — ``append`` treats
  it as already done;
* a case row is its latest version; ``version`` is the length of its history, and a save never
  moves a case backwards (an older version than the stored one is a ``ConflictError``);
* list writes go to the database first, then to memory: a failed write changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from xindai.kernel.errors import ConflictError, NotFoundError
from xindai.risk.cases import Case, CaseStatus, ListKind, Watchlists, case_from_json, case_to_json
from xindai.risk.decisions import Decision, decision_from_json, decision_to_json
from xindai.risk.ports import DeadLetter
from xindai.store.tables import risk_cases, risk_dead_letters, risk_decisions, risk_list_entries

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _decision_row(d: Decision) -> dict[str, Any]:
    return {
        "decision_id": d.decision_id,
        "subject": d.subject,
        "event_type": d.event_type,
        "occurred_at": d.occurred_at,
        "action": d.action.value,
        "level_after": d.level_after,
        "body": _JSON(decision_to_json(d)),
    }


class SqlDecisions:
    """Append-only decisions (``DecisionStore`` and ``BrowsableDecisions``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, decision: Decision) -> None:
        self.append_many([decision])

    def append_many(self, decisions: Iterable[Decision]) -> None:
        """One transaction for a batch (the worker and replays write decisions in bulk)."""
        rows = [_decision_row(d) for d in decisions]
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(risk_decisions), rows)
        except IntegrityError:
            # Some were stored before (a replay): keep the stored ones, add the rest one by one.
            for row in rows:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(risk_decisions), row)
                except IntegrityError:
                    continue

    def get(self, decision_id: str) -> Decision:
        with self.engine.connect() as conn:
            body = conn.execute(
                select(risk_decisions.c.body).where(risk_decisions.c.decision_id == decision_id)
            ).scalar()
        if body is None:
            raise NotFoundError(f"decision {decision_id}")
        return decision_from_json(json.loads(body))

    def for_subject(self, subject: str) -> list[Decision]:
        stmt = (
            select(risk_decisions.c.body)
            .where(risk_decisions.c.subject == subject)
            .order_by(risk_decisions.c.id)
        )
        with self.engine.connect() as conn:
            return [decision_from_json(json.loads(b)) for b in conn.execute(stmt).scalars()]

    def recent(self, limit: int, action: str | None = None) -> list[Decision]:
        stmt = select(risk_decisions.c.body).order_by(risk_decisions.c.id.desc()).limit(limit)
        if action is not None:
            stmt = stmt.where(risk_decisions.c.action == action)
        with self.engine.connect() as conn:
            return [decision_from_json(json.loads(b)) for b in conn.execute(stmt).scalars()]

    def __len__(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(risk_decisions)).scalar_one())


class SqlCases:
    """Latest version per case (``CaseStore`` and ``BrowsableCases``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, case: Case) -> None:
        version = len(case.history)
        row = {
            "subject": case.subject,
            "status": case.status.value,
            "opened_at": case.opened_at,
            "version": version,
            "body": _JSON(case_to_json(case)),
        }
        with self.engine.begin() as conn:
            stored = conn.execute(
                select(risk_cases.c.version).where(risk_cases.c.case_id == case.case_id)
            ).scalar()
            if stored is None:
                conn.execute(insert(risk_cases), {"case_id": case.case_id, **row})
            elif version < stored:
                raise ConflictError(
                    f"case {case.case_id} is at version {stored}; refusing older version {version}"
                )
            else:
                conn.execute(
                    update(risk_cases).where(risk_cases.c.case_id == case.case_id).values(**row)
                )

    def get(self, case_id: str) -> Case:
        with self.engine.connect() as conn:
            body = conn.execute(
                select(risk_cases.c.body).where(risk_cases.c.case_id == case_id)
            ).scalar()
        if body is None:
            raise NotFoundError(f"case {case_id}")
        return case_from_json(json.loads(body))

    def open_cases(self) -> list[Case]:
        return self.with_status(CaseStatus.OPEN.value)

    def with_status(self, status: str | None) -> list[Case]:
        stmt = select(risk_cases.c.body).order_by(risk_cases.c.opened_at, risk_cases.c.case_id)
        if status is not None:
            stmt = stmt.where(risk_cases.c.status == status)
        with self.engine.connect() as conn:
            return [case_from_json(json.loads(b)) for b in conn.execute(stmt).scalars()]


class SqlDeadLetters:
    """Append-only dead letters (``DeadLetterStore``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, letter: DeadLetter) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(risk_dead_letters),
                {
                    "raw": letter.raw,
                    "field": letter.field[:128],
                    "reason": letter.reason,
                    "source": letter.source[:255],
                },
            )

    def entries(self) -> list[DeadLetter]:
        cols = risk_dead_letters.c
        stmt = select(cols.raw, cols.field, cols.reason, cols.source).order_by(cols.id)
        with self.engine.connect() as conn:
            return [DeadLetter(r.raw, r.field, r.reason, r.source) for r in conn.execute(stmt)]


class SqlWatchlists(Watchlists):
    """Black/white lists loaded from the database and written through on every change."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        with engine.connect() as conn:
            for which, kind, value in conn.execute(
                select(
                    risk_list_entries.c.list, risk_list_entries.c.kind, risk_list_entries.c.value
                )
            ):
                super().add(kind, value, black=which == "black")

    def add(self, kind: ListKind | str, value: str, *, black: bool = True) -> None:
        list_kind = self.check(kind, value)
        which = "black" if black else "white"
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(risk_list_entries),
                    {"list": which, "kind": list_kind.value, "value": value},
                )
        except IntegrityError:
            pass  # already listed: adding is idempotent
        super().add(list_kind, value, black=black)

    def remove(self, kind: ListKind | str, value: str, *, black: bool = True) -> None:
        list_kind = self.check(kind, value)
        t = risk_list_entries.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(risk_list_entries).where(
                    t.list == ("black" if black else "white"),
                    t.kind == list_kind.value,
                    t.value == value,
                )
            )
        super().remove(list_kind, value, black=black)
