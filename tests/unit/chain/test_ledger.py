"""Members and the ledger: key validity by log index, revocation, atomic batches, replay."""

from __future__ import annotations

import pytest

from xindai.chain.entries import OPERATOR_MEMBER, sign_entry
from xindai.chain.keys import SMALL_ORDER_ENCODINGS, key_fingerprint
from xindai.chain.ledger import ChainLedger
from xindai.chain.members import REGISTER_KIND, KeyRecord, Role, register_body
from xindai.chain.merkle import leaf_hash, verify_inclusion
from xindai.chain.tiles import InMemoryTileStore
from xindai.kernel import InvariantViolation, NotFoundError, ValidationError

from .helpers import clock, key, ledger_with_members, operator

COOP = ("coop.a", Role.COOPERATIVE)
INSPECTOR = ("inspector.b", Role.INSPECTOR)


def _attest(keys: dict, member: str = "coop.a", ts: int = 1) -> object:
    return sign_entry("stage.attest", member, {"line": "L1", "stage": "sowing"}, ts, keys[member])


def test_registered_member_can_sign_after_its_registration() -> None:
    ledger, keys = ledger_with_members(COOP, INSPECTOR)
    idx = ledger.submit([_attest(keys)])[0]
    assert idx == 2
    assert ledger.entry(idx).member == "coop.a"
    rec = ledger.registry.record(key_fingerprint(keys["coop.a"].public_key))
    assert rec == KeyRecord("coop.a", Role.COOPERATIVE, keys["coop.a"].public_key, 0)
    assert not rec.is_valid_at(0) and rec.is_valid_at(1)
    cp = ledger.checkpoint()
    verify_inclusion(
        leaf_hash(ledger.log.entry(idx)),
        idx,
        cp.checkpoint.size,
        ledger.log.inclusion_proof(idx),
        cp.checkpoint.root,
    )


def test_unknown_member_and_wrong_key_refused_and_nothing_appended() -> None:
    ledger, keys = ledger_with_members(COOP, INSPECTOR)
    size = ledger.log.size()
    stranger = sign_entry("stage.attest", "coop.z", {"line": "L1"}, 1, key("coop.z"))
    with pytest.raises(ValidationError, match="no key"):
        ledger.submit([stranger])
    # The inspector's key claiming to be the co-operative.
    forged = sign_entry("stage.attest", "coop.a", {"line": "L1"}, 1, keys["inspector.b"])
    with pytest.raises(ValidationError) as info:
        ledger.submit([_attest(keys), forged])
    assert info.value.field == "entries[1].entry.key"
    assert ledger.log.size() == size


def test_tampered_entry_refused() -> None:
    ledger, keys = ledger_with_members(COOP)
    good = _attest(keys)
    obj = good.to_json()
    obj["body"] = {"line": "L2", "stage": "sowing"}
    from xindai.chain.entries import parse_entry

    with pytest.raises(ValidationError) as info:
        ledger.submit([parse_entry(obj)])
    assert info.value.field == "entries[0].entry.sig"
    assert ledger.log.size() == 1


def test_revoked_key_cannot_sign_later_entries() -> None:
    ledger, keys = ledger_with_members(COOP)
    fp = key_fingerprint(keys["coop.a"].public_key)
    before = ledger.submit([_attest(keys)])[0]
    revoked_at = ledger.revoke_key("coop.a", fp, "device lost")
    with pytest.raises(ValidationError, match="revoked at index"):
        ledger.submit([_attest(keys, ts=2)])
    rec = ledger.registry.record(fp)
    assert rec is not None and rec.revoked_at == revoked_at
    assert rec.is_valid_at(before) and not rec.is_valid_at(revoked_at + 1)


def test_member_can_revoke_its_own_key_but_not_anothers() -> None:
    ledger, keys = ledger_with_members(COOP, INSPECTOR)
    fp_coop = key_fingerprint(keys["coop.a"].public_key)
    hostile = sign_entry(
        "member.revoke",
        "inspector.b",
        {"member": "coop.a", "key": fp_coop, "reason": "x"},
        1,
        keys["inspector.b"],
    )
    with pytest.raises(ValidationError, match="only the operator or the member"):
        ledger.submit([hostile])
    own = sign_entry(
        "member.revoke",
        "coop.a",
        {"member": "coop.a", "key": fp_coop, "reason": "stolen"},
        1,
        keys["coop.a"],
    )
    ledger.submit([own])
    with pytest.raises(ValidationError, match="already revoked"):
        ledger.revoke_key("coop.a", fp_coop, "again")


def test_key_rotation_keeps_the_role_and_refuses_role_change() -> None:
    ledger, _keys = ledger_with_members(COOP)
    new_key = key("coop.a-2")
    ledger.register_member("coop.a", "co-operative", new_key.public_key)
    ledger.submit([sign_entry("stage.attest", "coop.a", {"line": "L"}, 1, new_key)])
    with pytest.raises(ValidationError, match="already registered as"):
        ledger.register_member("coop.a", Role.BUYER, key("coop.a-3").public_key)
    with pytest.raises(ValidationError, match="already registered"):
        ledger.register_member("buyer.c", Role.BUYER, new_key.public_key)
    assert [r.role for r in ledger.registry.keys_of("coop.a")] == [Role.COOPERATIVE] * 2


def test_only_the_operator_registers_members() -> None:
    ledger, keys = ledger_with_members(COOP)
    body = register_body("buyer.c", Role.BUYER, key("buyer.c").public_key)
    self_made = sign_entry(REGISTER_KIND, "coop.a", body, 1, keys["coop.a"])
    with pytest.raises(ValidationError, match="only the operator registers"):
        ledger.submit([self_made])
    fake_operator = sign_entry(REGISTER_KIND, OPERATOR_MEMBER, body, 1, key("impostor"))
    with pytest.raises(ValidationError, match="operator's key"):
        ledger.submit([fake_operator])


@pytest.mark.parametrize("raw", sorted(SMALL_ORDER_ENCODINGS)[:3])
def test_registration_refuses_bad_keys(raw: bytes) -> None:
    ledger, _ = ledger_with_members()
    with pytest.raises(ValidationError, match="small-order"):
        ledger.register_member("buyer.c", Role.BUYER, raw)
    with pytest.raises(ValidationError, match="role"):
        ledger.register_member("buyer.c", "farmer", key("x").public_key)
    with pytest.raises(ValidationError, match="operator's key"):
        ledger.register_member("buyer.c", Role.BUYER, operator().key.public_key)
    assert ledger.log.size() == 0


def test_reopening_a_store_replays_the_registry() -> None:
    store = InMemoryTileStore()
    ledger = ChainLedger(store, operator(), clock())
    k = key("coop.a")
    ledger.register_member("coop.a", Role.COOPERATIVE, k.public_key)
    ledger.revoke_key("coop.a", key_fingerprint(k.public_key), "rotate")
    reopened = ChainLedger(store, operator(), clock())
    assert reopened.registry.records() == ledger.registry.records()
    with pytest.raises(ValidationError, match="revoked"):
        reopened.submit([sign_entry("stage.attest", "coop.a", {"line": "L"}, 1, k)])


def test_replay_of_a_corrupted_store_is_an_invariant_violation() -> None:
    store = InMemoryTileStore()
    ledger = ChainLedger(store, operator(), clock())
    ledger.log.append([b'{"not":"an entry"}'])  # written behind the ledger's back
    with pytest.raises(InvariantViolation, match="stored entry 0"):
        ChainLedger(store, operator(), clock())


def test_entry_lookup_bounds() -> None:
    ledger, _ = ledger_with_members(COOP)
    with pytest.raises(NotFoundError):
        ledger.entry(5)


def test_two_ledgers_on_one_store_catch_up_with_each_other() -> None:
    """Two processes serving one log: each replays what the other appended before it submits,
    and the subject index follows."""
    store = InMemoryTileStore()
    first = ChainLedger(store, operator(), clock())
    second = ChainLedger(store, operator(), clock())
    k = key("coop.a")
    first.register_member("coop.a", Role.COOPERATIVE, k.public_key)  # second has not seen it
    idx = second.submit([sign_entry("stage.attest", "coop.a", {"line": "L9"}, 1, k)])[0]
    assert idx == 1 and second.indices_about("line:L9") == [1]
    first.refresh()
    assert first.indices_about("line:L9") == [1]
    assert first.registry.records() == second.registry.records()
    # a batch that changes membership is checked against a copy: a failure leaves no trace
    k2 = key("inspector.b")
    bad = [
        sign_entry(
            REGISTER_KIND,
            OPERATOR_MEMBER,
            register_body("inspector.b", Role.INSPECTOR, k2.public_key),
            1,
            operator().key,
        ),
        sign_entry("stage.attest", "coop.a", {"line": "L9"}, 1, k2),  # wrong key for coop.a
    ]
    with pytest.raises(ValidationError, match=r"entries\[1\]"):
        first.submit(bad)
    assert first.registry.role_of("inspector.b") is None and first.log.size() == 2


def test_audit_ledger_names_a_consistently_rehashed_forgery() -> None:
    """Recomputing every hash after changing an entry fools the tiles, not the signatures."""
    from xindai.chain.ledger import audit_ledger

    ledger, keys = ledger_with_members(COOP)
    ledger.submit([_attest(keys, ts=t) for t in range(5)])
    forged = InMemoryTileStore()
    copy = ChainLedger(forged, operator(), clock())
    data = ledger.log.entries(0, ledger.log.size())
    data[3] = data[3].replace(b'"ts":2', b'"ts":9')
    copy.log.append(data)  # hashes all consistent, bypassing verification
    result = audit_ledger(forged, operator().key.public_key)
    assert result.first_bad_index == 3 and "does not verify" in result.detail
    assert audit_ledger(ledger.log.store, operator().key.public_key).ok
