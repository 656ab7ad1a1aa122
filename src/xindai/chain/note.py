"""C2SP signed notes (c2sp.org/signed-note): text signed by one or more Ed25519 keys.

Format: the note text (valid UTF-8, ending in a newline, no control characters but newline), a
blank line, then one or more signature lines ``"— <key name> <base64(key ID ‖ signature)>\\n"``
(em dash U+2014). The text is separated from the signatures by the *last* blank line.

* Key names are non-empty and contain no Unicode space and no ``+``.
* Key ID = first 4 bytes of SHA-256(key name ‖ 0x0A ‖ type ‖ 32-byte public key); type 0x01 is a
  plain Ed25519 note signature over the text, type 0x04 a timestamped ``cosignature/v1``
  (see :mod:`xindai.chain.checkpoint`).
* Verifier keys travel as *vkeys*: ``<name>+<hex key ID>+<base64(type ‖ public key)>``; parsing
  one recomputes the key ID and validates the public key (no small-order points).
* Opening a note: signatures from unknown (name, key ID) pairs are ignored; a signature from a
  known key that fails to verify rejects the whole note; a note with no verified signature from a
  known key is rejected. At most ``MAX_SIGNATURES`` lines are accepted.

Malformed notes and keys raise ``ValidationError``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from xindai.chain.keys import KEY_SIZE, SigningKey, validate_public_key, verify_signature
from xindai.kernel import ValidationError

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
_EM_DASH = "\u2014"
_KNOWN_TYPES = (SIG_ED25519, SIG_COSIGNATURE_V1)


def validate_key_name(name: object, field: str = "key_name") -> str:
    if not isinstance(name, str) or not name or "+" in name or any(c.isspace() for c in name):
        raise ValidationError(field, "key names are non-empty, without spaces or '+'")
    if any(ord(c) < 0x20 for c in name):
        raise ValidationError(field, "key names contain no control characters")
    return name


def compute_key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[
        :4
    ]


@dataclass(frozen=True)
class VerifierKey:
    """A named public key of a given signature type (0x01 note signer, 0x04 cosigner)."""

    name: str
    sig_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        if self.sig_type not in _KNOWN_TYPES:
            raise ValidationError("vkey", f"unsupported signature type 0x{self.sig_type:02x}")
        validate_public_key(self.public_key, "vkey")

    @property
    def key_id(self) -> bytes:
        return compute_key_id(self.name, self.sig_type, self.public_key)

    def to_vkey(self) -> str:
        material = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"


def parse_vkey(text: object, field: str = "vkey") -> VerifierKey:
    """Parse ``name+hexid+base64(type‖key)``, checking the key ID and the key itself."""
    if not isinstance(text, str):
        raise ValidationError(field, "must be a vkey string")
    parts = text.split("+", 2)  # the base64 part may itself contain '+'
    if len(parts) != 3 or len(parts[1]) != 8:
        raise ValidationError(field, "expected <name>+<8 hex digits>+<base64 key>")
    name, hex_id, material = parts
    try:
        key_id = bytes.fromhex(hex_id)
        raw = base64.b64decode(material, validate=True)
    except (ValueError, binascii.Error):
        raise ValidationError(field, "bad hex key ID or base64 key") from None
    if len(raw) != 1 + KEY_SIZE:
        raise ValidationError(field, "key material must be a type byte and a 32-byte key")
    try:
        key = VerifierKey(name, raw[0], raw[1:])
    except ValidationError as exc:
        raise ValidationError(field, exc.reason) from None
    if key.key_id != key_id:
        raise ValidationError(field, "key ID does not match name and key")
    return key


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, and the type-specific signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_EM_DASH} {self.name} {blob}\n"

    def matches(self, key: VerifierKey) -> bool:
        return self.name == key.name and self.key_id == key.key_id


@dataclass(frozen=True)
class Note:
    """A note text and its signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def format(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, extra: Sequence[NoteSignature]) -> Note:
        """The note with ``extra`` signatures appended (duplicates of existing lines dropped)."""
        sigs = list(self.signatures)
        for s in extra:
            if s not in sigs:
                sigs.append(s)
        return Note(self.text, tuple(sigs))


def validate_note_text(text: str) -> str:
    if not text.endswith("\n"):
        raise ValidationError("note", "note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise ValidationError("note", "note text contains control characters")
    return text


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into text and signature lines (no signature is verified here)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("note", "not valid UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise ValidationError("note", "contains control characters other than newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise ValidationError("note", "no blank line before the signatures")
    text, block = data[: split + 1], data[split + 2 :]
    if not block.endswith("\n"):
        raise ValidationError("note", "signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ValidationError("note", f"more than {MAX_SIGNATURES} signatures")
    sigs: list[NoteSignature] = []
    for n, line in enumerate(lines):
        field = f"note.signature[{n}]"
        if not line.startswith(_EM_DASH + " "):
            raise ValidationError(field, "signature lines start with an em dash and a space")
        parts = line[2:].split(" ")
        if len(parts) != 2:
            raise ValidationError(field, "expected '— <name> <base64>'")
        name = validate_key_name(parts[0], field)
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(field, "signature is not base64") from None
        if len(blob) < 5:
            raise ValidationError(field, "signature shorter than a key ID")
        sigs.append(NoteSignature(name, blob[:4], blob[4:]))
    return Note(text, tuple(sigs))


@dataclass(frozen=True)
class NoteSigner:
    """A named Ed25519 key that signs note texts (signature type 0x01)."""

    name: str
    key: SigningKey

    def __post_init__(self) -> None:
        validate_key_name(self.name)

    @functools.cached_property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, SIG_ED25519, self.key.public_key)

    def sign(self, text: str) -> NoteSignature:
        validate_note_text(text)
        return NoteSignature(self.name, self.verifier.key_id, self.key.sign(text.encode("utf-8")))


def sign_note(text: str, signers: Sequence[NoteSigner]) -> Note:
    """A note with one signature line per signer."""
    if not signers:
        raise ValidationError("signers", "a signed note needs at least one signature")
    return Note(validate_note_text(text), tuple(s.sign(text) for s in signers))


def verify_note_signature(note: Note, key: VerifierKey) -> bool:
    """True if ``note`` carries a valid type-0x01 signature by ``key`` and no invalid one."""
    if key.sig_type != SIG_ED25519:
        raise ValidationError("vkey", "not a note-signing (type 0x01) key")
    found = [s for s in note.signatures if s.matches(key)]
    message = note.text.encode("utf-8")
    return bool(found) and all(
        verify_signature(key.public_key, s.signature, message) for s in found
    )


def open_note(data: str | bytes, keys: Sequence[VerifierKey]) -> tuple[Note, list[VerifierKey]]:
    """Parse and verify a note per C2SP: return it and the known keys that signed it.

    Raises ValidationError if a known key's signature fails or no known key signed.
    """
    note = parse_note(data)
    message = note.text.encode("utf-8")
    verified: list[VerifierKey] = []
    for key in keys:
        if key.sig_type != SIG_ED25519:
            continue
        for s in note.signatures:
            if s.matches(key):
                if not verify_signature(key.public_key, s.signature, message):
                    raise ValidationError("note", f"signature by {key.name} does not verify")
                if key not in verified:
                    verified.append(key)
    if not verified:
        raise ValidationError("note", "no signature from a known key")
    return note, verified
