"""Consortium-chain use cases: submit entries, sign and cosign checkpoints, serve proofs, run the
hosted witnesses' add-checkpoint, export bundles and audit — over a persistence port.

Invariants:

* The log in the store is the only source of truth; the ledger (member registry, subject index)
  is rebuilt from it on open and refreshed before every read, so several processes can serve one
  log and a restart loses nothing.
* Nothing is appended unless the whole batch parses and verifies (``ChainLedger.submit``); bad
  JSON, a bad signature, an unknown or revoked key or a malformed envelope is a
  ``ValidationError`` naming the entry and the field.
* A checkpoint counts for a use case ("included in a quorum-cosigned checkpoint") only if the
  operator's signature and at least *k* of the policy's witness cosignatures verify on it, and its
  root equals the log's root at its size.
* Hosted witnesses follow c2sp.org/tlog-witness: the witness state moves forward only through a
  compare-and-set, and equivocation evidence is stored before the request is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from xindai.chain.bundle import export_bundle
from xindai.chain.checkpoint import (
    Cosigner,
    SignedCheckpoint,
    open_checkpoint,
    parse_checkpoint,
)
from xindai.chain.entries import Entry, loads_strict, parse_entry
from xindai.chain.keys import SigningKey
from xindai.chain.ledger import ChainLedger, audit_ledger
from xindai.chain.log import AuditResult, MerkleLog
from xindai.chain.merkle import HASH_SIZE, ProofError, leaf_hash, verify_inclusion
from xindai.chain.note import NoteSigner, parse_note
from xindai.chain.tiles import TileStore
from xindai.chain.witness import SAME_SIZE, Equivocation, EquivocationError, QuorumPolicy, Witness
from xindai.kernel import Clock, ConflictError, DomainError, NotFoundError, ValidationError

#: Batches larger than this are refused: a member splits them (bounded request work).
MAX_BATCH = 10_000
DEMO_ORIGIN = "xindai.example/consortium-log"


class ChainRepository(Protocol):
    """Port: where the log, its checkpoints, cosignatures and witness state live."""

    log_id: str

    def tiles(self) -> TileStore: ...
    def save_checkpoint(self, size: int, root: bytes, note: str, signed_at: int) -> str: ...
    def checkpoint(self, size: int) -> tuple[bytes, str] | None: ...
    def checkpoints(self) -> list[tuple[int, bytes, str]]: ...
    def add_cosignature(self, size: int, witness: str, line: str, cosigned_at: int) -> None: ...
    def cosignatures(self, size: int) -> list[str]: ...
    def witness_state(self, witness: str) -> str | None: ...
    def advance_witness(self, witness: str, old_size: int | None, size: int, note: str) -> None: ...
    def add_equivocation(self, witness: str, evidence: Equivocation, detected_at: int) -> None: ...
    def equivocations(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ChainKeys:
    """The keys the platform holds: the log operator's, the witnesses it hosts, the quorum, and
    the lender's member key (the lender signs release decisions and fund movements)."""

    operator: NoteSigner
    witnesses: tuple[Cosigner, ...]
    threshold: int
    lender_member: str
    lender_key: SigningKey

    @property
    def policy(self) -> QuorumPolicy:
        return QuorumPolicy(self.threshold, tuple(w.verifier for w in self.witnesses))

    @classmethod
    def demo(cls) -> ChainKeys:
        """Fixed demo keys (same as ``xindai chain demo-bundle``). Never for real money."""
        from xindai.chain.demo import demo_key

        members = ("coop.hebei-01", "inspector.agri-01", "lender.xindai")
        return cls(
            NoteSigner(DEMO_ORIGIN, demo_key("operator")),
            tuple(Cosigner(f"{m}/witness", demo_key(f"{m}/witness")) for m in members),
            2,
            "lender.xindai",
            demo_key("lender.xindai"),
        )

    @classmethod
    def from_json(cls, obj: object) -> ChainKeys:
        """From ``{"origin", "operator_seed", "witnesses": [{"name", "seed"}], "threshold",
        "lender": {"member", "seed"}}`` (seeds: 64 hex digits)."""
        if not isinstance(obj, Mapping):
            raise ValidationError("chain_keys", "must be a JSON object")

        def seed(value: object, field: str) -> SigningKey:
            try:
                return SigningKey(bytes.fromhex(str(value)))
            except ValueError:
                raise ValidationError(field, "must be 64 hex digits") from None

        witnesses = obj.get("witnesses")
        lender = obj.get("lender")
        if not isinstance(witnesses, list) or not isinstance(lender, Mapping):
            raise ValidationError("chain_keys", "needs witnesses (a list) and lender (an object)")
        return cls(
            NoteSigner(str(obj.get("origin")), seed(obj.get("operator_seed"), "operator_seed")),
            tuple(
                Cosigner(str(w.get("name")), seed(w.get("seed"), f"witnesses[{i}].seed"))
                for i, w in enumerate(witnesses)
                if isinstance(w, Mapping)
            ),
            int(obj.get("threshold", 1)),  # type: ignore[call-overload]
            str(lender.get("member")),
            seed(lender.get("seed"), "lender.seed"),
        )


class WitnessRefusal(DomainError):
    """A hosted witness refuses an add-checkpoint request; ``status`` is the C2SP status code.

    400 malformed request or old size above the checkpoint size; 403 not signed by the log's key;
    404 unknown witness or log origin; 409 ``old`` is not the size last cosigned (``known_size``)
    or the same size was signed with another root; 422 the consistency proof does not verify.
    """

    code = "witness_refused"

    def __init__(self, status: int, message: str, known_size: int | None = None) -> None:
        self.status = status
        self.known_size = known_size
        super().__init__(message)


def _b64(items: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(x).decode("ascii") for x in items]


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """Parse a c2sp.org/tlog-witness add-checkpoint body: ``old <size>``, proof lines (base64),
    an empty line, then the checkpoint note. Raises ``WitnessRefusal(400)`` when malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefusal(400, "expected 'old <size>', proof lines, an empty line, the note")
    lines = head.split("\n")
    first = lines[0].split(" ")
    if len(first) != 2 or first[0] != "old" or not first[1].isdigit():
        raise WitnessRefusal(400, "first line must be 'old <size>'")
    if first[1] != "0" and first[1].startswith("0"):
        raise WitnessRefusal(400, "old size has leading zeros")
    proof: list[bytes] = []
    for n, line in enumerate(lines[1:], start=1):
        try:
            node = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise WitnessRefusal(400, f"proof line {n} is not base64") from None
        if len(node) != HASH_SIZE:
            raise WitnessRefusal(400, f"proof line {n} is not a {HASH_SIZE}-byte hash")
        proof.append(node)
    return int(first[1]), proof, note


class ChainService:
    """The consortium log as the platform runs it: one ledger over a repository."""

    def __init__(self, repo: ChainRepository, keys: ChainKeys, clock: Clock) -> None:
        self.repo = repo
        self.keys = keys
        self.clock = clock

    @functools.cached_property
    def ledger(self) -> ChainLedger:
        """Opened on first use (replaying the log), so ``audit`` can run on a tampered store."""
        return ChainLedger(self.repo.tiles(), self.keys.operator, self.clock)

    def audit(self) -> dict[str, Any]:
        return audit_chain(self.repo, self.keys.operator)

    @property
    def origin(self) -> str:
        return self.keys.operator.name

    @property
    def policy(self) -> QuorumPolicy:
        return self.keys.policy

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    # --- entries -------------------------------------------------------------------------------

    def submit(self, entries: Sequence[Entry]) -> range:
        return self.ledger.submit(entries)

    def submit_json(self, raw: bytes) -> list[int]:
        """Submit one entry object or ``{"entries": [...]}`` from raw JSON; all or nothing."""
        obj = loads_strict(raw)
        items: list[Any]
        if isinstance(obj, Mapping) and set(obj) == {"entries"}:
            if not isinstance(obj["entries"], list) or not obj["entries"]:
                raise ValidationError("entries", "must be a non-empty list of entries")
            items = obj["entries"]
        else:
            items = [obj]
        if len(items) > MAX_BATCH:
            raise ValidationError("entries", f"at most {MAX_BATCH} entries per request")
        parsed = []
        for i, item in enumerate(items):
            try:
                parsed.append(parse_entry(item))
            except ValidationError as exc:
                raise ValidationError(f"entries[{i}].{exc.field}", exc.reason) from exc
        return list(self.ledger.submit(parsed))

    def sign_and_submit(
        self, kind: str, member: str, body: Mapping[str, Any], key: SigningKey
    ) -> int:
        return self.ledger.sign_and_submit(kind, member, dict(body), key)

    def size(self) -> int:
        return self.ledger.refresh()

    def entry(self, index: int) -> dict[str, Any]:
        self.ledger.refresh()
        entry = self.ledger.entry(index)
        return {
            "index": index,
            "leaf_hash": base64.b64encode(leaf_hash(entry.leaf_bytes())).decode("ascii"),
            "entry": entry.to_json(),
        }

    # --- proofs --------------------------------------------------------------------------------

    def _size_arg(self, size: int | None, field: str) -> int:
        current = self.ledger.refresh()
        if size is None:
            return current
        if isinstance(size, bool) or not 0 <= size <= current:
            raise ValidationError(field, f"{size} is outside the log of {current} entries")
        return size

    def inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        size = self._size_arg(size, "size")
        if not 0 <= index < size:
            raise ValidationError("index", f"{index} is not below the tree size {size}")
        log = self.ledger.log
        return {
            "index": index,
            "size": size,
            "leaf_hash": base64.b64encode(leaf_hash(log.entry(index))).decode("ascii"),
            "root": base64.b64encode(log.root(size)).decode("ascii"),
            "proof": _b64(log.inclusion_proof(index, size)),
        }

    def consistency(self, old: int, size: int | None = None) -> dict[str, Any]:
        size = self._size_arg(size, "size")
        if not 1 <= old <= size:
            raise ValidationError("old", f"must be between 1 and the tree size {size}")
        log = self.ledger.log
        return {
            "old": old,
            "size": size,
            "old_root": base64.b64encode(log.root(old)).decode("ascii"),
            "root": base64.b64encode(log.root(size)).decode("ascii"),
            "proof": _b64(log.consistency_proof(old, size)),
        }

    # --- checkpoints ---------------------------------------------------------------------------

    def sign_checkpoint(self) -> SignedCheckpoint:
        """The operator signs the current tree head (stored; one signature per size)."""
        self.ledger.refresh()
        signed = self.ledger.checkpoint()
        cp = signed.checkpoint
        note = self.repo.save_checkpoint(cp.size, cp.root, signed.text(), self._now())
        return open_checkpoint(note, self.ledger.operator_key, self.origin)

    def stored_checkpoint(self, size: int) -> SignedCheckpoint:
        """The stored checkpoint of ``size`` with every cosignature collected for it."""
        found = self.repo.checkpoint(size)
        if found is None:
            raise NotFoundError(f"no checkpoint of size {size} was signed")
        signed = open_checkpoint(found[1], self.ledger.operator_key, self.origin)
        # a stored line is parsed as the signature block of the same note text
        text = signed.checkpoint.text()
        cosigs = [
            parse_note(text + "\n" + line).signatures[0] for line in self.repo.cosignatures(size)
        ]
        return signed.with_cosignatures(cosigs)

    def latest_cosigned(self, min_size: int = 0) -> SignedCheckpoint | None:
        """The largest stored checkpoint meeting the quorum, if it covers ``min_size`` entries."""
        self.ledger.refresh()
        for size, root, _ in reversed(self.repo.checkpoints()):
            if size < min_size:
                return None
            signed = self.stored_checkpoint(size)
            if self.policy.is_met(signed) and self.ledger.log.root(size) == root:
                return signed
        return None

    def cosign(self) -> SignedCheckpoint:
        """Sign the current tree head and have every hosted witness cosign it (C2SP semantics:
        each gets the consistency proof from the size it last cosigned)."""
        signed = self.sign_checkpoint()
        size = signed.checkpoint.size
        for cosigner in self.keys.witnesses:
            state = self.repo.witness_state(cosigner.name)
            old = 0 if state is None else parse_checkpoint(parse_note(state).text).size
            proof = self.ledger.log.consistency_proof(old, size) if 0 < old < size else []
            body = f"old {old}\n" + "".join(p + "\n" for p in _b64(proof)) + "\n" + signed.text()
            self.witness_add_checkpoint(cosigner.name, body.encode())
        return self.stored_checkpoint(size)

    def witness_add_checkpoint(self, witness: str, body: bytes) -> str:
        """A hosted witness's add-checkpoint: the cosignature line(s), or ``WitnessRefusal``."""
        cosigner = next((w for w in self.keys.witnesses if w.name == witness), None)
        if cosigner is None:
            raise WitnessRefusal(404, f"no witness {witness!r} is hosted here")
        old_size, proof, note = parse_add_checkpoint(body)
        if note.split("\n", 1)[0] != self.origin:
            raise WitnessRefusal(404, "unknown log origin")
        try:
            incoming = open_checkpoint(note, self.ledger.operator_key, self.origin)
        except ValidationError as exc:
            raise WitnessRefusal(403, f"checkpoint not signed by the log's key: {exc}") from None
        if old_size > incoming.checkpoint.size:
            raise WitnessRefusal(400, "old size is larger than the checkpoint size")
        state = self.repo.witness_state(witness)
        latest = None if state is None else open_checkpoint(state, self.ledger.operator_key)
        w = Witness(cosigner, self.ledger.operator_key, self.origin, self.clock, latest)
        known = None if latest is None else latest.checkpoint.size
        try:
            cosignature = w.add_checkpoint(note, old_size, proof)
        except EquivocationError as exc:
            self.repo.add_equivocation(witness, exc.evidence, self._now())
            status = 409 if exc.evidence.kind == SAME_SIZE else 422
            raise WitnessRefusal(status, str(exc), known) from None
        except ConflictError as exc:
            raise WitnessRefusal(409, str(exc), known or 0) from None
        except ValidationError as exc:
            raise WitnessRefusal(422, str(exc)) from None
        size = incoming.checkpoint.size
        if known != size:
            self.repo.advance_witness(witness, known, size, incoming.note.format())
        line = cosignature.line()
        if self.repo.checkpoint(size) is not None:
            self.repo.add_cosignature(size, witness, line, self._now())
        return line

    # --- bundles and audit ---------------------------------------------------------------------

    def export_bundle(self, index: int) -> dict[str, Any]:
        """A proof bundle for entry ``index`` against the latest quorum-cosigned checkpoint."""
        self.ledger.refresh()
        signed = self.latest_cosigned(index + 1)
        if signed is None:
            raise ConflictError(
                f"no quorum-cosigned checkpoint covers entry {index} yet: run `xindai chain cosign`"
            )
        return export_bundle(self.ledger, index, signed, self.policy)

    def evidence_included(self, indices: Sequence[int]) -> SignedCheckpoint | None:
        """The latest quorum-cosigned checkpoint if it includes every index, proofs verified."""
        if not indices:
            return None
        signed = self.latest_cosigned(max(indices) + 1)
        if signed is None:
            return None
        cp = signed.checkpoint
        log = self.ledger.log
        for i in indices:
            try:
                verify_inclusion(
                    leaf_hash(log.entry(i)), i, cp.size, log.inclusion_proof(i, cp.size), cp.root
                )
            except ProofError:
                return None
        return signed


def audit_chain(repo: ChainRepository, operator: NoteSigner) -> dict[str, Any]:
    """The auditor's replay of a stored log: first bad index, plus every stored checkpoint's root
    against the recomputed tree (catches a rewrite that recomputed all hashes consistently)."""
    result: AuditResult = audit_ledger(repo.tiles(), operator.key.public_key)
    report: dict[str, Any] = {
        "size": result.size,
        "ok": result.ok,
        "first_bad_index": result.first_bad_index,
        "detail": result.detail,
        "checkpoints": [],
    }
    if not result.ok:
        return report
    log = MerkleLog(repo.tiles())
    for size, root, note in repo.checkpoints():
        problem = None
        try:
            open_checkpoint(note, operator.verifier, operator.name)
        except ValidationError as exc:
            problem = f"operator signature: {exc}"
        if problem is None and (size > result.size or log.root(size) != root):
            problem = "root differs from the recomputed log"
        report["checkpoints"].append(
            {"size": size, "ok": problem is None, "detail": problem or "ok"}
        )
        if problem is not None:
            report["ok"] = False
            report["detail"] = f"checkpoint of size {size}: {problem}"
    return report
