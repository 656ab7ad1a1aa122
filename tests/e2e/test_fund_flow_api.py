"""Fund flows of a consumer loan through the HTTP API: every money command's movements reach the
log right after the command (best effort: a broken chain setup never fails the command, the rows
wait and the fund-flow read publishes them), a replayed command adds nothing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xindai.api.app import create_app
from xindai.bootstrap import bootstrap, upgrade_database
from xindai.chain.merkle import verify_inclusion


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path}/flows.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    with TestClient(create_app(platform)) as c:
        yield c
    platform.close()


def _open(client: TestClient) -> str:
    body = {
        "product_code": "consumer-instalment",
        "principal": "10000",
        "term": 3,
        "method": "equal-installment",
        "annual_rate": "0.12",
        "start_date": "2026-01-15",
    }
    r = client.post("/v1/loans", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_money_commands_reach_the_log(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loan = _open(client)
    # the chain cannot be set up (unreadable keys file): the disbursement still succeeds
    monkeypatch.setenv("XINDAI_CHAIN_KEYS", str(tmp_path / "missing-keys.json"))
    money = {"amount": "10000", "on": "2026-01-15", "payee": "merchant:shop-0042"}
    r = client.post(f"/v1/loans/{loan}/disbursements", json=money, headers={"Idempotency-Key": "d"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    monkeypatch.delenv("XINDAI_CHAIN_KEYS")

    # the read publishes what was pending
    flow = client.get(f"/v1/loans/{loan}/fund-flow").json()
    assert flow["pending"] == []
    assert [(e["from"], e["to"], e["amount"]) for e in flow["edges"]] == [
        ("platform", "escrow", "10000.00"),
        ("escrow", "merchant:shop-0042", "10000.00"),
    ]

    pay = {"amount": "3400.00", "on": "2026-02-15"}
    for _ in range(2):  # the second is a replay: nothing posted, nothing logged
        r = client.post(f"/v1/loans/{loan}/repayments", json=pay, headers={"Idempotency-Key": "r"})
        assert r.status_code == 200
    assert r.json()["replayed"] is True
    flow = client.get(f"/v1/loans/{loan}/fund-flow").json()
    assert [(e["from"], e["to"], e["amount"]) for e in flow["edges"]][2:] == [
        ("borrower", "repayment", "3400.00")
    ]
    root = base64.b64decode(flow["checkpoint"]["root"])
    for edge in flow["edges"]:
        verify_inclusion(
            base64.b64decode(edge["leaf_hash"]),
            edge["entry_index"],
            flow["checkpoint"]["size"],
            [base64.b64decode(p) for p in edge["inclusion_proof"]],
            root,
        )

    bad = client.post(
        f"/v1/loans/{loan}/disbursements",
        json={**money, "payee": "Li Si"},
        headers={"Idempotency-Key": "d2"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "payee"
