"""Personal data never goes on the chain: salted commitments, and a validator that enforces it.

The log is replicated to every consortium member and kept forever, so a farmer's name, ID number,
phone, address or GPS position must never appear in it (PIPL; see DOMAIN_RULES §5). What goes on
the log instead is a *commitment*: ``commit_personal(value, salt)`` =
``"commit:sha256:" + hex(SHA-256("xindai/pd/v1\\n" ‖ len(salt) ‖ salt ‖ NFC(value)))``. The salt
(16..255 random bytes) stays off-chain with the data controller; whoever holds value and salt can
prove the link, nobody else can brute-force a phone number back from the hash.

``validate_no_personal_data`` walks an entry body and refuses (``ValidationError`` naming the JSON
path) any value under a key that looks like personal data — by its words, e.g. ``name``,
``id_number``, ``phone``, ``address``, ``gps``, ``lat`` — unless the value is a commitment (or a
list of them, or null), and any string anywhere that looks like a mainland ID number or mobile
number. It errs on the side of refusing: call a crop ``crop``, not ``crop_name``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence

from xindai.kernel import ValidationError

COMMITMENT_PREFIX = "commit:sha256:"
MIN_SALT_BYTES = 16
MAX_SALT_BYTES = 255
_COMMITMENT_RE = re.compile(r"^commit:sha256:[0-9a-f]{64}$")

_PERSONAL_WORDS = frozenset(
    {
        "name",
        "names",
        "surname",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "address",
        "addr",
        "gps",
        "lat",
        "lng",
        "lon",
        "latitude",
        "longitude",
        "location",
        "coordinates",
        "geo",
        "email",
        "birthday",
        "dob",
        "passport",
        "idcard",
        "ssn",
        "wechat",
        "qq",
        "face",
        "photo",
        "plate",
    }
)
_PERSONAL_PAIRS = frozenset(
    {
        ("id", "number"),
        ("id", "no"),
        ("id", "card"),
        ("bank", "card"),
        ("card", "number"),
        ("card", "no"),
        ("account", "number"),
        ("account", "no"),
        ("birth", "date"),
        ("license", "number"),
        ("licence", "number"),
    }
)
_ID_NUMBER_RE = re.compile(r"^\d{17}[\dXx]$")
_MOBILE_RE = re.compile(r"^(\+?86[- ]?)?1[3-9]\d{9}$")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def commit_personal(value: str, salt: bytes) -> str:
    """Salted SHA-256 commitment to one piece of personal data (NFC-normalised text)."""
    if not isinstance(value, str):
        raise ValidationError("value", "must be text")
    if not isinstance(salt, bytes | bytearray) or not MIN_SALT_BYTES <= len(salt) <= MAX_SALT_BYTES:
        raise ValidationError("salt", f"must be {MIN_SALT_BYTES}..{MAX_SALT_BYTES} random bytes")
    digest = hashlib.sha256(
        b"xindai/pd/v1\n"
        + len(salt).to_bytes(1, "big")
        + bytes(salt)
        + unicodedata.normalize("NFC", value).encode("utf-8")
    ).hexdigest()
    return COMMITMENT_PREFIX + digest


def is_commitment(value: object) -> bool:
    """True for a string in the ``commit:sha256:<64 hex>`` form."""
    return isinstance(value, str) and _COMMITMENT_RE.match(value) is not None


@functools.lru_cache(maxsize=8192)  # member names repeat across entries; the check is pure
def key_looks_personal(key: str) -> bool:
    """True when a JSON member name reads like personal data (``farmerName``, ``id_no``...)."""
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL_RE.sub("_", key).lower()) if w]
    if any(w in _PERSONAL_WORDS for w in words):
        return True
    return any(pair in _PERSONAL_PAIRS for pair in itertools.pairwise(words))


def _value_is_committed(value: object) -> bool:
    if value is None or is_commitment(value):
        return True
    if isinstance(value, list):
        return all(is_commitment(v) for v in value)
    return False


def validate_no_personal_data(body: object, field: str = "body") -> None:
    """Raise ValidationError at the first place where ``body`` carries raw personal data."""
    if isinstance(body, Mapping):
        for key, value in body.items():
            path = f"{field}.{key}"
            if isinstance(key, str) and key_looks_personal(key) and not _value_is_committed(value):
                raise ValidationError(
                    path, "looks like personal data: put commit_personal(value, salt) on the log"
                )
            validate_no_personal_data(value, path)
    elif isinstance(body, str):
        compact = body.strip()
        if _ID_NUMBER_RE.match(compact) or _MOBILE_RE.match(compact):
            raise ValidationError(field, "looks like an ID or mobile number: commit to it instead")
    elif isinstance(body, Sequence) and not isinstance(body, bytes | bytearray):
        for i, value in enumerate(body):
            validate_no_personal_data(value, f"{field}[{i}]")
