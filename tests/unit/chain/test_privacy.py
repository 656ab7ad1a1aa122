"""Personal data stays off the log: commitments and the body validator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.chain.privacy import (
    commit_personal,
    is_commitment,
    key_looks_personal,
    validate_no_personal_data,
)
from xindai.kernel import ValidationError

SALT = b"0123456789abcdef"


def test_commitment_is_deterministic_salted_and_normalised() -> None:
    c = commit_personal("王小明", SALT)
    assert is_commitment(c)
    assert c == commit_personal("王小明", SALT)
    assert c != commit_personal("王小明", b"fedcba9876543210")
    assert c != commit_personal("王小红", SALT)
    # NFC: a precomposed and a decomposed "é" commit to the same value.
    assert commit_personal("caf\u00e9", SALT) == commit_personal("cafe\u0301", SALT)


@given(st.text(), st.binary(min_size=16, max_size=64))
def test_commitment_hides_the_value(value: str, salt: bytes) -> None:
    c = commit_personal(value, salt)
    assert is_commitment(c)
    if len(value) >= 4:
        assert value not in c


@pytest.mark.parametrize("salt", [b"", b"short", b"x" * 256, "text-salt"])
def test_salt_must_be_16_to_255_bytes(salt: object) -> None:
    with pytest.raises(ValidationError) as info:
        commit_personal("x", salt)  # type: ignore[arg-type]
    assert info.value.field == "salt"


@pytest.mark.parametrize(
    "key",
    [
        "name",
        "farmer_name",
        "farmerName",
        "id_number",
        "idNo",
        "id_card",
        "phone",
        "mobile",
        "address",
        "home_addr",
        "gps",
        "gps_point",
        "lat",
        "longitude",
        "email",
        "bank_card",
        "account_number",
        "birth_date",
    ],
)
def test_personal_keys_need_commitments(key: str) -> None:
    assert key_looks_personal(key)
    with pytest.raises(ValidationError) as info:
        validate_no_personal_data({"outer": {key: "raw value"}})
    assert info.value.field == f"body.outer.{key}"
    validate_no_personal_data({"outer": {key: commit_personal("raw value", SALT)}})
    validate_no_personal_data({key: [commit_personal("a", SALT), commit_personal("b", SALT)]})
    validate_no_personal_data({key: None})


@pytest.mark.parametrize(
    "key",
    [
        "stage",
        "crop",
        "area_mu",
        "line",
        "amount",
        "member",
        "role",
        "public_key",
        "identity_check",
        "valid",
    ],
)
def test_ordinary_keys_pass(key: str) -> None:
    assert not key_looks_personal(key)
    validate_no_personal_data({key: "value"})


@pytest.mark.parametrize("value", ["11010519491231002X", "13812345678", "+86 13812345678"])
def test_id_and_mobile_numbers_refused_anywhere(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_no_personal_data({"notes": ["ok", value]})
    assert info.value.field == "body.notes[1]"


def test_dict_under_personal_key_refused() -> None:
    with pytest.raises(ValidationError, match="personal data"):
        validate_no_personal_data({"address": {"city": "x"}})
