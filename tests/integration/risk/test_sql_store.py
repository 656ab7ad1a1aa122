"""The risk engine's SQL stores on SQLite and PostgreSQL: decisions, cases, dead letters and lists
persist, reload in a fresh engine, and answer exactly like the in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.integration.conftest import BACKENDS
from xindai.bootstrap import upgrade_database
from xindai.kernel.errors import ConflictError, NotFoundError, ValidationError
from xindai.risk.cases import AnalystAction
from xindai.risk.decisions import decision_to_json
from xindai.risk.engine import RiskEngine
from xindai.risk.ports import InMemoryCases, InMemoryDeadLetters, InMemoryDecisions
from xindai.risk.registry import load_registry
from xindai.risk.rules import load_ruleset
from xindai.store.engine import make_engine
from xindai.store.risk_repo import SqlCases, SqlDeadLetters, SqlDecisions, SqlWatchlists

REGISTRY = load_registry()
RULES = load_ruleset(None, REGISTRY.names)
T0 = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)  # 03:00 Beijing time
M = timedelta(minutes=1)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade_database(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def sql_engine(db: Engine) -> RiskEngine:
    return RiskEngine(
        REGISTRY,
        RULES,
        decisions=SqlDecisions(db),
        cases=SqlCases(db),
        dead_letters=SqlDeadLetters(db),
        watchlists=SqlWatchlists(db),
    )


def stream() -> list[dict[str, Any]]:
    raws: list[dict[str, Any]] = []

    def add(type_: str, at: timedelta, **fields: Any) -> None:
        raws.append(
            {
                "event_id": f"e{len(raws)}",
                "subject": "u1",
                "type": type_,
                "occurred_at": (T0 + at).isoformat(),
                **fields,
            }
        )

    add("gps_reported", 0 * M, lat=31.23, lon=121.47, attributes={"gps_region": "SH"})
    for i in range(3):
        add("address_changed", (5 + 5 * i) * M, device_id="dev-1")
    add("gps_reported", 25 * M, lat=43.82, lon=87.61)
    add("application_submitted", 30 * M, amount="5000", device_id="dev-1", ip="1.2.3.4")
    add("login", 31 * M, device_id="dev-2")
    return raws


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_sql_stores_persist_reload_and_equal_the_in_memory_ones(engine: Engine) -> None:
    sql = sql_engine(engine)
    mem = RiskEngine(REGISTRY, RULES)
    for raw in [*stream(), {"event_id": "bad", "subject": "u1", "type": "teleport"}]:
        sql.process_raw(raw, "test")
        mem.process_raw(raw, "test")
    assert isinstance(mem.decisions, InMemoryDecisions)
    assert isinstance(mem.cases, InMemoryCases)
    assert isinstance(mem.dead_letters, InMemoryDeadLetters)

    # A fresh engine on the same database sees everything the first one stored.
    again = sql_engine(engine)
    decisions = again.decisions
    assert len(decisions) == len(mem.decisions) == 7

    def js(ds: list[Any]) -> list[dict[str, Any]]:
        return [{**decision_to_json(d), "latency_us": 0} for d in ds]

    assert js(decisions.for_subject("u1")) == js(mem.decisions.for_subject("u1"))
    assert isinstance(decisions, SqlDecisions)
    assert js(decisions.recent(3, "block")) == js(mem.decisions.recent(3, "block"))
    blocked = mem.decisions.recent(1, "block")[0]
    assert js([decisions.get(blocked.decision_id)]) == js([blocked])
    with pytest.raises(NotFoundError):
        decisions.get("d-nope")
    assert again.cases.open_cases() == mem.cases.open_cases()
    assert again.dead_letters.entries() == mem.dead_letters.entries()
    assert again.dead_letters.entries()[0].field == "type"

    # A replayed decision is not stored twice.
    decisions.append(blocked)
    assert len(decisions) == 7


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_case_actions_and_lists_survive_a_restart(engine: Engine) -> None:
    first = sql_engine(engine)
    for raw in stream():
        first.process_raw(raw)
    case = first.cases.open_cases()[-1]
    first.act_on_case(case.case_id, AnalystAction.CONFIRM_FRAUD, "wang", "2025-03-02T09:00:00Z")
    first.act_on_case(
        case.case_id,
        AnalystAction.ADD_TO_LIST,
        "wang",
        "2025-03-02T09:01:00Z",
        list_kind="device",
        list_value="dev-9",
    )
    first.watchlists.add("subject", "vip-1", black=False)
    first.watchlists.add("subject", "vip-1", black=False)  # idempotent

    second = sql_engine(engine)
    stored = second.cases.get(case.case_id)
    assert stored.status.value == "confirmed_fraud" and len(stored.history) == 2
    assert isinstance(second.cases, SqlCases)
    assert [c.case_id for c in second.cases.with_status("confirmed_fraud")] == [case.case_id]
    with pytest.raises(ConflictError):
        second.cases.save(case)  # an older version never overwrites a newer one
    assert second.watchlists.blacklisted("u5", "dev-9", None) == "device:dev-9"
    assert second.watchlists.whitelisted("vip-1")
    d = second.process_raw(
        {
            "event_id": "x1",
            "subject": "u5",
            "type": "login",
            "occurred_at": (T0 + 40 * M).isoformat(),
            "device_id": "dev-9",
        }
    )
    assert d is not None and d.action.value == "block"

    second.watchlists.remove("device", "dev-9")
    assert sql_engine(engine).watchlists.blacklisted("u5", "dev-9", None) is None
    with pytest.raises(ValidationError) as exc:
        second.watchlists.add("email", "a@b")
    assert exc.value.field == "kind"
    assert sql_engine(engine).watchlists.dump()["black"]["device"] == []
