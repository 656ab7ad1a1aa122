"""The origination flow over HTTP through the real app factory: apply, consent, server-timed lesson,
decision, explanation, signature over the terms hash, disbursement, review queue, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xindai.api.app import create_app
from xindai.app.demo import application_for, feature_pool
from xindai.app.origination import ModelScorer
from xindai.bootstrap import bootstrap, ensure_champion, upgrade_database
from xindai.kernel.clock import FixedClock
from xindai.scoring.artefact import load_model


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> ModelScorer:
    return ModelScorer("champion", load_model(ensure_champion(tmp_path_factory.mktemp("reg"))))


@pytest.fixture
def env(tmp_path: Path, champion: ModelScorer) -> Iterator[tuple[TestClient, FixedClock]]:
    url = f"sqlite:///{tmp_path}/api.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    clock = FixedClock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    platform.origination(clock=clock, scorers={"champion": champion})
    with TestClient(create_app(platform)) as c:
        yield c, clock
    platform.close()


def test_apply_to_disbursement_over_http(
    env: tuple[TestClient, FixedClock], champion: ModelScorer
) -> None:
    client, clock = env
    pool = feature_pool(champion)
    body = application_for("travel-credit", "web-1", pool["good"][0])
    r = client.post("/v1/applications", json=body)
    assert r.status_code == 201, r.text
    ref = r.json()["number"]
    # deciding before consenting: refused, naming the missing consent
    r = client.post(f"/v1/applications/{ref}/decision")
    assert r.json()["status"] == "refused"
    assert "travel-platform" in r.json()["decision"]["reasons"][0]["en"]
    r = client.post(
        "/v1/consents",
        json={"subject": "web-1", "source": "travel-platform", "purpose": "credit-limit",
              "channel": "baihang"},
    )  # fmt: skip
    assert r.status_code == 201
    lesson = client.post(f"/v1/applications/{ref}/lesson/start").json()
    assert lesson["min_watch_seconds"] == 300 and lesson["quiz"]
    clock.advance(timedelta(seconds=300))
    answers = [1, 0]  # the travel lesson's right answers
    r = client.post(f"/v1/applications/{ref}/lesson/finish", json={"answers": answers})
    assert r.json()["passed"] is True, r.json()
    view = client.post(f"/v1/applications/{ref}/decision").json()
    assert view["status"] == "offered"
    offer = view["offer"]
    assert offer["terms"]["apr_simple"] <= "0.2400"
    why = client.get(f"/v1/applications/{ref}/explanation").json()
    assert why["outcome"] == "approve" and why["limit"]["explanation_zh"]
    r = client.post(
        f"/v1/applications/{ref}/acceptance", json={"signer": "web-1", "terms_sha256": "0" * 64}
    )
    assert r.status_code == 422 and r.json()["field"] == "terms_sha256"
    r = client.post(
        f"/v1/applications/{ref}/acceptance",
        json={"signer": "web-1", "terms_sha256": offer["terms_sha256"]},
    )
    assert r.json()["status"] == "contracted"
    assert client.post(f"/v1/applications/{ref}/disbursement").json()["status"] == "disbursed"
    steps = [s["step"] for s in client.get(f"/v1/applications/{ref}/audit").json()]
    assert steps[-1] == "disbursement" and "anti-fraud" in steps


def test_review_queue_and_errors_over_http(
    env: tuple[TestClient, FixedClock], champion: ModelScorer
) -> None:
    client, clock = env
    pool = feature_pool(champion)
    body = application_for("carbon-credit", "web-2", pool["bad"][0])
    ref = client.post("/v1/applications", json=body).json()["number"]
    client.post(
        "/v1/consents",
        json={"subject": "web-2", "source": "carbon-registry", "purpose": "credit-limit",
              "channel": "pudao"},
    )  # fmt: skip
    client.post(f"/v1/applications/{ref}/lesson/start")
    clock.advance(timedelta(minutes=5))
    client.post(f"/v1/applications/{ref}/lesson/finish", json={"answers": [0]})
    assert client.post(f"/v1/applications/{ref}/decision").json()["status"] == "declined"
    r = client.post(f"/v1/applications/{ref}/review", json={"reason": "my income rose"})
    assert r.status_code == 201
    queue = client.get("/v1/reviews").json()
    assert [q["application"] for q in queue] == [ref]
    r = client.post(
        f"/v1/reviews/{queue[0]['review']}", json={"analyst": "a1", "resolution": "maybe"}
    )
    assert r.status_code == 422 and r.json()["field"] == "resolution"
    r = client.post(
        f"/v1/reviews/{queue[0]['review']}",
        json={"analyst": "a1", "resolution": "decline", "note": "score confirmed"},
    )
    assert r.json()["status"] == "declined"
    bad = {**body, "term": 7}
    r = client.post("/v1/applications", json=bad)
    assert r.status_code == 422 and r.json()["field"] == "term"
    assert client.get("/v1/applications/AP000000000000").status_code == 404
    assert client.post(f"/v1/applications/{ref}/decision").status_code == 409
    assert "/v1/applications/{ref}/decision" in client.get("/openapi.json").json()["paths"]
