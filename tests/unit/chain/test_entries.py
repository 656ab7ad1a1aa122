"""Signed entries: canonical envelope, signature binding, strict parsing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.chain.entries import (
    ENTRY_DOMAIN,
    entry_from_leaf,
    loads_strict,
    parse_entry,
    sign_entry,
)
from xindai.chain.jcs import canonicalize
from xindai.chain.keys import key_fingerprint
from xindai.chain.privacy import commit_personal
from xindai.kernel import ValidationError

from .helpers import key

K = key("member")
BODY = {"line": "SCF-1", "stage": "sowing", "area_mu": 120, "ratio": 0.5}


def test_sign_parse_round_trip() -> None:
    entry = sign_entry("stage.attest", "coop.a", BODY, 1_700_000_000, K)
    assert entry.key == key_fingerprint(K.public_key)
    assert entry.has_valid_signature(K.public_key)
    assert parse_entry(entry.to_json()) == entry
    leaf = entry.leaf_bytes()
    assert leaf == canonicalize(entry.to_json())
    assert entry_from_leaf(leaf) == entry
    assert entry.signing_message().startswith(ENTRY_DOMAIN)
    assert b'"sig"' not in entry.signing_message()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "stage.confirm"),
        ("member", "coop.b"),
        ("ts", 1_700_000_001),
        ("body", {**BODY, "area_mu": 121}),
    ],
)
def test_changing_any_signed_field_breaks_the_signature(field: str, value: object) -> None:
    obj = sign_entry("stage.attest", "coop.a", BODY, 1_700_000_000, K).to_json()
    obj[field] = value
    assert not parse_entry(obj).has_valid_signature(K.public_key)


def test_signature_by_another_key_fails() -> None:
    entry = sign_entry("stage.attest", "coop.a", BODY, 1, K)
    assert not entry.has_valid_signature(key("other").public_key)


def test_non_canonical_leaf_refused() -> None:
    entry = sign_entry("stage.attest", "coop.a", BODY, 1, K)
    pretty = json.dumps(entry.to_json(), indent=1).encode()
    with pytest.raises(ValidationError, match="canonical"):
        entry_from_leaf(pretty)


@pytest.mark.parametrize("raw", [b'{"a":1,"a":2}', b'{"a":NaN}', b"not json", b"\xff\xfe"])
def test_strict_json(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        loads_strict(raw)


@pytest.mark.parametrize(
    ("kind", "member", "ts", "field"),
    [
        ("Stage", "coop.a", 1, "entry.kind"),
        ("stage.", "coop.a", 1, "entry.kind"),
        ("stage.attest", "Coop A", 1, "entry.member"),
        ("stage.attest", "", 1, "entry.member"),
        ("stage.attest", "coop.a", -1, "entry.ts"),
        ("stage.attest", "coop.a", True, "entry.ts"),
    ],
)
def test_envelope_validation(kind: str, member: str, ts: int, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        sign_entry(kind, member, BODY, ts, K)
    assert info.value.field == field


def test_personal_data_refused_when_signing_and_parsing() -> None:
    with pytest.raises(ValidationError) as info:
        sign_entry("stage.attest", "coop.a", {"farmer_name": "王小明"}, 1, K)
    assert info.value.field == "entry.body.farmer_name"
    ok = sign_entry(
        "stage.attest", "coop.a", {"farmer_name": commit_personal("王小明", b"s" * 16)}, 1, K
    )
    obj = ok.to_json()
    obj["body"] = {"farmer_name": "王小明"}
    with pytest.raises(ValidationError):
        parse_entry(obj)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.pop("sig"),
        lambda o: o.update(extra=1),
        lambda o: o.update(v=2),
        lambda o: o.update(sig="!!"),
        lambda o: o.update(sig="AAAA"),
        lambda o: o.update(key="xyz"),
        lambda o: o.update(body=[1]),
    ],
)
def test_parse_refuses_malformed_objects(mutate: object) -> None:
    obj = sign_entry("stage.attest", "coop.a", BODY, 1, K).to_json()
    mutate(obj)  # type: ignore[operator]
    with pytest.raises(ValidationError):
        parse_entry(obj)
    with pytest.raises(ValidationError):
        parse_entry([obj])


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=10,
)  # fmt: skip


@settings(max_examples=40)
@given(
    st.dictionaries(
        st.sampled_from(["line", "stage", "n", "é", "\U0001f600", "דּ", "amount"]),
        _values,
        max_size=5,
    ),
    st.integers(0, 2**40),
    st.sampled_from(["coop.a", "b-1/x:y", "@operator"]),
)
def test_fast_canonical_forms_equal_full_canonicalisation(body: dict, ts: int, member: str) -> None:
    try:
        entry = sign_entry("stage.attest", member, body, ts, K)
    except ValidationError:
        return  # e.g. a generated string that looks like an ID number
    assert entry.leaf_bytes() == canonicalize(entry.to_json())
    assert entry.signing_message() == ENTRY_DOMAIN + canonicalize(entry.envelope())
    assert entry_from_leaf(entry.leaf_bytes()).leaf_bytes() == entry.leaf_bytes()
