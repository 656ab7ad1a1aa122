"""Hosted witnesses on SQLite and PostgreSQL: state survives a restart, a stale ``old`` size is a
409 naming the size last cosigned, and an operator caught signing two roots for one size leaves
its evidence in the database."""

from __future__ import annotations

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app.chain import ChainKeys, WitnessRefusal
from xindai.bootstrap import Platform
from xindai.chain.checkpoint import Checkpoint, sign_checkpoint
from xindai.chain.demo import demo_key
from xindai.chain.entries import sign_entry


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_witness_state_and_equivocation_evidence(platform: Platform) -> None:
    keys = ChainKeys.demo()
    chain = platform.chain(keys)
    coop = demo_key("coop.hebei-01")
    chain.ledger.register_member("coop.hebei-01", "co-operative", coop.public_key)
    first = chain.cosign()
    assert chain.policy.is_met(first)
    chain.submit([sign_entry("stage.attest", "coop.hebei-01", {"line": "L"}, 1, coop)])

    restarted = platform.chain(keys)  # a new process: everything comes from the database
    witness = keys.witnesses[0].name
    assert restarted.repo.witness_state(witness) is not None
    size = restarted.size()
    signed = restarted.sign_checkpoint()
    with pytest.raises(WitnessRefusal) as stale:
        restarted.witness_add_checkpoint(witness, f"old 0\n\n{signed.text()}".encode())
    assert stale.value.status == 409 and stale.value.known_size == first.checkpoint.size

    # the operator signs another root for the size the witness already cosigned
    liar = sign_checkpoint(
        Checkpoint(keys.operator.name, first.checkpoint.size, bytes(32)), keys.operator
    )
    old = first.checkpoint.size
    with pytest.raises(WitnessRefusal) as caught:
        restarted.witness_add_checkpoint(witness, f"old {old}\n\n{liar.text()}".encode())
    assert caught.value.status == 409
    evidence = platform.chain(keys).repo.equivocations()
    assert [e["kind"] for e in evidence] == ["same-size-different-root"]
    assert evidence[0]["first"] != evidence[0]["second"]

    cosigned = restarted.cosign()  # the honest checkpoint still gets its quorum
    assert cosigned.checkpoint.size == size and restarted.policy.is_met(cosigned)
    assert restarted.audit()["ok"]
