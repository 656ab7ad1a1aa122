"""Fund flows of a consumer loan served through servicing: the outbox rows commit with the journal,
the publisher logs each movement exactly once (replays, crashes, a second publisher), every edge
is proven, and the movements reconcile with the journal's cash postings to the fen — on SQLite
and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app import servicing
from xindai.app.chain import ChainKeys, ChainService
from xindai.app.fund_flow import (
    LEASE,
    MOVE_KIND,
    fund_flow,
    loan_fund_flow,
    publish_pending,
)
from xindai.app.supply_chain import FARM_LINE, FARM_MEMBERS, release_stage, run_farm_demo
from xindai.bootstrap import Platform
from xindai.chain.demo import demo_key
from xindai.chain.merkle import verify_inclusion
from xindai.kernel import FixedClock, ValidationError
from xindai.money.money import parse_yuan

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)

START = date(2026, 1, 15)


class Crash(Exception):
    """Stands for the process dying between the append and the mark."""


def _chain(platform: Platform) -> ChainService:
    return platform.chain(ChainKeys.demo(), FixedClock(datetime(2026, 1, 15, 9, tzinfo=UTC)))


def _open(platform: Platform, principal: int = 1_000_000) -> dict[str, Any]:
    return servicing.open_loan(
        platform.uow,
        platform.products,
        servicing.OpenLoan(
            product_code="consumer-instalment",
            principal=principal,
            term=3,
            method="equal-installment",
            annual_rate=Decimal("0.12"),
            start_date=START,
        ),
    )


def _edges(flow: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [(e["from"], e["to"], e["amount"]) for e in flow["edges"]]


def _verify(flow: Mapping[str, Any]) -> None:
    cp = flow["checkpoint"]
    root = base64.b64decode(cp["root"])
    for edge in flow["edges"]:
        proof = [base64.b64decode(p) for p in edge["inclusion_proof"]]
        verify_inclusion(
            base64.b64decode(edge["leaf_hash"]), edge["entry_index"], cp["size"], proof, root
        )


def _moves_on_log(chain: ChainService, loan: str) -> list[str]:
    ledger = chain.ledger
    ledger.refresh()
    return [
        str(ledger.entry(i).body["movement"])
        for i in ledger.indices_about(f"loan:{loan}")
        if ledger.entry(i).kind == MOVE_KIND
    ]


def test_consumer_loan_graph_replay_and_reconciliation(platform: Platform) -> None:
    uow, products = platform.uow, platform.products
    chain = _chain(platform)
    loan = _open(platform)
    uuid = loan["id"]
    servicing.disburse(uow, products, uuid, 1_000_000, START, "d-1")
    with uow() as u:  # the movements committed with the journal entry, not yet on the log
        rows = u.fund_movements.of_loan(uuid)
    assert [(r["kind"], r["source"], r["target"], r["amount"]) for r in rows] == [
        ("disbursement", "platform", "escrow", 1_000_000),
        ("disbursement", "escrow", "borrower", 1_000_000),
    ]
    assert all(r["log_index"] is None for r in rows)

    due = servicing.show_loan(uow, uuid)["schedule"][0]
    first = parse_yuan(due["total"])
    servicing.repay(uow, products, uuid, first, date.fromisoformat(due["due_date"]), "r-1")
    # a repeated command posts nothing and stores no movement
    again = servicing.repay(uow, products, uuid, first, date.fromisoformat(due["due_date"]), "r-1")
    assert again["replayed"] is True
    # settle early with 100.00 too much: the prepayment closes the loan and hands the rest back
    on = date.fromisoformat(due["due_date"])
    balances = servicing.show_loan(uow, uuid)["balances"]
    outstanding = parse_yuan(balances["principal_receivable"]) + parse_yuan(
        balances["interest_receivable"]
    )
    extra = 10_000
    done = servicing.prepay(uow, products, uuid, outstanding + extra, on, "p-1")
    assert done["status"] == "closed"
    settled = outstanding + extra

    report = publish_pending(uow, chain)
    assert report == {
        "published": 5,
        "already_on_log": 0,
        "pending": 0,
        "busy": False,
        "failed": [],
    }
    assert publish_pending(uow, chain)["published"] == 0  # nothing left: a re-run appends nothing
    chain.cosign()
    flow = fund_flow(chain, uuid)
    assert _edges(flow) == [
        ("platform", "escrow", "10000.00"),
        ("escrow", "borrower", "10000.00"),
        ("borrower", "repayment", due["total"]),
        ("borrower", "repayment", f"{settled // 100}.{settled % 100:02d}"),
        ("repayment", "borrower", "100.00"),
    ]
    assert flow["checkpoint"]["quorum_cosigned"] is True
    _verify(flow)
    assert [e["purpose"] for e in flow["edges"]] == [
        "disbursement",
        "disbursement",
        "repayment",
        "prepayment",
        "refund",
    ]

    # exact reconciliation with the journal's cash postings of this loan
    with uow() as u:
        received, paid = u.fund_movements.cash_postings(loan["internal_id"])
        rows = u.fund_movements.of_loan(uuid)
    assert received == first + settled
    assert paid == 1_000_000 + extra
    into_repayment = sum(r["amount"] for r in rows if r["target"] == "repayment")
    out_of_platform = sum(r["amount"] for r in rows if r["source"] in ("platform", "repayment"))
    assert (into_repayment, out_of_platform) == (received, paid)
    # every row points at its entry; the entry carries the row's movement id
    assert sorted(r["log_index"] for r in rows) == [e["entry_index"] for e in flow["edges"]]
    assert [e["movement"] for e in flow["edges"]] == [r["movement_id"] for r in rows]


def test_crash_between_append_and_mark_then_rerun(platform: Platform) -> None:
    uow, products = platform.uow, platform.products
    chain = _chain(platform)
    uuid = _open(platform)["id"]
    servicing.disburse(uow, products, uuid, 1_000_000, START, "d-crash")

    def crash(row: Mapping[str, Any], index: int) -> None:
        raise Crash(f"died after appending {row['movement_id']} at {index}")

    with pytest.raises(Crash):
        publish_pending(uow, chain, after_append=crash)
    with uow() as u:
        assert u.fund_movements.count_pending(uuid) == 2  # appended, but not marked
    assert len(_moves_on_log(chain, uuid)) == 1

    # a fresh process (a new ledger over the same database) finishes the job
    rerun = publish_pending(uow, _chain(platform))
    assert (rerun["already_on_log"], rerun["published"], rerun["pending"]) == (1, 1, 0)
    moves = _moves_on_log(chain, uuid)
    assert len(moves) == len(set(moves)) == 2
    flow = fund_flow(chain, uuid)  # the prev chain holds: one entry per movement, in order
    assert _edges(flow) == [
        ("platform", "escrow", "10000.00"),
        ("escrow", "borrower", "10000.00"),
    ]
    _verify(flow)


def test_publishers_take_turns(platform: Platform) -> None:
    uow, products = platform.uow, platform.products
    chain = _chain(platform)
    uuid = _open(platform)["id"]
    servicing.disburse(uow, products, uuid, 1_000_000, START, "d-lease")
    now = int(datetime.now(UTC).timestamp() * 1000)
    with uow() as u:  # another publisher is running
        assert u.fund_movements.take_lease(LEASE, "other", now, now + 60_000)
    busy = publish_pending(uow, chain)
    assert busy["busy"] is True and busy["published"] == 0 and busy["pending"] == 2
    # the read still answers, listing what is not on the log yet (no proof without an entry)
    flow = loan_fund_flow(uow, chain, uuid)
    assert flow["edges"] == [] and [p["to"] for p in flow["pending"]] == ["escrow", "borrower"]
    with uow() as u:  # that publisher died: its lease runs out
        assert u.fund_movements.take_lease(LEASE, "other", now - 120_000, now - 60_000)
    assert publish_pending(uow, chain)["published"] == 2
    flow = loan_fund_flow(uow, chain, uuid)
    assert flow["pending"] == [] and len(flow["edges"]) == 2


def test_named_payee_and_payer_and_bad_nodes(platform: Platform) -> None:
    uow, products = platform.uow, platform.products
    chain = _chain(platform)
    uuid = _open(platform)["id"]
    with pytest.raises(ValidationError) as bad:
        servicing.disburse(uow, products, uuid, 1_000_000, START, "d-bad", payee="Zhang San")
    assert bad.value.field == "payee"
    view = servicing.show_loan(uow, uuid)
    assert view["status"] == "contracted"  # nothing changed
    with uow() as u:
        assert u.fund_movements.of_loan(uuid) == []

    servicing.disburse(uow, products, uuid, 1_000_000, START, "d-m", payee="merchant:shop-0042")
    with pytest.raises(ValidationError) as bad:
        servicing.repay(uow, products, uuid, 5_000, START, "r-bad", payer="13812345678")
    assert bad.value.field == "payer"
    servicing.repay(uow, products, uuid, 5_000, START, "r-b", payer="buyer:mill-07")
    publish_pending(uow, chain)
    assert _edges(fund_flow(chain, uuid)) == [
        ("platform", "escrow", "10000.00"),
        ("escrow", "merchant:shop-0042", "10000.00"),
        ("buyer:mill-07", "repayment", "50.00"),
    ]


def test_staged_releases_log_their_movements_once(platform: Platform) -> None:
    """The staged line's releases go through the outbox too (one owner): five movements, each
    once on the log, and a replayed release adds none."""
    uow, products = platform.uow, platform.products
    chain = _chain(platform)
    keys = {name: demo_key(name) for name in FARM_MEMBERS}
    farm = run_farm_demo(uow, products, chain, keys)
    with uow() as u:
        rows = u.fund_movements.of_loan(farm["loan"])
    assert [(r["kind"], r["target"], r["log_index"] is not None) for r in rows] == [
        ("disbursement", "escrow", True),
        ("disbursement", "supplier:seed-co-01", True),
        ("tranche", "escrow", True),
        ("tranche", "supplier:fertiliser-co-02", True),
        ("repayment", "repayment", True),
    ]
    again = release_stage(uow, products, chain, FARM_LINE, "sowing", date(2026, 3, 5))
    assert again["replayed"] is True
    assert publish_pending(uow, chain)["published"] == 0
    moves = _moves_on_log(chain, farm["loan"])
    assert moves == [r["movement_id"] for r in rows]


def test_recovery_after_write_off_is_a_movement(platform: Platform) -> None:
    uow, products = platform.uow, platform.products
    chain = _chain(platform)
    loan = _open(platform)
    servicing.disburse(uow, products, loan["id"], 1_000_000, START, "d-w")
    servicing.write_off(uow, products, loan["id"], START, "w-1")  # no cash moves: no movement
    servicing.repay(uow, products, loan["id"], 20_000, START, "rec-1")
    publish_pending(uow, chain)
    with uow() as u:
        rows = u.fund_movements.of_loan(loan["id"])
        received, paid = u.fund_movements.cash_postings(loan["internal_id"])
    assert [(r["kind"], r["source"], r["target"], r["amount"]) for r in rows][2:] == [
        ("recovery", "borrower", "repayment", 20_000)
    ]
    assert (received, paid) == (20_000, 1_000_000)
    assert _edges(fund_flow(chain, loan["id"]))[2:] == [("borrower", "repayment", "200.00")]
