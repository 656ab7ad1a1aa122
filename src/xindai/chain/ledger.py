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
* Several processes may append to one store: ``refresh`` replays only the entries other writers
  appended since this ledger last looked, and ``submit`` retries once after a refresh when the
  store moved under it (the store's ``ConflictError`` guarantees no position is written twice).
* ``subject_index`` maps ``line:<id>`` / ``loan:<id>`` (from an entry body's ``line`` and ``loan``
  fields) to entry indices, so use cases find a credit line's or a loan's entries without a scan;
  like the registry it is derived from the log and rebuilt on open.
* ``audit_ledger`` is the auditor's replay: tiles against entries, then every signature against
  the registry as of its index; it names the first bad index.
"""

from __future__ import annotations

from collections.abc import Sequence

from xindai.chain.checkpoint import Checkpoint, SignedCheckpoint, sign_checkpoint
from xindai.chain.entries import OPERATOR_MEMBER, Entry, entry_from_leaf, sign_entry
from xindai.chain.keys import SigningKey
from xindai.chain.log import AuditResult, MerkleLog
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
from xindai.kernel import (
    Clock,
    ConflictError,
    InvariantViolation,
    NotFoundError,
    ValidationError,
)

SUBJECT_FIELDS = ("line", "loan")


def entry_subjects(entry: Entry) -> list[str]:
    """The subjects an entry is about: ``line:<id>`` and ``loan:<id>`` from its body."""
    body = entry.body
    return [f"{name}:{body[name]}" for name in SUBJECT_FIELDS if isinstance(body.get(name), str)]


class ChainLedger:
    """Append signed entries, keep the member registry, sign checkpoints and serve proofs."""

    def __init__(self, store: TileStore, operator: NoteSigner, clock: Clock) -> None:
        self.log = MerkleLog(store)
        self.operator = operator
        self.clock = clock
        self.registry = MemberRegistry(operator.key.public_key)
        self.subject_index: dict[str, list[int]] = {}
        self._seen = 0
        self.refresh()

    @property
    def origin(self) -> str:
        return self.operator.name

    @property
    def operator_key(self) -> VerifierKey:
        return self.operator.verifier

    def refresh(self) -> int:
        """Replay entries appended since this ledger last looked (by any writer); return size."""
        size = self.log.size()
        for start in range(self._seen, size, 4096):
            for offset, data in enumerate(self.log.entries(start, min(size, start + 4096))):
                try:
                    entry = entry_from_leaf(data)
                    self.registry.accept(entry, start + offset)
                except ValidationError as exc:
                    raise InvariantViolation(
                        f"stored entry {start + offset} invalid: {exc}"
                    ) from exc
                self._index(entry, start + offset)
        self._seen = max(self._seen, size)
        return size

    def _index(self, entry: Entry, index: int) -> None:
        for subject in entry_subjects(entry):
            self.subject_index.setdefault(subject, []).append(index)

    def indices_about(self, subject: str) -> list[int]:
        """Indices of the entries whose body names ``subject`` (``line:X`` or ``loan:Y``)."""
        return list(self.subject_index.get(subject, ()))

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def submit(self, entries: Sequence[Entry]) -> range:
        """Verify and append a batch of member-signed entries atomically."""
        for attempt in range(2):
            if attempt:
                self.refresh()
            try:
                return self._submit(entries)
            except ConflictError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _submit(self, entries: Sequence[Entry]) -> range:
        if self.log.size() != self._seen:
            self.refresh()
        base = self._seen
        # Most batches hold no membership change: verify them against the live registry and skip
        # the copy; a batch that changes membership is checked against a throw-away copy.
        changes = any(
            isinstance(e, Entry) and e.kind in (REGISTER_KIND, REVOKE_KIND) for e in entries
        )
        staging = self.registry.copy() if changes else self.registry
        check = staging.accept if changes else staging.verify
        for j, entry in enumerate(entries):
            if not isinstance(entry, Entry):
                raise ValidationError(f"entries[{j}]", "not an Entry")
            try:
                check(entry, base + j)
            except ValidationError as exc:
                raise ValidationError(f"entries[{j}].{exc.field}", exc.reason) from exc
        indices = self.log.append([e.leaf_bytes() for e in entries])
        self.registry = staging
        for entry, index in zip(entries, indices, strict=True):
            self._index(entry, index)
        self._seen = indices.stop
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


def audit_ledger(store: TileStore, operator_key: bytes) -> AuditResult:
    """Recompute the whole log, then replay every entry's signature and key validity in order.

    The first pass catches a changed, dropped or reordered entry and forged subtree hashes; the
    second catches a forgery whose hashes were recomputed consistently (the member's signature
    cannot be). Returns the first bad index, or ``first_bad_index=None``.
    """
    log = MerkleLog(store)
    result = log.audit()
    if not result.ok:
        return result
    registry = MemberRegistry(operator_key)
    size = result.size
    for start in range(0, size, 4096):
        for offset, data in enumerate(log.entries(start, min(size, start + 4096))):
            try:
                registry.accept(entry_from_leaf(data), start + offset)
            except ValidationError as exc:
                return AuditResult(size, start + offset, f"entry does not verify: {exc}")
    return AuditResult(size, None, "all entries, subtree hashes and signatures verify")
