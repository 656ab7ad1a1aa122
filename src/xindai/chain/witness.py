"""Witnesses, quorum policies and equivocation evidence.

* ``Witness.add_checkpoint(note, old_size, proof)`` follows the add-checkpoint semantics of
  c2sp.org/tlog-witness: the checkpoint must be signed by the log's operator key; ``old_size``
  must be the size the witness last cosigned (else ``ConflictError`` — the caller refreshes and
  retries); the consistency proof from that checkpoint to the new one must verify; only then does
  the witness cosign (``cosignature/v1``) and remember the new checkpoint. Its first checkpoint
  is trust-on-first-use (``old_size`` 0, empty proof). A checkpoint of the same size is cosigned
  again only if its root is the same.
* Two operator-signed checkpoints of the same origin with the same size and different roots, or
  a pair whose consistency proof fails, is **equivocation**: the witness refuses to cosign, keeps
  both signed notes in an ``Equivocation`` record (``Witness.evidence``) and raises
  ``EquivocationError`` carrying it. The record is self-contained evidence for the same-size case
  (two valid operator signatures over contradictory statements).
* ``QuorumPolicy(threshold=k, witnesses=(...))`` is "k of n" over named cosigner keys; a
  checkpoint satisfies it when at least k distinct listed witnesses have valid cosignatures on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xindai.chain.checkpoint import (
    Cosigner,
    SignedCheckpoint,
    open_checkpoint,
    verify_cosignature,
)
from xindai.chain.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    ProofError,
    consistency_ranges,
    verify_consistency,
)
from xindai.chain.note import SIG_COSIGNATURE_V1, NoteSignature, VerifierKey, parse_vkey
from xindai.kernel import Clock, ConflictError, ValidationError

SAME_SIZE = "same-size-different-root"
INCONSISTENT = "inconsistent"


@dataclass(frozen=True)
class QuorumPolicy:
    """k-of-n cosigning: ``threshold`` distinct ``witnesses`` must cosign a checkpoint."""

    threshold: int
    witnesses: tuple[VerifierKey, ...]

    def __post_init__(self) -> None:
        if any(w.sig_type != SIG_COSIGNATURE_V1 for w in self.witnesses):
            raise ValidationError("policy.witnesses", "witness keys are cosignature (0x04) keys")
        if len({w.name for w in self.witnesses}) != len(self.witnesses):
            raise ValidationError("policy.witnesses", "witness names must be distinct")
        if len({w.public_key for w in self.witnesses}) != len(self.witnesses):
            raise ValidationError("policy.witnesses", "witness keys must be distinct")
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= len(self.witnesses):
            raise ValidationError("policy.threshold", "must be between 1 and the witness count")

    def cosigners(self, signed: SignedCheckpoint) -> list[str]:
        """Names of listed witnesses with a valid cosignature on ``signed``."""
        text = signed.note.text
        names = []
        for w in self.witnesses:
            if any(verify_cosignature(s, text, w) is not None for s in signed.note.signatures):
                names.append(w.name)
        return names

    def is_met(self, signed: SignedCheckpoint) -> bool:
        return len(self.cosigners(signed)) >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "witnesses": [w.to_vkey() for w in self.witnesses]}

    @classmethod
    def from_json(cls, obj: object) -> QuorumPolicy:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("witnesses"), list):
            raise ValidationError("policy", "expected {threshold, witnesses: [vkey...]}")
        keys = tuple(
            parse_vkey(v, f"policy.witnesses[{i}]") for i, v in enumerate(obj["witnesses"])
        )
        return cls(obj.get("threshold"), keys)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Equivocation:
    """Evidence that the operator signed two incompatible views of the log."""

    origin: str
    kind: str
    first: str
    second: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {
            "origin": self.origin,
            "kind": self.kind,
            "first": self.first,
            "second": self.second,
            "detail": self.detail,
        }


class EquivocationError(ConflictError):
    """Raised by a witness that caught the operator equivocating; carries the evidence."""

    def __init__(self, evidence: Equivocation) -> None:
        self.evidence = evidence
        super().__init__(f"equivocation ({evidence.kind}): {evidence.detail}")


def find_equivocation(
    a: SignedCheckpoint, b: SignedCheckpoint, proof: Sequence[bytes] | None = None
) -> Equivocation | None:
    """Compare two operator-signed checkpoints; return evidence if they cannot both be true.

    Same size, different roots: always equivocation. Different sizes: equivocation when the
    given consistency proof (from the smaller to the larger) fails; without a proof, None.
    """
    ca, cb = a.checkpoint, b.checkpoint
    if ca.origin != cb.origin:
        raise ValidationError("checkpoint.origin", "checkpoints of different logs")
    if ca.size == cb.size:
        if ca.root != cb.root:
            return Equivocation(
                ca.origin, SAME_SIZE, a.text(), b.text(), f"two roots signed for size {ca.size}"
            )
        return None
    small, large = (a, b) if ca.size < cb.size else (b, a)
    if proof is None or small.checkpoint.size == 0:
        return None
    try:
        verify_consistency(
            small.checkpoint.size,
            large.checkpoint.size,
            list(proof),
            small.checkpoint.root,
            large.checkpoint.root,
        )
    except ProofError as exc:
        return Equivocation(
            ca.origin,
            INCONSISTENT,
            small.text(),
            large.text(),
            f"size {small.checkpoint.size} -> {large.checkpoint.size}: {exc}",
        )
    return None


@dataclass
class Witness:
    """A consortium member's witness: cosigns only checkpoints consistent with what it saw."""

    cosigner: Cosigner
    operator: VerifierKey
    origin: str
    clock: Clock
    latest: SignedCheckpoint | None = None
    evidence: list[Equivocation] = field(default_factory=list)

    @property
    def verifier(self) -> VerifierKey:
        return self.cosigner.verifier

    def add_checkpoint(
        self, note: str | bytes, old_size: int, proof: Sequence[bytes] = ()
    ) -> NoteSignature:
        """Verify and cosign ``note``; see the module docstring for the rules."""
        signed = open_checkpoint(note, self.operator, self.origin)
        cp = signed.checkpoint
        if isinstance(old_size, bool) or not isinstance(old_size, int) or old_size < 0:
            raise ValidationError("old_size", "must be a non-negative integer")
        if old_size > cp.size:
            raise ValidationError("old_size", "larger than the checkpoint size")
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            raise ValidationError("checkpoint.root", "an empty tree has the empty root")
        latest = self.latest
        known_size = 0 if latest is None else latest.checkpoint.size
        if old_size != known_size:
            raise ConflictError(f"witness last cosigned size {known_size}, not {old_size}")
        if cp.size > known_size > 0:
            # A proof of the wrong shape is a bad request, not evidence against the operator.
            expected = len(consistency_ranges(known_size, cp.size))
            if len(proof) != expected or any(len(p) != HASH_SIZE for p in proof):
                raise ValidationError("proof", f"expected {expected} hashes of {HASH_SIZE} bytes")
        elif proof:
            raise ValidationError("proof", "no consistency proof expected here")
        if latest is not None:
            found = find_equivocation(latest, signed, proof)
            if found is not None:
                self.evidence.append(found)
                raise EquivocationError(found)
        timestamp = int(self.clock.now().timestamp())
        cosignature = self.cosigner.cosign(signed.note.text, timestamp)
        self.latest = signed
        return cosignature
