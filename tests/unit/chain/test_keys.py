"""Ed25519 key validation: canonical, on-curve, prime-order keys only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.chain import keys as k
from xindai.kernel import ValidationError

P = 2**255 - 19


def _encode(point: tuple[int, int, int, int]) -> bytes:
    zinv = pow(point[2], P - 2, P)
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _point(raw: bytes) -> tuple[int, int, int, int]:
    xy = k.decode_point(raw)
    assert xy is not None
    x, y = xy
    return (x, y, 1, x * y % P)


def test_the_eight_small_order_points_are_exactly_the_torsion_subgroup() -> None:
    points = [_point(e) for e in k.SMALL_ORDER_ENCODINGS]
    assert len({_encode(p) for p in points}) == 8
    for p in points:
        assert k._is_identity(k._mul(8, p))
    orders = sorted(min(n for n in (1, 2, 4, 8) if k._is_identity(k._mul(n, p))) for p in points)
    assert orders == [1, 2, 4, 4, 8, 8, 8, 8]


@pytest.mark.parametrize("raw", sorted(k.SMALL_ORDER_ENCODINGS), ids=lambda b: b.hex()[:8])
def test_small_order_points_refused(raw: bytes) -> None:
    with pytest.raises(ValidationError, match="small-order"):
        k.validate_public_key(raw)


@pytest.mark.parametrize(
    "raw",
    [
        (P).to_bytes(32, "little"),  # y = p: non-canonical zero
        (P + 1).to_bytes(32, "little"),  # y = p + 1: non-canonical one
        (2**255 - 1).to_bytes(32, "little"),  # y >= p
        (1 | (1 << 255)).to_bytes(32, "little"),  # y = 1, x = 0 with the sign bit: "-0"
        (2).to_bytes(32, "little"),  # y = 2 is not on the curve
    ],
    ids=["y=p", "y=p+1", "y=2^255-1", "negative-zero", "off-curve"],
)
def test_non_canonical_and_off_curve_encodings_refused(raw: bytes) -> None:
    with pytest.raises(ValidationError, match=r"canonical|small-order"):
        k.validate_public_key(raw)


@pytest.mark.parametrize("raw", [b"", b"\x01" * 31, b"\x01" * 33, "not bytes"])
def test_wrong_length_refused(raw: object) -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        k.validate_public_key(raw, "body.public_key")


def test_mixed_order_point_refused() -> None:
    good = k.SigningKey.from_secret(b"mixed").public_key
    torsion = _point(
        bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
    )
    mixed = _encode(k._add(_point(good), torsion))
    assert k.point_order_class(mixed) == "mixed"
    with pytest.raises(ValidationError, match="mixed order"):
        k.validate_public_key(mixed)


@settings(max_examples=20)
@given(st.binary(min_size=32, max_size=32))
def test_generated_keys_are_accepted_and_sign(seed: bytes) -> None:
    key = k.SigningKey(seed)
    assert k.validate_public_key(key.public_key) == key.public_key
    sig = key.sign(b"message")
    assert k.verify_signature(key.public_key, sig, b"message")
    assert not k.verify_signature(key.public_key, sig, b"messagE")
    assert not k.verify_signature(key.public_key, sig[:-1], b"message")
    assert "seed" not in repr(key) and seed.hex() not in repr(key)


def test_seed_length_checked() -> None:
    with pytest.raises(ValidationError, match="seed"):
        k.SigningKey(b"short")


@settings(max_examples=60, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.binary(max_size=300),
    st.integers(min_value=0, max_value=64 * 8 + 8 * 300),
)
def test_libsodium_and_openssl_agree(seed: bytes, message: bytes, flip: int) -> None:
    """The fast verifier (libsodium) agrees with OpenSSL on good signatures and on any one-bit
    change to the signature or the message."""
    key = k.SigningKey(seed)
    sig = key.sign(message)
    pub = key.public_key
    assert k.verify_signature(pub, sig, message) and k.verify_signature_openssl(pub, sig, message)
    blob = bytearray(sig + message)
    bit = flip % (len(blob) * 8)
    blob[bit // 8] ^= 1 << (bit % 8)
    bad_sig, bad_msg = bytes(blob[:64]), bytes(blob[64:])
    assert k.verify_signature(pub, bad_sig, bad_msg) == k.verify_signature_openssl(
        pub, bad_sig, bad_msg
    )
    assert not k.verify_signature(pub, bad_sig, bad_msg)
