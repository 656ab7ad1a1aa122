"""Offline proof bundles: a valid demo bundle, and one failing test per way a bundle can lie."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from xindai.chain.bundle import CHECK_NAMES, export_bundle, verify_bundle
from xindai.chain.checkpoint import Checkpoint, sign_checkpoint
from xindai.chain.demo import build_demo_chain, demo_bundle
from xindai.chain.entries import sign_entry
from xindai.chain.keys import key_fingerprint
from xindai.chain.note import NoteSigner, parse_vkey
from xindai.chain.witness import QuorumPolicy
from xindai.kernel import ValidationError

from .helpers import key


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    return demo_bundle()


def _failed(bundle: Any, **kw: Any) -> set[str]:
    report = verify_bundle(bundle, **kw)
    assert not report.valid
    return {c.name for c in report.failures}


def test_demo_bundle_is_valid_and_deterministic(good: dict[str, Any]) -> None:
    report = verify_bundle(good)
    assert report.valid, report.to_json()
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert "taken from the bundle" in report.trust
    assert report.summary["member"] == "coop.hebei-01"
    assert json.dumps(demo_bundle(), sort_keys=True) == json.dumps(good, sort_keys=True)
    # Survives a JSON round trip (what the CLI reads).
    assert verify_bundle(json.loads(json.dumps(good))).valid


def test_pinned_trust_anchors(good: dict[str, Any]) -> None:
    op = parse_vkey(good["operator_key"])
    policy = QuorumPolicy.from_json(good["policy"])
    report = verify_bundle(good, operator_key=op, policy=policy)
    assert report.valid and report.trust.startswith("pinned by the verifier")
    impostor = NoteSigner(op.name, key("impostor")).verifier
    assert _failed(good, operator_key=impostor) >= {"checkpoint.operator_signature"}
    strict = QuorumPolicy(3, policy.witnesses)
    assert _failed(good, policy=strict) == {"checkpoint.quorum"}


def test_tampered_entry_body(good: dict[str, Any]) -> None:
    b = copy.deepcopy(good)
    b["entry"]["data"]["body"]["area_mu"] = 1200
    assert _failed(b) == {"entry.inclusion", "entry.signature"}


def test_tampered_entry_member_points_at_another_key(good: dict[str, Any]) -> None:
    b = copy.deepcopy(good)
    b["entry"]["data"]["member"] = "lender.xindai"
    assert {"entry.inclusion", "entry.key_valid"} <= _failed(b)


def test_entry_signed_by_the_wrong_key(good: dict[str, Any]) -> None:
    demo = build_demo_chain()
    original = demo.ledger.entry(demo.attestation_index)
    forged = sign_entry(
        original.kind,
        original.member,
        dict(original.body),
        original.ts,
        demo.member_keys["inspector.agri-01"],
    )
    b = copy.deepcopy(good)
    data = forged.to_json()
    data["key"] = original.key  # claim the co-operative's key
    b["entry"]["data"] = data
    assert _failed(b) == {"entry.inclusion", "entry.signature"}


def test_bad_inclusion_proof(good: dict[str, Any]) -> None:
    for i in range(len(good["entry"]["proof"])):
        b = copy.deepcopy(good)
        raw = bytearray(base64.b64decode(b["entry"]["proof"][i]))
        raw[0] ^= 1
        b["entry"]["proof"][i] = base64.b64encode(bytes(raw)).decode()
        assert _failed(b) == {"entry.inclusion"}
    b = copy.deepcopy(good)
    b["entry"]["index"] += 1
    assert "entry.inclusion" in _failed(b)
    b = copy.deepcopy(good)
    b["entry"]["proof"] = b["entry"]["proof"][:-1]
    assert _failed(b) == {"entry.inclusion"}


def test_missing_cosignature(good: dict[str, Any]) -> None:
    b = copy.deepcopy(good)
    lines = b["checkpoint"].splitlines(keepends=True)
    b["checkpoint"] = "".join(lines[:-1])  # drop one of the two witness lines: 1 of 3 < 2
    assert _failed(b) == {"checkpoint.quorum"}
    report = verify_bundle(b)
    assert "1 of 3" in {c.name: c.detail for c in report.checks}["checkpoint.quorum"]


def test_cosignature_copied_onto_another_checkpoint_does_not_count(good: dict[str, Any]) -> None:
    demo = build_demo_chain()
    first = demo.checkpoints[0]
    b = copy.deepcopy(good)
    _head, _, sigs = b["checkpoint"].partition("\n\n")
    witness_lines = sigs.splitlines(keepends=True)[1:]
    b["checkpoint"] = (
        first.note.text + "\n" + first.note.signatures[0].line() + "".join(witness_lines)
    )
    # The first checkpoint is smaller (size 5) but still covers entry 3; the witness lines were
    # made for the second checkpoint, so the quorum fails, and the proof is for size 6.
    assert {"checkpoint.quorum", "entry.inclusion"} <= _failed(b)


def test_checkpoint_not_signed_by_operator(good: dict[str, Any]) -> None:
    b = copy.deepcopy(good)
    b["checkpoint"] = b["checkpoint"].replace("\n6\n", "\n7\n", 1)
    assert _failed(b) == set(CHECK_NAMES) - {"entry.well_formed"}


def test_revoked_key(good: dict[str, Any]) -> None:
    """A compromised operator appends an entry signed by a revoked key, bypassing the registry."""
    demo = build_demo_chain()
    ledger = demo.ledger
    coop_key = demo.member_keys["coop.hebei-01"]
    ledger.revoke_key("coop.hebei-01", key_fingerprint(coop_key.public_key), "key stolen")
    late = sign_entry(
        "stage.attest", "coop.hebei-01", {"line": "SCF-2026-0001", "stage": "harvest"}, 1, coop_key
    )
    with pytest.raises(ValidationError, match="revoked"):
        ledger.submit([late])
    index = ledger.log.append([late.leaf_bytes()])[0]  # behind the registry's back
    cp = ledger.checkpoint()
    policy = QuorumPolicy(1, (demo.witnesses[1].verifier,))
    cp = cp.with_cosignatures(
        [
            demo.witnesses[1].add_checkpoint(
                cp.text(),
                demo.witnesses[1].latest.checkpoint.size,  # type: ignore[union-attr]
                ledger.log.consistency_proof(demo.witnesses[1].latest.checkpoint.size),
            )
        ]
    )  # type: ignore[union-attr]
    bundle = export_bundle(ledger, index, cp, policy)
    assert len(bundle["key_records"]) == 2
    failed = _failed(bundle)
    assert failed == {"entry.key_valid"}
    detail = {c.name: c.detail for c in verify_bundle(bundle).checks}["entry.key_valid"]
    assert "revoked at index" in detail
    # Dropping the revocation record hides it from an offline verifier (documented limit) —
    # but a forged registration record cannot be slipped in instead.
    forged = copy.deepcopy(bundle)
    forged["key_records"][0]["data"]["body"]["role"] = "lender"
    assert "keys.records" in _failed(forged)


def test_key_record_missing_or_foreign(good: dict[str, Any]) -> None:
    b = copy.deepcopy(good)
    b["key_records"] = []
    assert _failed(b) == {"entry.key_valid", "entry.signature"}
    b = copy.deepcopy(good)
    b["key_records"][0]["proof"] = []
    assert "keys.records" in _failed(b)
    b = copy.deepcopy(good)
    b["key_records"].append(copy.deepcopy(good["entry"]))  # not a membership entry
    assert "keys.records" in _failed(b)


def test_personal_data_in_body_fails_well_formedness(good: dict[str, Any]) -> None:
    b = copy.deepcopy(good)
    b["entry"]["data"]["body"]["farmer_name"] = "王小明"
    failed = _failed(b)
    assert "entry.well_formed" in failed and "entry.inclusion" in failed


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("checkpoint"),
        lambda b: b.update(format="other/v1"),
        lambda b: b.update(operator_key="nonsense"),
        lambda b: b.update(policy={"threshold": 5, "witnesses": b["policy"]["witnesses"]}),
        lambda b: b["entry"].update(proof="AAAA"),
        lambda b: b["entry"].update(proof=["!!"]),
        lambda b: b["entry"].update(index=-1),
        lambda b: b.update(key_records=None),
    ],
)
def test_structurally_broken_bundles_are_not_well_formed(good: dict[str, Any], mutate: Any) -> None:
    b = copy.deepcopy(good)
    mutate(b)
    report = verify_bundle(b)
    assert not report.well_formed and not report.valid
    assert [c.name for c in report.checks] == ["bundle.format"]
    assert not verify_bundle([1, 2]).well_formed


def test_export_refuses_uncovered_or_foreign_checkpoints() -> None:
    demo = build_demo_chain()
    first = demo.checkpoints[0]
    with pytest.raises(ValidationError, match="not covered"):
        export_bundle(demo.ledger, first.checkpoint.size, first, demo.policy)
    fake = sign_checkpoint(Checkpoint(demo.ledger.origin, 5, b"\x00" * 32), demo.ledger.operator)
    with pytest.raises(ValidationError, match="does not match"):
        export_bundle(demo.ledger, 1, fake, demo.policy)
