"""Ed25519 keys for the chain: strict public-key validation, signing and verification.

A member's or witness's public key is accepted only if it is a *canonical* encoding of a point on
the curve that generates the prime-order subgroup. Refused, with a ``ValidationError``:

* anything that is not exactly 32 bytes;
* non-canonical encodings: ``y >= p`` or the "negative zero" ``x = 0`` with the sign bit set;
* encodings that do not decode to a curve point;
* the 8 small-order points (``SMALL_ORDER_ENCODINGS``: order 1, 2, 4 and 8) — with them a
  signature can be valid for many messages, so they prove nothing;
* mixed-order points (a torsion component added to a prime-order point), i.e. any ``P`` with
  ``L·P != O``: they let one key accept several signatures for the same message.

Point arithmetic is the RFC 8032 §5.1 reference in extended coordinates over Python integers;
it runs only at key registration, never per signature. Signing uses ``cryptography`` (OpenSSL);
verification uses libsodium (PyNaCl), cross-checked against OpenSSL in the tests.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from nacl.bindings import crypto_sign_open as _sodium_open
from nacl.exceptions import BadSignatureError

from xindai.kernel import ValidationError

KEY_SIZE = 32
SIGNATURE_SIZE = 64

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_L = 2**252 + 27742317777372353535851937790883648493
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

#: The canonical encodings of the eight points of small order (the torsion subgroup).
SMALL_ORDER_ENCODINGS: frozenset[bytes] = frozenset(
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
    )
)

_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
_IDENTITY: _Point = (0, 1, 1, 0)


def _add(a: _Point, b: _Point) -> _Point:
    p = _P
    aa = (a[1] - a[0]) * (b[1] - b[0]) % p
    bb = (a[1] + a[0]) * (b[1] + b[0]) % p
    cc = 2 * a[3] * b[3] * _D % p
    dd = 2 * a[2] * b[2] % p
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _mul(k: int, point: _Point) -> _Point:
    acc = _IDENTITY
    while k:
        if k & 1:
            acc = _add(acc, point)
        point = _add(point, point)
        k >>= 1
    return acc


def _is_identity(point: _Point) -> bool:
    return point[0] % _P == 0 and (point[1] - point[2]) % _P == 0


def decode_point(raw: bytes) -> tuple[int, int] | None:
    """Affine ``(x, y)`` of a canonical point encoding, or None if not canonical / not on curve."""
    if len(raw) != KEY_SIZE:
        return None
    y = int.from_bytes(raw, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * pow(v, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x == 0 and sign:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x, y


@functools.lru_cache(maxsize=4096)
def point_order_class(raw: bytes) -> str:
    """'invalid', 'small' (8·P = O), 'mixed' (L·P != O) or 'prime' — for validation and tests."""
    xy = decode_point(raw)
    if xy is None:
        return "invalid"
    x, y = xy
    point = (x, y, 1, x * y % _P)
    if _is_identity(_mul(8, point)):
        return "small"
    if not _is_identity(_mul(_L, point)):
        return "mixed"
    return "prime"


def validate_public_key(raw: object, field: str = "public_key") -> bytes:
    """Return ``raw`` as bytes if it is an acceptable Ed25519 public key, else ValidationError."""
    if not isinstance(raw, bytes | bytearray) or len(raw) != KEY_SIZE:
        raise ValidationError(field, f"an Ed25519 public key is exactly {KEY_SIZE} bytes")
    raw = bytes(raw)
    if raw in SMALL_ORDER_ENCODINGS:
        raise ValidationError(field, "small-order Ed25519 point (order 1, 2, 4 or 8) refused")
    order = point_order_class(raw)
    if order == "invalid":
        raise ValidationError(field, "not a canonical encoding of a point on Ed25519")
    if order == "small":
        raise ValidationError(field, "small-order Ed25519 point refused")
    if order == "mixed":
        raise ValidationError(field, "point outside the prime-order subgroup (mixed order) refused")
    return raw


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    Verified by libsodium (about twice as fast as OpenSSL here, which sets the ledger's
    submission rate); libsodium is also the stricter of the two (it refuses non-canonical ``S``
    and small-order ``R``), and the test suite cross-checks it against ``cryptography``.
    """
    if len(public_key) != KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        _sodium_open(signature + message, public_key)
    except (BadSignatureError, ValueError):
        return False
    return True


def verify_signature_openssl(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """The same check with OpenSSL (``cryptography``): the reference the tests compare against."""
    if len(public_key) != KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_fingerprint(public_key: bytes) -> str:
    """Short stable identifier of a public key: hex of the first 8 bytes of its SHA-256."""
    return hashlib.sha256(public_key).digest()[:8].hex()


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key held by a member, the operator or a witness."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != KEY_SIZE:
            raise ValidationError("seed", f"an Ed25519 seed is exactly {KEY_SIZE} bytes")

    @classmethod
    def generate(cls) -> SigningKey:
        key = Ed25519PrivateKey.generate()
        return cls(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @classmethod
    def from_secret(cls, secret: bytes) -> SigningKey:
        """A deterministic key derived from a secret (demos and tests only)."""
        return cls(hashlib.sha256(b"xindai/chain/demo-key\n" + secret).digest())

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @functools.cached_property
    def public_key(self) -> bytes:
        return self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def __repr__(self) -> str:  # never print the seed
        return f"SigningKey(public={key_fingerprint(self.public_key)})"
