"""The consortium's member registry, itself built from log entries.

Membership changes are entries like any other, so every member can replay them:

* ``member.register`` — body ``{"member", "role", "public_key": base64}``, signed by the operator
  (member ``@operator``). Adds a key to a member (a member may hold several keys, for rotation);
  the role is fixed at the member's first registration.
* ``member.revoke`` — body ``{"member", "key": fingerprint, "reason"}``, signed by the operator or
  by one of the member's own currently valid keys (a member can kill a stolen key itself).

Validity: a key registered at log index ``r`` and revoked at index ``v`` signs valid entries at
indices ``i`` with ``r < i <= v`` (``i == v`` is the revocation itself, which the key may sign);
an unrevoked key is valid for every ``i > r``. Public keys are checked with
``validate_public_key`` (canonical, on the curve, prime order — no small-order points); a key can
belong to one member only, and the operator's key can never be a member key.

``MemberRegistry.accept(entry, index)`` first verifies the entry (signer known, key valid at
``index``, signature good) and only then applies membership changes — so a batch can be checked
against a ``copy()`` and thrown away if any entry fails, leaving the real registry untouched.
"""

from __future__ import annotations

import base64
import binascii
import copy as _copy
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from xindai.chain.entries import OPERATOR_MEMBER, Entry, validate_member_name
from xindai.chain.keys import key_fingerprint, validate_public_key
from xindai.kernel import ValidationError

REGISTER_KIND = "member.register"
REVOKE_KIND = "member.revoke"


class Role(StrEnum):
    LENDER = "lender"
    COOPERATIVE = "co-operative"
    BUYER = "buyer"
    LOGISTICS = "logistics"
    INSPECTOR = "inspector"
    AUDITOR = "auditor"
    REGULATOR = "regulator"


def parse_role(value: object, field: str = "role") -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise ValidationError(field, f"must be one of {', '.join(r.value for r in Role)}") from None


@dataclass(frozen=True)
class KeyRecord:
    """One member key and the log positions that bound its validity."""

    member: str
    role: Role
    public_key: bytes
    registered_at: int
    revoked_at: int | None = None

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def is_valid_at(self, index: int) -> bool:
        return self.registered_at < index and (self.revoked_at is None or index <= self.revoked_at)


def register_body(member: str, role: Role | str, public_key: bytes) -> dict[str, Any]:
    """The body of a ``member.register`` entry (validated)."""
    validate_member_name(member, "body.member")
    return {
        "member": member,
        "role": parse_role(role, "body.role").value,
        "public_key": base64.b64encode(validate_public_key(public_key, "body.public_key")).decode(),
    }


def revoke_body(member: str, fingerprint: str, reason: str) -> dict[str, Any]:
    """The body of a ``member.revoke`` entry."""
    validate_member_name(member, "body.member")
    return {"member": member, "key": fingerprint, "reason": reason}


def _decode_key(body: dict[str, Any]) -> bytes:
    raw = body.get("public_key")
    try:
        key = base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
    except (binascii.Error, ValueError):
        key = b""
    return validate_public_key(key, "body.public_key")


class MemberRegistry:
    """Who may sign what, at which log index — rebuilt by replaying membership entries."""

    def __init__(self, operator_key: bytes) -> None:
        self.operator_key = validate_public_key(operator_key, "operator_key")
        self._keys: dict[str, KeyRecord] = {}
        self._roles: dict[str, Role] = {}

    def copy(self) -> MemberRegistry:
        # KeyRecord is frozen and accept() replaces records, never mutates them: copying the two
        # dicts is enough (a deep copy per submitted batch cost more than the signature checks).
        clone = _copy.copy(self)
        clone._keys = dict(self._keys)
        clone._roles = dict(self._roles)
        return clone

    def records(self) -> list[KeyRecord]:
        return sorted(self._keys.values(), key=lambda r: r.registered_at)

    def record(self, fingerprint: str) -> KeyRecord | None:
        return self._keys.get(fingerprint)

    def role_of(self, member: str) -> Role | None:
        return self._roles.get(member)

    def keys_of(self, member: str) -> list[KeyRecord]:
        return [r for r in self.records() if r.member == member]

    def signer_key(self, entry: Entry, index: int) -> bytes:
        """The public key that must have signed ``entry`` at ``index``, or ValidationError."""
        if entry.member == OPERATOR_MEMBER:
            if entry.key != key_fingerprint(self.operator_key):
                raise ValidationError("entry.key", "not the operator's key")
            return self.operator_key
        record = self._keys.get(entry.key)
        if record is None or record.member != entry.member:
            raise ValidationError("entry.key", f"no key {entry.key} registered for {entry.member}")
        if index <= record.registered_at:
            raise ValidationError("entry.key", f"key {entry.key} not yet valid at index {index}")
        if not record.is_valid_at(index):
            raise ValidationError(
                "entry.key", f"key {entry.key} was revoked at index {record.revoked_at}"
            )
        return record.public_key

    def verify(self, entry: Entry, index: int) -> None:
        """Raise ValidationError unless ``entry`` is correctly signed by a key valid at ``index``."""
        public_key = self.signer_key(entry, index)
        if not entry.has_valid_signature(public_key):
            raise ValidationError("entry.sig", "signature does not verify")
        if entry.kind == REGISTER_KIND and entry.member != OPERATOR_MEMBER:
            raise ValidationError("entry.member", "only the operator registers members")
        if entry.kind == REVOKE_KIND:
            self._check_revocation(entry, index)
        elif entry.kind == REGISTER_KIND:
            self._check_registration(entry)

    def _check_registration(self, entry: Entry) -> tuple[str, Role, bytes]:
        body = dict(entry.body)
        if set(body) != {"member", "role", "public_key"}:
            raise ValidationError("body", "member.register needs exactly member, role, public_key")
        member = validate_member_name(body["member"], "body.member")
        if member == OPERATOR_MEMBER:
            raise ValidationError("body.member", "the operator name is reserved")
        role = parse_role(body["role"], "body.role")
        key = _decode_key(body)
        if key == self.operator_key:
            raise ValidationError("body.public_key", "the operator's key cannot be a member key")
        if key_fingerprint(key) in self._keys:
            raise ValidationError("body.public_key", "key already registered")
        known = self._roles.get(member)
        if known is not None and known != role:
            raise ValidationError("body.role", f"{member} is already registered as {known}")
        return member, role, key

    def _check_revocation(self, entry: Entry, index: int) -> KeyRecord:
        body = dict(entry.body)
        target = self._keys.get(str(body.get("key")))
        if target is None or target.member != body.get("member"):
            raise ValidationError("body.key", "no such key for that member")
        if target.revoked_at is not None:
            raise ValidationError("body.key", f"already revoked at index {target.revoked_at}")
        if entry.member not in (OPERATOR_MEMBER, target.member):
            raise ValidationError("entry.member", "only the operator or the member itself revokes")
        return target

    def accept(self, entry: Entry, index: int) -> None:
        """Verify ``entry`` at ``index`` and apply it if it changes membership."""
        self.verify(entry, index)
        if entry.kind == REGISTER_KIND:
            member, role, key = self._check_registration(entry)
            self._roles[member] = role
            self._keys[key_fingerprint(key)] = KeyRecord(member, role, key, index)
        elif entry.kind == REVOKE_KIND:
            target = self._check_revocation(entry, index)
            self._keys[target.fingerprint] = replace(target, revoked_at=index)
