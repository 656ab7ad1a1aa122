"""The farm scenario end to end on SQLite and PostgreSQL: members registered, stages attested,
checkpoints cosigned, tranches released in order through servicing, forged and under-signed
attestations refused, the ledger rebuilt after a restart, the bundle verified offline, the stage
report and the fund flow."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from tests.integration.chain.farm import LINE, start_farm
from tests.integration.conftest import BACKENDS
from xindai.app import servicing
from xindai.app.chain import ChainKeys, audit_chain
from xindai.app.fund_flow import fund_flow
from xindai.app.supply_chain import line_status, release_stage, stage_report
from xindai.bootstrap import Platform
from xindai.chain.bundle import verify_bundle
from xindai.chain.entries import sign_entry
from xindai.chain.merkle import verify_inclusion
from xindai.kernel import ConflictError, ValidationError


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_farm_scenario(platform: Platform) -> None:
    farm = start_farm(platform)
    chain = farm.chain
    uow, products = platform.uow, platform.products

    def release(stage: str, on: date) -> dict[str, object]:
        return release_stage(uow, products, chain, LINE, stage, on)

    # sowing: attested by the co-operative and the inspector
    sowing = farm.attest("sowing")
    farm.confirm("sowing", sowing)
    with pytest.raises(ConflictError, match="quorum-cosigned checkpoint"):
        release("sowing", date(2026, 3, 5))  # evidence not yet cosigned by the witnesses
    cosigned = chain.cosign()
    assert chain.policy.is_met(cosigned)
    first = release("sowing", date(2026, 3, 5))
    assert first["amount"] == "50000.00" and first["disbursed"] == "50000.00"
    assert first["evidence"] == [sowing, sowing + 1]
    assert release("sowing", date(2026, 3, 5))["replayed"] is True  # nothing drawn twice
    assert servicing.show_loan(uow, farm.loan)["disbursed"] == "50000.00"

    # harvest cannot jump the queue; growing is under-signed, then forged, then by the wrong role
    with pytest.raises(ConflictError, match="waits for growing"):
        release("harvest", date(2026, 4, 1))
    growing = farm.attest("growing")
    chain.cosign()
    with pytest.raises(ConflictError, match="signed by inspector"):
        release("growing", date(2026, 5, 10))
    size = chain.size()
    forged = sign_entry(
        "stage.confirm",
        "inspector.agri-01",
        {"line": LINE, "stage": "growing", "attestation": growing, "result": "pass"},
        1_772_400_000,
        farm.keys["coop.hebei-01"],  # the co-operative signing in the inspector's name
    )
    with pytest.raises(ValidationError, match=r"entries\[0\]\.entry\.key"):
        chain.submit([forged])
    assert chain.size() == size  # nothing appended
    farm.confirm("growing", growing, member="buyer.mill-07")  # a buyer is not an inspector
    chain.cosign()
    with pytest.raises(ConflictError, match="signed by inspector"):
        release("growing", date(2026, 5, 10))
    farm.confirm("growing", growing)
    chain.cosign()
    assert release("growing", date(2026, 5, 10))["disbursed"] == "130000.00"

    # harvest is never attested, so it is never released
    with pytest.raises(ConflictError, match="not attested"):
        release("harvest", date(2026, 8, 1))
    assert servicing.show_loan(uow, farm.loan)["disbursed"] == "130000.00"

    # a restart rebuilds everything from the database
    again = platform.chain(ChainKeys.demo(), farm.clock)
    assert again.size() == chain.size()
    assert again.ledger.log.root() == chain.ledger.log.root()
    status = line_status(again, LINE)
    assert [s["status"] for s in status["stages"]] == ["released", "released", "waiting"]
    assert again.ledger.registry.role_of("inspector.agri-01") == "inspector"

    # the attestation's bundle verifies offline with pinned trust anchors
    bundle = again.export_bundle(sowing)
    report = verify_bundle(bundle, operator_key=again.ledger.operator_key, policy=again.policy)
    assert report.valid, report.failures

    # stage report: interest only on what was drawn, exact fen from the servicing core
    rep = stage_report(uow, products, again, LINE)
    assert rep["staged"]["drawn"] == "130000.00"
    assert rep["lump_sum"]["drawn"] == "200000.00"
    staged = int(rep["staged"]["interest"].replace(".", ""))
    lump = int(rep["lump_sum"]["interest"].replace(".", ""))
    assert 0 < staged < lump
    assert rep["interest_saved"] == f"{(lump - staged) // 100}.{(lump - staged) % 100:02d}"
    maturity = date.fromisoformat(rep["maturity"])
    growing_days = (date(2026, 5, 10) - date(2026, 3, 5)).days
    harvest_days = (maturity - date(2026, 3, 5)).days
    assert rep["lump_sum"]["idle_fen_days"] == 8_000_000 * growing_days + 7_000_000 * harvest_days

    # fund flow: platform -> escrow -> payee per release, each edge proven
    flow = fund_flow(again, farm.loan)
    assert [(e["from"], e["to"], e["amount"]) for e in flow["edges"]] == [
        ("platform", "escrow", "50000.00"),
        ("escrow", "supplier:seed-co-01", "50000.00"),
        ("platform", "escrow", "80000.00"),
        ("escrow", "supplier:fertiliser-co-02", "80000.00"),
    ]
    escrow = next(n for n in flow["nodes"] if n["id"] == "escrow")
    assert escrow == {"id": "escrow", "in": "130000.00", "out": "130000.00"}
    cp = flow["checkpoint"]
    root = base64.b64decode(cp["root"])
    for edge in flow["edges"]:
        proof = [base64.b64decode(p) for p in edge["inclusion_proof"]]
        verify_inclusion(
            base64.b64decode(edge["leaf_hash"]), edge["entry_index"], cp["size"], proof, root
        )

    # and the auditor's replay finds nothing wrong
    audit = audit_chain(again.repo, again.keys.operator)
    assert audit["ok"] and audit["first_bad_index"] is None
