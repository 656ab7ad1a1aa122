"""The risk HTTP API through the real app factory (starlette TestClient): the 3 a.m. scenario,
levels, decisions, cases, lists, idempotent resubmission, and bad input → 422 with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from xindai.api.app import create_app
from xindai.bootstrap import bootstrap, upgrade_database

T0 = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)  # 03:00 on 2 March, Beijing time
M = timedelta(minutes=1)


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for var in ("XINDAI_RISK_RULES", "XINDAI_RISK_INDICATORS", "XINDAI_RISK_MODEL"):
        monkeypatch.delenv(var, raising=False)
    url = f"sqlite:///{tmp_path}/api.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    with TestClient(create_app(platform)) as c:
        yield c
    platform.close()


class Feed:
    def __init__(self, client: TestClient, subject: str = "u1") -> None:
        self.client, self.subject, self.n = client, subject, 0

    def __call__(self, type_: str, at: timedelta, **fields: Any) -> Any:
        self.n += 1
        body = {
            "event_id": f"{self.subject}-e{self.n}",
            "subject": self.subject,
            "type": type_,
            "occurred_at": (T0 + at).isoformat(),
            **fields,
        }
        return self.client.post("/v1/risk/events", json=body)


def three_am(feed: Feed) -> Any:
    feed("gps_reported", 0 * M, lat=31.23, lon=121.47, attributes={"gps_region": "SH"})
    for i in range(3):
        feed("address_changed", (5 + 5 * i) * M, device_id="dev-1")
    feed("gps_reported", 25 * M, lat=43.82, lon=87.61)
    return feed("application_submitted", 30 * M, amount="5000", device_id="dev-1", ip="1.2.3.4")


def test_three_am_application_is_blocked_and_the_case_is_worked(client: TestClient) -> None:
    r = three_am(Feed(client))
    assert r.status_code == 201
    d = r.json()
    assert d["action"] == "block"
    assert {"NIGHT_ADDRESS_CHURN", "IMPOSSIBLE_TRAVEL"} <= {h["rule_id"] for h in d["hits"]}
    assert "Repeated address changes within an hour at night" in [h["reason_en"] for h in d["hits"]]
    assert d["level_after"] >= 4

    level = client.get("/v1/risk/subjects/u1/level").json()
    assert level["level"] == d["level_after"] and level["level_name"] == f"L{level['level']}"
    assert client.get("/v1/risk/subjects/nobody/level").json()["level"] == 1

    mine = client.get("/v1/risk/decisions", params={"subject": "u1"}).json()
    assert len(mine) == 6 and mine[0]["decision_id"] == d["decision_id"]  # newest first
    blocks = client.get("/v1/risk/decisions", params={"action": "block"}).json()
    assert d["decision_id"] == blocks[0]["decision_id"]
    assert all(b["action"] == "block" for b in blocks)
    assert client.get(f"/v1/risk/decisions/{d['decision_id']}").json() == d

    open_cases = client.get("/v1/risk/cases").json()
    assert len(open_cases) == len(blocks)  # every block opened a case
    (case,) = [c for c in open_cases if c["decision_id"] == d["decision_id"]]
    assert case["status"] == "open"
    act = f"/v1/risk/cases/{case['case_id']}/actions"
    done = client.post(
        act, json={"action": "confirm_fraud", "analyst": "wang", "at": "2025-03-02T09:00:00+08:00"}
    )
    assert done.status_code == 200 and done.json()["status"] == "confirmed_fraud"
    assert len(client.get("/v1/risk/cases").json()) == len(open_cases) - 1
    assert len(client.get("/v1/risk/cases", params={"status": "confirmed_fraud"}).json()) == 1
    again = client.post(
        act, json={"action": "clear", "analyst": "wang", "at": "2025-03-02T09:05:00Z"}
    )
    assert again.status_code == 409
    listed = client.post(
        act,
        json={
            "action": "add_to_list",
            "analyst": "wang",
            "at": "2025-03-02T09:06:00Z",
            "list_kind": "device",
            "list_value": "dev-1",
        },
    )
    assert listed.status_code == 200 and len(listed.json()["history"]) == 2
    assert client.get("/v1/risk/lists").json()["black"]["device"] == ["dev-1"]


def test_decisions_cases_and_lists_survive_a_restart(tmp_path: Path) -> None:
    """They live in the platform's database: a new process serves what the last one decided."""
    url = f"sqlite:///{tmp_path}/restart.db"
    upgrade_database(url)
    first = bootstrap(database_url=url)
    with TestClient(create_app(first)) as c:
        d = three_am(Feed(c)).json()
        c.post("/v1/risk/lists", json={"list": "black", "kind": "ip", "value": "6.6.6.6"})
    first.close()
    second = bootstrap(database_url=url)
    with TestClient(create_app(second)) as c:
        assert c.get(f"/v1/risk/decisions/{d['decision_id']}").json() == d
        assert d["decision_id"] in [x["decision_id"] for x in c.get("/v1/risk/cases").json()]
        assert c.get("/v1/risk/lists").json()["black"]["ip"] == ["6.6.6.6"]
        assert Feed(c, "u9")("login", 0 * M, ip="6.6.6.6").json()["action"] == "block"
    second.close()


def test_resubmitting_an_event_returns_the_first_decision(client: TestClient) -> None:
    feed = Feed(client)
    first = feed("login", 0 * M, device_id="d1")
    feed.n -= 1
    second = feed("login", 0 * M, device_id="d1")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == first.json()
    assert len(client.get("/v1/risk/decisions").json()) == 1


def test_lists_block_and_unblock(client: TestClient) -> None:
    feed = Feed(client, "u7")
    add = client.post("/v1/risk/lists", json={"list": "black", "kind": "ip", "value": "6.6.6.6"})
    assert add.status_code == 201
    r = feed("login", 0 * M, ip="6.6.6.6").json()
    assert r["action"] == "block" and r["listed"] == "ip:6.6.6.6"
    assert client.delete("/v1/risk/lists/black/ip/6.6.6.6").status_code == 204
    assert client.delete("/v1/risk/lists/black/ip/6.6.6.6").status_code == 404
    assert feed("login", 1 * M, ip="6.6.6.6").json()["action"] == "allow"


BAD = [
    ({"occurred_at": "2025-03-02T03:00:00"}, "occurred_at"),  # no zone
    ({"type": "teleport"}, "type"),
    ({"amount": 12.5}, "amount"),
    ({"amount": "-3"}, "amount"),
    ({"lat": 95.0, "lon": 1.0}, "lat"),
    ({"lat": 30.0}, "lon"),
    ({"colour": "red"}, "colour"),
    ({"subject": ""}, "subject"),
    ({"attributes": {"nested": {"a": 1}}}, "attributes"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_events_are_422_naming_the_field_and_change_nothing(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    body = {
        "event_id": "bad-1",
        "subject": "u9",
        "type": "login",
        "occurred_at": "2025-03-02T03:00:00+08:00",
        **change,
    }
    r = client.post("/v1/risk/events", json=body)
    assert r.status_code == 422
    assert field in r.text
    assert client.get("/v1/risk/decisions").json() == []
    # The id was not consumed: the corrected event is accepted.
    body.update(
        {"subject": "u9", "type": "login", "occurred_at": "2025-03-02T03:00:00+08:00"},
    )
    for key in ("amount", "lat", "lon", "colour", "attributes"):
        body.pop(key, None)
    assert client.post("/v1/risk/events", json=body).status_code == 201


def test_other_errors_map_to_404_409_422(client: TestClient) -> None:
    feed = Feed(client)
    feed("login", 0 * M)
    late = feed("login", -2 * 60 * M)  # beyond the 1 h lateness
    assert late.status_code == 422 and late.json()["field"] == "occurred_at"
    assert client.get("/v1/risk/decisions/d-nope").status_code == 404
    missing = {"action": "clear", "analyst": "x", "at": "2025-03-02T09:00:00Z"}
    assert client.post("/v1/risk/cases/c-nope/actions", json=missing).status_code == 404
    bad_at = client.post("/v1/risk/cases/c-nope/actions", json={**missing, "at": "yesterday"})
    assert bad_at.status_code == 422 and bad_at.json()["field"] == "at"
    bad_kind = client.post("/v1/risk/lists", json={"list": "black", "kind": "email", "value": "x"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.text
    assert client.get("/v1/risk/lists").json()["black"] == {"subject": [], "device": [], "ip": []}


def test_openapi_documents_the_risk_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/risk/events",
        "/v1/risk/subjects/{subject}/level",
        "/v1/risk/decisions",
        "/v1/risk/cases",
        "/v1/risk/cases/{case_id}/actions",
        "/v1/risk/lists",
        "/v1/risk/lists/{which}/{kind}/{value}",
    ):
        assert path in paths
    post = paths["/v1/risk/events"]["post"]
    assert "decision" in post["summary"] and post["description"]
    fields = spec["components"]["schemas"]["EventIn"]["properties"]
    assert "zone" in fields["occurred_at"]["description"]
