"""Offline proof bundles: everything an auditor or borrower needs to check one entry, in one JSON.

A bundle (``format`` = ``xindai-chain-bundle/v1``) holds:

* ``origin`` and ``operator_key`` (vkey of the operator's note key);
* ``policy``: ``{"threshold": k, "witnesses": [cosigner vkeys]}``;
* ``checkpoint``: the signed note text with the operator signature and witness cosignatures;
* ``entry``: ``{"index", "data" (the entry JSON), "proof" ([base64 hashes])}``;
* ``key_records``: the membership entries (registration, and revocation if any) of the key that
  signed the entry, each with its own inclusion proof into the same checkpoint.

``verify_bundle`` needs no server and no database. It runs every check and reports each one:

``checkpoint.operator_signature``, ``checkpoint.quorum``, ``entry.well_formed``,
``entry.inclusion``, ``keys.records``, ``entry.key_valid``, ``entry.signature``.

Trust: the operator key and the witness policy are trust anchors. An auditor should pin them
(``operator_key=`` / ``policy=``); otherwise the bundle's own copies are used and the report says
so. A Merkle log cannot prove that something is *absent*, so a revocation the exporter left out is
only caught by an auditor replaying the whole log (``MerkleLog.audit`` plus registry replay).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xindai.chain.checkpoint import SignedCheckpoint, open_checkpoint
from xindai.chain.entries import OPERATOR_MEMBER, Entry, parse_entry
from xindai.chain.ledger import ChainLedger
from xindai.chain.members import REGISTER_KIND, REVOKE_KIND, MemberRegistry
from xindai.chain.merkle import ProofError, leaf_hash, verify_inclusion
from xindai.chain.note import SIG_ED25519, VerifierKey, parse_vkey
from xindai.chain.witness import QuorumPolicy
from xindai.kernel import ValidationError

BUNDLE_FORMAT = "xindai-chain-bundle/v1"
CHECK_NAMES = (
    "checkpoint.operator_signature",
    "checkpoint.quorum",
    "entry.well_formed",
    "entry.inclusion",
    "keys.records",
    "entry.key_valid",
    "entry.signature",
)


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(x).decode("ascii") for x in items]


def export_bundle(
    ledger: ChainLedger, index: int, checkpoint: SignedCheckpoint, policy: QuorumPolicy
) -> dict[str, Any]:
    """The proof bundle for entry ``index`` against ``checkpoint`` (which must cover it)."""
    cp = checkpoint.checkpoint
    if cp.origin != ledger.origin:
        raise ValidationError("checkpoint.origin", "checkpoint of another log")
    if not 0 <= index < cp.size <= ledger.log.size():
        raise ValidationError("index", f"entry {index} is not covered by checkpoint size {cp.size}")
    if ledger.log.root(cp.size) != cp.root:
        raise ValidationError("checkpoint.root", "does not match this log at that size")
    entry = ledger.entry(index)

    def item(i: int) -> dict[str, Any]:
        return {
            "index": i,
            "data": ledger.entry(i).to_json(),
            "proof": _b64(ledger.log.inclusion_proof(i, cp.size)),
        }

    records = [i for i in ledger.key_records_for(entry) if i < cp.size]
    return {
        "format": BUNDLE_FORMAT,
        "origin": cp.origin,
        "operator_key": ledger.operator_key.to_vkey(),
        "policy": policy.to_json(),
        "checkpoint": checkpoint.text(),
        "entry": item(index),
        "key_records": [item(i) for i in records],
    }


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class BundleReport:
    """Every check of a bundle, its verdict and where trust came from."""

    checks: tuple[Check, ...]
    trust: str = ""
    well_formed: bool = True
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.well_formed and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "well_formed": self.well_formed,
            "trust": self.trust,
            "summary": self.summary,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class _Item:
    index: int
    data: Mapping[str, Any]
    proof: list[bytes]


@dataclass(frozen=True)
class _Parsed:
    origin: str
    operator: VerifierKey
    policy: QuorumPolicy
    checkpoint: str
    entry: _Item
    key_records: list[_Item]


def _item(obj: object, field_name: str) -> _Item:
    if not isinstance(obj, Mapping):
        raise ValidationError(field_name, "must be an object with index, data, proof")
    index, data, proof = obj.get("index"), obj.get("data"), obj.get("proof")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValidationError(f"{field_name}.index", "must be a non-negative integer")
    if not isinstance(data, Mapping):
        raise ValidationError(f"{field_name}.data", "must be the entry JSON object")
    if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
        raise ValidationError(f"{field_name}.proof", "must be a list of base64 strings")
    try:
        hashes = [base64.b64decode(p, validate=True) for p in proof]
    except (binascii.Error, ValueError):
        raise ValidationError(f"{field_name}.proof", "not base64") from None
    return _Item(index, data, hashes)


def parse_bundle(obj: object) -> _Parsed:
    """Structural parse of a bundle; ValidationError when it is not a bundle at all."""
    if not isinstance(obj, Mapping):
        raise ValidationError("bundle", "must be a JSON object")
    if obj.get("format") != BUNDLE_FORMAT:
        raise ValidationError("bundle.format", f"expected {BUNDLE_FORMAT!r}")
    origin, checkpoint = obj.get("origin"), obj.get("checkpoint")
    if not isinstance(origin, str) or not origin:
        raise ValidationError("bundle.origin", "must be a non-empty string")
    if not isinstance(checkpoint, str):
        raise ValidationError("bundle.checkpoint", "must be the signed note text")
    operator = parse_vkey(obj.get("operator_key"), "bundle.operator_key")
    if operator.sig_type != SIG_ED25519:
        raise ValidationError("bundle.operator_key", "must be a note-signing (0x01) key")
    policy = QuorumPolicy.from_json(obj.get("policy"))
    records = obj.get("key_records")
    if not isinstance(records, list):
        raise ValidationError("bundle.key_records", "must be a list")
    return _Parsed(
        origin,
        operator,
        policy,
        checkpoint,
        _item(obj.get("entry"), "bundle.entry"),
        [_item(r, f"bundle.key_records[{i}]") for i, r in enumerate(records)],
    )


def _included(item: _Item, entry: Entry, signed: SignedCheckpoint) -> None:
    cp = signed.checkpoint
    verify_inclusion(leaf_hash(entry.leaf_bytes()), item.index, cp.size, item.proof, cp.root)


def verify_bundle(
    bundle: object,
    *,
    operator_key: VerifierKey | None = None,
    policy: QuorumPolicy | None = None,
) -> BundleReport:
    """Check a bundle offline; every check is reported, the bundle is valid if all pass."""
    try:
        parsed = parse_bundle(bundle)
    except ValidationError as exc:
        return BundleReport((Check("bundle.format", False, str(exc)),), well_formed=False)

    operator = operator_key or parsed.operator
    quorum = policy or parsed.policy
    anchors = {"operator key": operator_key is not None, "witness policy": policy is not None}
    pinned = [name for name, is_pinned in anchors.items() if is_pinned]
    unpinned = [name for name, is_pinned in anchors.items() if not is_pinned]
    parts = []
    if pinned:
        parts.append("pinned by the verifier: " + ", ".join(pinned))
    if unpinned:
        parts.append(
            "taken from the bundle itself (pin for an independent check): " + ", ".join(unpinned)
        )
    trust = "; ".join(parts)
    checks: dict[str, Check] = {}

    def record(name: str, ok: bool, detail: str) -> None:
        checks[name] = Check(name, ok, detail)

    # 1. The operator signed the checkpoint.
    signed: SignedCheckpoint | None = None
    try:
        signed = open_checkpoint(parsed.checkpoint, operator, parsed.origin)
        cp = signed.checkpoint
        record(
            "checkpoint.operator_signature",
            True,
            f"{cp.origin} size {cp.size} signed by {operator.name}",
        )
    except ValidationError as exc:
        record("checkpoint.operator_signature", False, str(exc))

    # 2. A quorum of witnesses cosigned it.
    if signed is None:
        record("checkpoint.quorum", False, "no verified checkpoint to count cosignatures on")
    else:
        names = quorum.cosigners(signed)
        ok = len(names) >= quorum.threshold
        record(
            "checkpoint.quorum",
            ok,
            f"{len(names)} of {len(quorum.witnesses)} witnesses cosigned "
            f"({', '.join(names) or 'none'}); {quorum.threshold} required",
        )

    # 3. The entry is well formed (fields, canonical JSON, no personal data).
    entry: Entry | None = None
    try:
        entry = parse_entry(parsed.entry.data)
        record("entry.well_formed", True, f"{entry.kind} by {entry.member}")
    except ValidationError as exc:
        record("entry.well_formed", False, str(exc))

    # 4. The entry is included at its index under the checkpoint's root.
    if entry is None or signed is None:
        record("entry.inclusion", False, "needs a well-formed entry and a verified checkpoint")
    else:
        try:
            _included(parsed.entry, entry, signed)
            record(
                "entry.inclusion", True, f"leaf {parsed.entry.index} of {signed.checkpoint.size}"
            )
        except ProofError as exc:
            record("entry.inclusion", False, str(exc))

    # 5. The key records are included, operator-signed membership entries, replayed in order.
    registry = MemberRegistry(operator.public_key)
    problems: list[str] = []
    entry_index = parsed.entry.index
    for n, item in sorted(enumerate(parsed.key_records), key=lambda x: x[1].index):
        try:
            rec = parse_entry(item.data)
            if rec.kind not in (REGISTER_KIND, REVOKE_KIND):
                raise ValidationError("kind", f"{rec.kind} is not a membership entry")
            if signed is None:
                raise ValidationError("checkpoint", "not verified")
            _included(item, rec, signed)
            if item.index >= entry_index and rec.kind == REGISTER_KIND:
                raise ValidationError("index", "registration does not precede the entry")
            registry.accept(rec, item.index)
        except (ValidationError, ProofError) as exc:
            problems.append(f"key_records[{n}] (index {item.index}): {exc}")
    if problems:
        record("keys.records", False, "; ".join(problems))
    else:
        record("keys.records", True, f"{len(parsed.key_records)} membership record(s) verified")

    # 6 and 7. The signing key was valid at the entry's index, and it signed the entry.
    if entry is None:
        record("entry.key_valid", False, "no well-formed entry")
        record("entry.signature", False, "no well-formed entry")
    else:
        public_key: bytes | None = None
        try:
            public_key = registry.signer_key(entry, entry_index)
            who = "operator" if entry.member == OPERATOR_MEMBER else entry.member
            record(
                "entry.key_valid", True, f"key {entry.key} of {who} valid at index {entry_index}"
            )
        except ValidationError as exc:
            record("entry.key_valid", False, exc.reason)
            known = registry.record(entry.key)
            public_key = known.public_key if known is not None else None
        if public_key is None:
            record("entry.signature", False, f"no known public key for key {entry.key}")
        elif entry.has_valid_signature(public_key):
            record("entry.signature", True, f"Ed25519 signature by key {entry.key} verifies")
        else:
            record("entry.signature", False, "Ed25519 signature does not verify")

    summary: dict[str, Any] = {"index": entry_index}
    if signed is not None:
        summary.update(origin=signed.checkpoint.origin, size=signed.checkpoint.size)
    if entry is not None:
        summary.update(kind=entry.kind, member=entry.member, body=dict(entry.body))
    return BundleReport(tuple(checks[n] for n in CHECK_NAMES), trust=trust, summary=summary)
