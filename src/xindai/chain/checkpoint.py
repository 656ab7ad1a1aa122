"""Checkpoints (c2sp.org/tlog-checkpoint) and witness cosignatures (c2sp.org/tlog-cosignature).

A checkpoint is the note text ``"<origin>\\n<size>\\n<base64 root>\\n"`` optionally followed by
non-empty extension lines, signed by the log operator's Ed25519 note key (type 0x01). The origin
is a non-empty line that names the log; the size is decimal without leading zeros; the root is
the base64 of the 32-byte RFC 9162 root.

A ``cosignature/v1`` is a note signature line from a witness key whose key ID uses type 0x04 and
whose signature bytes are ``8-byte big-endian timestamp ‖ 64-byte Ed25519 signature`` over

    "cosignature/v1\\ntime <timestamp>\\n" + <the whole checkpoint text>

It states that, at that time, this was the largest consistent tree the witness had seen for the
origin. Verification here is purely cryptographic; *when* a witness may cosign (after a
consistency proof) is enforced by :mod:`xindai.chain.witness`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass

from xindai.chain.keys import SIGNATURE_SIZE, SigningKey, verify_signature
from xindai.chain.merkle import HASH_SIZE
from xindai.chain.note import (
    SIG_COSIGNATURE_V1,
    Note,
    NoteSignature,
    NoteSigner,
    VerifierKey,
    open_note,
    validate_key_name,
)
from xindai.kernel import ValidationError

_SIZE_RE = re.compile(r"^(0|[1-9][0-9]*)$")
MAX_TIMESTAMP = 2**63 - 1


@dataclass(frozen=True)
class Checkpoint:
    """The tree head a log commits to: origin, size and root (plus optional extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or any(ord(c) < 0x20 for c in self.origin):
            raise ValidationError("checkpoint.origin", "must be one non-empty line")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValidationError("checkpoint.size", "must be a non-negative integer")
        if len(self.root) != HASH_SIZE:
            raise ValidationError("checkpoint.root", f"must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or "\n" in line:
                raise ValidationError(
                    "checkpoint.extensions", "extension lines are non-empty lines"
                )

    def text(self) -> str:
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (not its signatures)."""
    if not text.endswith("\n"):
        raise ValidationError("checkpoint", "must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValidationError("checkpoint", "needs origin, size and root lines")
    origin, size, root, *ext = lines
    if not _SIZE_RE.match(size):
        raise ValidationError("checkpoint.size", "decimal without leading zeros")
    try:
        raw_root = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("checkpoint.root", "not base64") from None
    return Checkpoint(origin, int(size), raw_root, tuple(ext))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint together with its note (operator signature and any cosignatures)."""

    checkpoint: Checkpoint
    note: Note

    def text(self) -> str:
        return self.note.format()

    def with_cosignatures(self, sigs: list[NoteSignature]) -> SignedCheckpoint:
        return SignedCheckpoint(self.checkpoint, self.note.with_signatures(sigs))


def sign_checkpoint(checkpoint: Checkpoint, operator: NoteSigner) -> SignedCheckpoint:
    text = checkpoint.text()
    return SignedCheckpoint(checkpoint, Note(text, (operator.sign(text),)))


def open_checkpoint(
    data: str | bytes, operator: VerifierKey, origin: str | None = None
) -> SignedCheckpoint:
    """Verify the operator's signature on a checkpoint note and parse it.

    ``origin`` (default: the operator key name) must equal the checkpoint's origin line.
    Raises ValidationError otherwise.
    """
    note, _ = open_note(data, [operator])
    checkpoint = parse_checkpoint(note.text)
    expected = operator.name if origin is None else origin
    if checkpoint.origin != expected:
        raise ValidationError("checkpoint.origin", f"expected {expected!r}")
    return SignedCheckpoint(checkpoint, note)


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class Cosigner:
    """A witness's Ed25519 cosigning key (signature type 0x04)."""

    name: str
    key: SigningKey

    def __post_init__(self) -> None:
        validate_key_name(self.name)

    @functools.cached_property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, SIG_COSIGNATURE_V1, self.key.public_key)

    def cosign(self, checkpoint_text: str, timestamp: int) -> NoteSignature:
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ValidationError("timestamp", "must be 0..2**63-1 unix seconds")
        signature = self.key.sign(cosignature_message(checkpoint_text, timestamp))
        return NoteSignature(
            self.name, self.verifier.key_id, timestamp.to_bytes(8, "big") + signature
        )


def verify_cosignature(sig: NoteSignature, checkpoint_text: str, key: VerifierKey) -> int | None:
    """The cosignature's timestamp if ``sig`` is a valid cosignature/v1 by ``key``, else None."""
    if key.sig_type != SIG_COSIGNATURE_V1 or not sig.matches(key):
        return None
    if len(sig.signature) != 8 + SIGNATURE_SIZE:
        return None
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        return None
    message = cosignature_message(checkpoint_text, timestamp)
    return timestamp if verify_signature(key.public_key, sig.signature[8:], message) else None
