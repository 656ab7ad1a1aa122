"""RFC 8785 canonical JSON: the RFC's own examples, ES6 number vectors, refusals, properties."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.chain import jcs
from xindai.chain.jcs import canonicalize, serialize_number
from xindai.kernel import ValidationError

# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialisations.
ES6_VECTORS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "want"), ES6_VECTORS)
def test_es6_number_serialisation(bits: str, want: str) -> None:
    assert serialize_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == want


def test_rfc8785_section_3_2_2_example() -> None:
    source = (
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        '"literals":[null,true,false]}'
    )
    want = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(source)).decode("utf-8") == want


def test_keys_sort_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: the emoji (a surrogate pair, 0xD83D...) sorts before U+FB33.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonicalize(value)))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_large_integers_use_the_double_form() -> None:
    assert canonicalize(2**53 + 2) == b"9007199254740994"
    assert canonicalize(10**21) == b"1e+21"
    assert canonicalize(42091423322758410) == b"42091423322758410"


def test_nested_structures_and_escapes() -> None:
    assert canonicalize({"b": [1, {"d": None, "c": True}], "a": "\t\x01"}) == (
        b'{"a":"\\t\\u0001","b":[1,{"c":true,"d":null}]}'
    )


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"x": math.nan}, "$.x"),
        ({"x": [math.inf]}, "$.x[0]"),
        ({"x": 2**53 + 1}, "$.x"),
        ({"x": 10**400}, "$.x"),
        ({"x": b"bytes"}, "$.x"),
        ({1: "non-string key"}, "$"),
        ({"x": "\ud800"}, "$.x"),
        ({"x": {1, 2}}, "$.x"),
    ],
)
def test_refusals_name_the_path(value: object, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        canonicalize(value)
    assert info.value.field == path


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children, max_size=5
        )
    ),
    max_leaves=25,
)


@given(json_values)
def test_canonical_form_is_a_fixed_point_and_preserves_value(value: object) -> None:
    once = canonicalize(value)
    parsed = json.loads(once)
    assert canonicalize(parsed) == once
    # Same value when numbers are read as doubles, as every JSON consumer may do.
    assert json.loads(once, parse_int=float) == json.loads(json.dumps(value), parse_int=float)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_exactly(x: float) -> None:
    assert float(serialize_number(x)) == x


@given(
    st.dictionaries(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)), st.integers(-1000, 1000)
    )
)
def test_ascii_objects_match_sorted_compact_json(value: dict[str, int]) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonicalize(value).decode() == expected


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fast_path_equals_the_reference_emitter(value: object) -> None:
    """``canonicalize`` takes the C encoder for plain values; it must give the emitter's bytes."""
    parts: list[str] = []
    try:
        jcs._emit(value, parts, "$")
        expected: bytes | None = "".join(parts).encode("utf-8")
    except ValidationError:
        expected = None
    if expected is None:
        with pytest.raises(ValidationError):
            jcs.canonicalize(value)
    else:
        assert jcs.canonicalize(value) == expected
