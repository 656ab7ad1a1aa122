"""The consortium log over HTTP through the real app: member submissions (and every way they are
refused without appending), checkpoints, proofs, the C2SP add-checkpoint witness endpoint, staged
lines and a loan's fund flow."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from xindai.api.app import create_app
from xindai.app.chain import ChainKeys
from xindai.app.supply_chain import FARM_LINE, FARM_MEMBERS, run_farm_demo
from xindai.bootstrap import bootstrap, upgrade_database
from xindai.chain.checkpoint import verify_cosignature
from xindai.chain.demo import demo_key
from xindai.chain.entries import sign_entry
from xindai.chain.merkle import verify_consistency, verify_inclusion
from xindai.chain.note import parse_note

KEYS = {name: demo_key(name) for name in FARM_MEMBERS}
WITNESS = "coop.hebei-01/witness"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path}/chain-api.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    run_farm_demo(platform.uow, platform.products, platform.chain(), KEYS)
    with TestClient(create_app(platform)) as c:
        yield c
    platform.close()


def _entry(member: str = "coop.hebei-01", **body: Any) -> dict[str, Any]:
    body = {"line": FARM_LINE, "stage": "harvest", **body}
    return sign_entry("stage.attest", member, body, 1_780_000_000, KEYS[member]).to_json()


def _size(client: TestClient) -> int:
    return int(client.get("/v1/chain/checkpoint").text.split("\n")[1])


def _current_size(client: TestClient) -> int:
    return int(client.get("/v1/chain/proofs/inclusion", params={"index": 0}).json()["size"])


def test_submit_and_refusals_append_nothing(client: TestClient) -> None:
    before = _current_size(client)
    ok = client.post("/v1/chain/entries", json=_entry(tonnes=12))
    assert ok.status_code == 201 and ok.json() == {"indices": [before], "size": before + 1}
    size = before + 1

    bad_sig = _entry(tonnes=13)
    bad_sig["body"]["tonnes"] = 14  # signed 13, claims 14
    personal = _entry(tonnes=15)
    personal["body"]["phone"] = "13812345678"  # refused before the signature is even checked
    unknown = sign_entry("stage.attest", "coop.other-99", {"line": "x"}, 1, demo_key("x")).to_json()
    cases = {
        "malformed JSON": (b'{"v": 1, "kind": ', "entry"),
        "duplicate member": (b'{"v": 1, "v": 1}', "entry"),
        "bad signature": (bad_sig, "entries[0].entry.sig"),
        "unknown member": (unknown, "entries[0].entry.key"),
        "missing fields": ({"v": 1, "kind": "x"}, "entries[0].entry"),
        "one bad in a batch": ({"entries": [_entry(tonnes=1), bad_sig]}, "entries[1].entry.sig"),
        "empty batch": ({"entries": []}, "entries"),
        "personal data": (personal, "entries[0].entry.body.phone"),
    }
    for name, (payload, field) in cases.items():
        if isinstance(payload, bytes):
            r = client.post(
                "/v1/chain/entries", content=payload, headers={"content-type": "application/json"}
            )
        else:
            r = client.post("/v1/chain/entries", json=payload)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["field"] == field, (name, r.json())
        assert _current_size(client) == size, name  # nothing appended

    # a revoked key signs nothing after its revocation
    members = client.get("/v1/chain/members").json()
    buyer = next(m for m in members if m["member"] == "buyer.mill-07")
    revoke = sign_entry(
        "member.revoke",
        "buyer.mill-07",
        {"member": "buyer.mill-07", "key": buyer["key"], "reason": "key lost"},
        1_780_000_000,
        KEYS["buyer.mill-07"],
    ).to_json()
    assert client.post("/v1/chain/entries", json=revoke).status_code == 201
    late = client.post("/v1/chain/entries", json=_entry("buyer.mill-07", tonnes=2))
    assert late.status_code == 422 and "revoked" in late.json()["reason"]
    assert _current_size(client) == size + 1


def test_proofs_and_their_bad_sizes(client: TestClient) -> None:
    size = _current_size(client)
    r = client.get("/v1/chain/proofs/inclusion", params={"index": 6, "size": size}).json()
    proof = [base64.b64decode(p) for p in r["proof"]]
    root = base64.b64decode(r["root"])
    verify_inclusion(base64.b64decode(r["leaf_hash"]), 6, size, proof, root)
    c = client.get("/v1/chain/proofs/consistency", params={"old": 7, "size": size}).json()
    verify_consistency(
        7, size, [base64.b64decode(p) for p in c["proof"]], base64.b64decode(c["old_root"]), root
    )
    bad = [
        ("/v1/chain/proofs/inclusion", {"index": size}),
        ("/v1/chain/proofs/inclusion", {"index": 1, "size": size + 1}),
        ("/v1/chain/proofs/inclusion", {"index": -1}),
        ("/v1/chain/proofs/inclusion", {"index": "x"}),
        ("/v1/chain/proofs/consistency", {"old": 0}),
        ("/v1/chain/proofs/consistency", {"old": 5, "size": 4}),
        ("/v1/chain/proofs/consistency", {"old": 1, "size": size + 5}),
    ]
    for path, params in bad:
        assert client.get(path, params=params).status_code == 422, (path, params)
    assert client.get("/v1/chain/entries/9999").status_code == 404


def _add(client: TestClient, body: str, witness: str = WITNESS) -> Any:
    return client.post(
        f"/v1/chain/witnesses/{witness}/add-checkpoint",
        content=body.encode(),
        headers={"content-type": "text/plain"},
    )


def test_witness_add_checkpoint_follows_c2sp(client: TestClient) -> None:
    old = _size(client)  # the hosted witnesses cosigned this in the demo
    client.post("/v1/chain/entries", json=_entry(tonnes=3))
    signed = client.post("/v1/chain/checkpoints").json()
    assert signed["quorum"] and signed["size"] == old + 1
    note = signed["note"]  # signatures by keys the witness does not know are ignored
    text = note.split("\n\n")[0] + "\n"
    proof = client.get("/v1/chain/proofs/consistency", params={"old": old}).json()["proof"]

    def request(old_size: int, proof: list[str], checkpoint: str = note) -> str:
        return f"old {old_size}\n" + "".join(p + "\n" for p in proof) + "\n" + checkpoint

    # the witness already cosigned size old+1 through /checkpoints: same size, same root -> ok
    again = _add(client, request(old + 1, []))
    assert again.status_code == 200
    sig = parse_note(text + "\n" + again.text).signatures[0]
    key = next(w.verifier for w in ChainKeys.demo().witnesses if w.name == WITNESS)
    assert verify_cosignature(sig, text, key) is not None

    stale = _add(client, request(old, proof))
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("text/x.tlog.size")
    assert stale.text == f"{old + 1}\n"

    forged = note.replace(note.split("\n")[2], base64.b64encode(bytes(32)).decode())
    assert _add(client, request(old + 1, [], forged)).status_code == 403
    assert _add(client, request(old + 1, []), witness="nobody/witness").status_code == 404
    assert _add(client, request(old + 2, [])).status_code == 400  # old above the checkpoint size
    assert _add(client, "old x\n\n" + note).status_code == 400
    assert _add(client, "no blank line").status_code == 400

    # a newer checkpoint with a proof that does not verify: 422, and the evidence is kept
    client.post("/v1/chain/entries", json=_entry(tonnes=4))
    service = client.app.state.chain_service  # type: ignore[attr-defined]
    newer = service.sign_checkpoint().text()
    right = client.get("/v1/chain/proofs/consistency", params={"old": old + 1}).json()["proof"]
    wrong = [base64.b64encode(bytes(32)).decode()] * len(right)
    refused = _add(client, request(old + 1, wrong, newer))
    assert refused.status_code == 422
    assert service.repo.equivocations()[0]["witness"] == WITNESS
    assert _add(client, request(old + 1, right, newer)).status_code == 200


def test_lines_and_fund_flow(client: TestClient) -> None:
    line = client.get(f"/v1/chain/lines/{FARM_LINE}").json()
    assert [s["status"] for s in line["stages"]] == ["released", "released", "waiting"]
    report = client.get(f"/v1/chain/lines/{FARM_LINE}/stage-report").json()
    assert report["staged"]["drawn"] == "130000.00"
    flow = client.get(f"/v1/loans/{line['loan']}/fund-flow").json()
    assert [(e["from"], e["to"], e["amount"]) for e in flow["edges"]] == [
        ("platform", "escrow", "50000.00"),
        ("escrow", "supplier:seed-co-01", "50000.00"),
        ("platform", "escrow", "80000.00"),
        ("escrow", "supplier:fertiliser-co-02", "80000.00"),
        ("buyer:mill-07", "repayment", "500.00"),
    ]
    assert flow["checkpoint"]["quorum_cosigned"] is True
    root = base64.b64decode(flow["checkpoint"]["root"])
    for edge in flow["edges"]:
        verify_inclusion(
            base64.b64decode(edge["leaf_hash"]),
            edge["entry_index"],
            flow["checkpoint"]["size"],
            [base64.b64decode(p) for p in edge["inclusion_proof"]],
            root,
        )
    assert {n["id"] for n in flow["nodes"]} >= {"platform", "escrow", "supplier:seed-co-01"}
    assert client.get("/v1/loans/no-such-loan/fund-flow").status_code == 404
    assert client.get("/v1/chain/lines/NOPE").status_code == 404


def test_repayment_is_posted_and_logged_once(client: TestClient) -> None:
    loan = client.get(f"/v1/chain/lines/{FARM_LINE}").json()["loan"]
    path = f"/v1/loans/{loan}/fund-flow/repayments"
    body = {"payer": "buyer:mill-07", "amount": "300.00", "on": "2026-07-05"}
    first = client.post(path, json=body, headers={"Idempotency-Key": "mill-0705"})
    assert first.status_code == 200 and first.json()["replayed"] is False
    again = client.post(path, json=body, headers={"Idempotency-Key": "mill-0705"})
    assert again.json()["replayed"] is True
    edges = client.get(f"/v1/loans/{loan}/fund-flow").json()["edges"]
    assert [e["amount"] for e in edges if e["to"] == "repayment"] == ["500.00", "300.00"]
    bad = client.post(
        path, json={**body, "payer": "Zhang San"}, headers={"Idempotency-Key": "mill-x"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "payer"
