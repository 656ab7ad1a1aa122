"""RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON value that is signed.

Rules implemented (RFC 8785 §3.2):

* no whitespace; object members sorted by their names compared as **UTF-16 code units**
  (so "\\U0001F600" sorts before "\\uFB33", unlike a code-point sort);
* strings: UTF-8, escaping only ``"``, ``\\``, and control characters below U+0020 — the five
  short forms ``\\b \\t \\n \\f \\r`` and ``\\u00xx`` (lower-case hex) for the rest; lone
  surrogates are refused;
* numbers: the ECMAScript ``Number.prototype.toString`` form of the IEEE 754 double (shortest
  round-tripping digits, exponent only below 1e-6 or from 1e21, ``-0`` written ``0``); NaN and
  infinities are refused. Python integers are accepted only when a double represents them
  exactly: always for ``|n| <= 2**53``; beyond that they are written in the double's ES6 form
  and refused if that text reads back as a different number (``2**53 + 1``), because the signer's
  value would otherwise change silently;
* literals ``true``, ``false``, ``null``.

Bad input raises ``ValidationError`` naming the JSON path of the offending value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

from xindai.kernel import ValidationError

MAX_SAFE_INTEGER = 2**53
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def canonicalize(value: object) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value`` (dict / list / str / int / float / bool / None)."""
    if _plain(value):
        # For values without floats, big integers or keys where code-point and UTF-16 order can
        # differ, the C encoder writes exactly the JCS bytes (same escapes, lower-case \u00xx);
        # a lone surrogate cannot encode to UTF-8 and falls through to the checked path.
        try:
            return _plain_dumps(value).encode("utf-8")
        except UnicodeEncodeError:
            pass
    parts: list[str] = []
    _emit(value, parts, "$")
    return "".join(parts).encode("utf-8")


_plain_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def _plain(value: object) -> bool:
    """True when the C encoder's output is the JCS form (see ``canonicalize``)."""
    if value is None or value is True or value is False or isinstance(value, str):
        return True
    if isinstance(value, int):
        return type(value) is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if type(value) is dict:
        return all(
            type(k) is str and (k.isascii() or max(k) < "\ue000") and _plain(v)
            for k, v in value.items()
        )
    if type(value) is list:
        return all(_plain(v) for v in value)
    return False


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units.
    return name.encode("utf-16-be")


def _emit(value: object, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(serialize_string(value, path))
    elif isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            out.append(str(value))
        else:
            # Beyond 2**53 a double cannot hold every integer: emit the double's ES6 form, but only
            # if reading that text back gives the same number (else the signer's value changed).
            try:
                text = serialize_number(float(value), path)
            except OverflowError:
                text = ""
            if not text or json.loads(text) != value:
                raise ValidationError(path, "integer not exactly representable as an IEEE double")
            out.append(text)
    elif isinstance(value, float):
        out.append(serialize_number(value, path))
    elif isinstance(value, Mapping):
        out.append("{")
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(path, f"object key {k!r} is not a string")
            items.append((k, v))
        if all(k.isascii() for k, _ in items):
            items.sort(key=lambda kv: kv[0])  # ASCII: code points order like UTF-16 units
        else:
            items.sort(key=lambda kv: _utf16_key(kv[0]))
        for i, (k, v) in enumerate(items):
            if i:
                out.append(",")
            out.append(serialize_string(k, path))
            out.append(":")
            _emit(v, out, f"{path}.{k}")
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _emit(v, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise ValidationError(path, f"{type(value).__name__} is not a JSON value")


_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\ud800-\udfff]')


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    esc = _SHORT_ESCAPES.get(ch)
    if esc is not None:
        return esc
    if ch < " ":
        return f"\\u{ord(ch):04x}"
    raise _LoneSurrogate


class _LoneSurrogate(Exception):
    pass


def serialize_string(s: str, path: str = "$") -> str:
    """A JSON string literal in JCS form."""
    if _NEEDS_ESCAPE.search(s) is None:  # the common case: nothing to escape
        return f'"{s}"'
    try:
        return '"' + _NEEDS_ESCAPE.sub(_escape, s) + '"'
    except _LoneSurrogate:
        raise ValidationError(path, "string contains a lone UTF-16 surrogate") from None


def serialize_number(x: float, path: str = "$") -> str:
    """ECMAScript Number::toString of a double (RFC 8785 §3.2.2.3)."""
    if math.isnan(x) or math.isinf(x):
        raise ValidationError(path, "NaN and Infinity are not JSON numbers")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript requires; take them apart.
    mantissa, _, exp_part = repr(abs(x)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n is the decimal exponent such that value = 0.d1d2... × 10**n
    n = len(int_part) + (int(exp_part) if exp_part else 0)
    if int_part == "0":
        stripped = frac_part.lstrip("0")
        n = -(len(frac_part) - len(stripped)) + (int(exp_part) if exp_part else 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp
