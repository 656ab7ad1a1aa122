"""The consortium ledger: a Merkle log of signed entries, its member registry and checkpoints.

Invariants:

* Every stored leaf is the canonical bytes of an ``Entry`` that, at its index, was signed by a key
  valid at that index (operator key for membership changes) and carries no raw personal data.
* ``submit`` is all-or-nothing: the batch is verified against a copy of the registry, entry by
  entry at the index each would receive; if any fails, a ``ValidationError`` names it
  (``entries[i]...``) and nothing is appended.
* The registry is never stored separately: ``ChainLedger`` rebuilds it by replaying the log, so
  any member holding the entries can recompute who was allowed to sign what.
* Checkpoints are signed by the operator's note key; the origin is the operator key's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from xindai.chain.checkpoint import Checkpoint, SignedCheckpoint, sign_checkpoint
from xindai.chain.entries import OPERATOR_MEMBER, Entry, entry_from_leaf, sign_entry
from xindai.chain.keys import SigningKey
from xindai.chain.log import MerkleLog
from xindai.chain.members import (
    REGISTER_KIND,
    REVOKE_KIND,
    KeyRecord,
    MemberRegistry,
    Role,
    register_body,
    revoke_body,
)
from xindai.chain.note import NoteSigner, VerifierKey
from xindai.chain.tiles import TileStore
from xindai.kernel import Clock, InvariantViolation, NotFoundError, ValidationError


class ChainLedger:
    """Append signed entries, keep the member registry, sign checkpoints and serve proofs."""

    def __init__(self, store: TileStore, operator: NoteSigner, clock: Clock) -> None:
        self.log = MerkleLog(store)
        self.operator = operator
        self.clock = clock
        self.registry = MemberRegistry(operator.key.public_key)
        self._replay()

    @property
    def origin(self) -> str:
        return self.operator.name

    @property
    def operator_key(self) -> VerifierKey:
        return self.operator.verifier

    def _replay(self) -> None:
        size = self.log.size()
        for start in range(0, size, 4096):
            for offset, data in enumerate(self.log.entries(start, min(size, start + 4096))):
                try:
                    self.registry.accept(entry_from_leaf(data), start + offset)
                except ValidationError as exc:
                    raise InvariantViolation(
                        f"stored entry {start + offset} invalid: {exc}"
                    ) from exc

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def submit(self, entries: Sequence[Entry]) -> range:
        """Verify and append a batch of member-signed entries atomically."""
        staging = self.registry.copy()
        base = self.log.size()
        for j, entry in enumerate(entries):
            if not isinstance(entry, Entry):
                raise ValidationError(f"entries[{j}]", "not an Entry")
            try:
                staging.accept(entry, base + j)
            except ValidationError as exc:
                raise ValidationError(f"entries[{j}].{exc.field}", exc.reason) from exc
        indices = self.log.append([e.leaf_bytes() for e in entries])
        self.registry = staging
        return indices

    def _operator_entry(self, kind: str, body: dict[str, object]) -> Entry:
        return sign_entry(kind, OPERATOR_MEMBER, body, self._now(), self.operator.key)

    def register_member(self, member: str, role: Role | str, public_key: bytes) -> int:
        """Append an operator-signed registration; the key is valid for later indices."""
        entry = self._operator_entry(REGISTER_KIND, register_body(member, role, public_key))
        return self.submit([entry])[0]

    def revoke_key(self, member: str, fingerprint: str, reason: str) -> int:
        """Append an operator-signed revocation of one member key."""
        entry = self._operator_entry(REVOKE_KIND, revoke_body(member, fingerprint, reason))
        return self.submit([entry])[0]

    def sign_and_submit(
        self, kind: str, member: str, body: dict[str, object], key: SigningKey
    ) -> int:
        """Convenience for tests and demos: a member signs ``body`` now and submits it."""
        return self.submit([sign_entry(kind, member, body, self._now(), key)])[0]

    def entry(self, index: int) -> Entry:
        if not 0 <= index < self.log.size():
            raise NotFoundError(f"no entry {index} in a log of {self.log.size()}")
        return entry_from_leaf(self.log.entry(index))

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """An operator-signed checkpoint of the log at ``size`` (default: now)."""
        size = self.log.size() if size is None else size
        return sign_checkpoint(Checkpoint(self.origin, size, self.log.root(size)), self.operator)

    def key_records_for(self, entry: Entry) -> list[int]:
        """Indices of the membership entries that make ``entry``'s key valid or revoked."""
        if entry.member == OPERATOR_MEMBER:
            return []
        record: KeyRecord | None = self.registry.record(entry.key)
        if record is None:
            return []
        indices = [record.registered_at]
        if record.revoked_at is not None:
            indices.append(record.revoked_at)
        return indices
