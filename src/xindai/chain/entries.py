"""Signed log entries: an RFC 8785 canonical JSON envelope signed by one member's Ed25519 key.

An entry is the JSON object

    {"v": 1, "kind": "...", "member": "...", "key": "<key fingerprint>", "ts": <unix seconds>,
     "body": {...}, "sig": "<base64 Ed25519 signature>"}

* The signature covers ``ENTRY_DOMAIN ‖ JCS(entry without "sig")``; the domain prefix keeps an
  entry signature from ever being mistaken for a checkpoint or cosignature.
* The leaf stored in the Merkle log is ``JCS(entry)`` — the whole object including ``sig`` — so
  one canonical byte string is hashed, stored, exported and verified everywhere.
* ``key`` names which of the member's registered keys signed (members may rotate keys); the
  registry decides whether that key was valid at the entry's log index.
* ``ts`` is the member's claimed time; the log's order, not ``ts``, is authoritative.
* Bodies are checked with ``validate_no_personal_data`` both when signing and when parsing, so an
  entry carrying raw personal data can be neither produced nor accepted.
* Parsing a stored leaf requires it to be canonical: any re-serialised, reordered or padded byte
  string is refused rather than silently normalised.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xindai.chain.jcs import canonicalize, serialize_string
from xindai.chain.keys import SIGNATURE_SIZE, SigningKey, key_fingerprint, verify_signature
from xindai.chain.privacy import validate_no_personal_data
from xindai.kernel import ValidationError

ENTRY_VERSION = 1
ENTRY_DOMAIN = b"xindai/chain/entry/v1\n"
#: The reserved member name of entries signed by the log operator (membership changes).
OPERATOR_MEMBER = "@operator"
_KIND_RE = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$")
_MEMBER_RE = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,127}$")
_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{16}$")
_FIELDS = {"v", "kind", "member", "key", "ts", "body", "sig"}


def validate_member_name(name: object, field_name: str = "member") -> str:
    """Member names are short lower-case identifiers (``coop.hebei-01``), never personal names."""
    if not isinstance(name, str) or not (_MEMBER_RE.match(name) or name == OPERATOR_MEMBER):
        raise ValidationError(
            field_name, "must be 1-128 of a-z 0-9 . _ : / - starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Entry:
    """One signed entry. Construct with ``sign_entry`` or ``parse_entry``."""

    kind: str
    member: str
    key: str
    ts: int
    body: Mapping[str, Any] = field(hash=False)
    signature: bytes
    #: JCS of ``body`` when the constructor already computed it (validation does): saves a pass.
    canonical_body: str | None = field(default=None, compare=False, hash=False, repr=False)

    def envelope(self) -> dict[str, Any]:
        return {
            "v": ENTRY_VERSION,
            "kind": self.kind,
            "member": self.member,
            "key": self.key,
            "ts": self.ts,
            "body": self.body,
        }

    # Cached: an entry is immutable and its canonical forms are needed several times per append.
    # Both forms are assembled around one canonical body; the member names are ASCII and already
    # in JCS order (body < key < kind < member < sig < ts < v), which the tests cross-check
    # against ``canonicalize`` of the whole object.
    @functools.cached_property
    def _parts(self) -> tuple[str, str]:
        head = (
            '{"body":' + (self.canonical_body or canonicalize(self.body).decode("utf-8"))
            + ',"key":' + serialize_string(self.key)
            + ',"kind":' + serialize_string(self.kind)
            + ',"member":' + serialize_string(self.member)
        )  # fmt: skip
        tail = f',"ts":{self.ts},"v":{ENTRY_VERSION}}}'
        return head, tail

    @functools.cached_property
    def _signing_message(self) -> bytes:
        head, tail = self._parts
        return ENTRY_DOMAIN + (head + tail).encode("utf-8")

    @functools.cached_property
    def _leaf_bytes(self) -> bytes:
        head, tail = self._parts
        sig = base64.b64encode(self.signature).decode("ascii")
        return (head + ',"sig":"' + sig + '"' + tail).encode("utf-8")

    def signing_message(self) -> bytes:
        return self._signing_message

    def to_json(self) -> dict[str, Any]:
        return {**self.envelope(), "sig": base64.b64encode(self.signature).decode("ascii")}

    def leaf_bytes(self) -> bytes:
        return self._leaf_bytes

    def has_valid_signature(self, public_key: bytes) -> bool:
        return key_fingerprint(public_key) == self.key and verify_signature(
            public_key, self.signature, self.signing_message()
        )


def _check_envelope(kind: object, member: object, key: object, ts: object, body: object) -> str:
    """Validate the envelope fields; return the canonical JSON of ``body``."""
    if not isinstance(kind, str) or len(kind) > 64 or not _KIND_RE.match(kind):
        raise ValidationError("entry.kind", "must be dotted lower-case words, e.g. stage.attest")
    validate_member_name(member, "entry.member")
    if not isinstance(key, str) or not _FINGERPRINT_RE.match(key):
        raise ValidationError("entry.key", "must be a 16-hex-digit key fingerprint")
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts < 2**53:
        raise ValidationError("entry.ts", "must be non-negative integer unix seconds")
    if not isinstance(body, Mapping):
        raise ValidationError("entry.body", "must be a JSON object")
    validate_no_personal_data(body, "entry.body")
    return canonicalize(body).decode("utf-8")  # refuses non-JSON values early, naming their path


def sign_entry(kind: str, member: str, body: Mapping[str, Any], ts: int, key: SigningKey) -> Entry:
    """Build and sign an entry; validates every field and refuses personal data in ``body``."""
    fingerprint = key_fingerprint(key.public_key)
    canonical = _check_envelope(kind, member, fingerprint, ts, body)
    unsigned = Entry(kind, member, fingerprint, ts, dict(body), b"", canonical)
    signature = key.sign(unsigned.signing_message())
    return Entry(kind, member, fingerprint, ts, dict(body), signature, canonical)


def parse_entry(obj: object) -> Entry:
    """An ``Entry`` from its JSON object form (as exported in bundles or submitted by members)."""
    if not isinstance(obj, Mapping):
        raise ValidationError("entry", "must be a JSON object")
    extra = set(obj) - _FIELDS
    missing = _FIELDS - set(obj)
    if missing or extra:
        raise ValidationError(
            "entry", f"fields missing {sorted(missing)} / unknown {sorted(extra)}"
        )
    if obj["v"] != ENTRY_VERSION or isinstance(obj["v"], bool):
        raise ValidationError("entry.v", f"unsupported version {obj['v']!r}")
    canonical = _check_envelope(obj["kind"], obj["member"], obj["key"], obj["ts"], obj["body"])
    sig = obj["sig"]
    try:
        signature = base64.b64decode(sig, validate=True) if isinstance(sig, str) else b""
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != SIGNATURE_SIZE:
        raise ValidationError("entry.sig", "must be a base64 64-byte Ed25519 signature")
    return Entry(
        obj["kind"], obj["member"], obj["key"], obj["ts"], dict(obj["body"]), signature, canonical
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValidationError("entry", f"duplicate JSON member {k!r}")
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise ValidationError("entry", f"{name} is not a JSON number")


def loads_strict(data: bytes | str) -> Any:
    """``json.loads`` that refuses duplicate member names and NaN/Infinity."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError("entry", f"not valid JSON: {exc}") from exc


def entry_from_leaf(data: bytes) -> Entry:
    """Parse a stored leaf; it must be exactly the canonical bytes of the entry."""
    entry = parse_entry(loads_strict(data))
    if entry.leaf_bytes() != data:
        raise ValidationError("entry", "leaf is not in RFC 8785 canonical form")
    return entry
