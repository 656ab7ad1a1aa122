"""Fund flows: every movement of a loan's money as a hash-linked, lender-signed log entry, and the
verifiable graph of them.

A movement is a ``fund.move`` entry with body

    {"loan": <loan uuid>, "from": <node>, "to": <node>, "amount": "50000.00", "at": "2026-03-02",
     "purpose": "...", "prev": <hex leaf hash of the loan's previous movement, or "">,
     "movement": "je-<journal entry id>-<leg>"}

Nodes are roles, not people: ``platform``, ``escrow``, ``supplier:<id>``, ``merchant:<id>``,
``farmer:<commitment>``, ``borrower``, ``repayment``. A farmer appears only as a salted commitment
(the log never holds personal data).

Who logs a movement: ONE owner, the fund-flow outbox. Servicing money commands (whoever calls them:
the CLI, the API, origination's payout, a staged line's release, ``record_repayment``) store the
movements of the cash they post in the same transaction as the journal (``app.fund_movements``);
``publish_pending`` appends them to the log. Nothing else calls ``record_movement``.

Invariants:

* Exactly once: each outbox row becomes one ``fund.move`` entry carrying its movement id. Before
  appending, the publisher looks the id up among the loan's movements on the log, so a crash after
  the append but before the row is marked re-marks it instead of appending twice. Publishers take a
  lease (one row in ``fund_flow_publisher``) so only one appends at a time — the per-loan ``prev``
  chain is computed from the log as it is when appending.
* Publishing is best effort for the money command: a failure leaves the rows pending (they are
  published by the next run: after the next money command, ``xindai eod run``, ``xindai chain
  publish-flows`` or a read of the loan's fund flow); it never undoes or fails the money command.
* The movements of one loan form a hash chain: each names the leaf hash of the one before, so
  dropping, inserting or reordering a movement breaks the chain even within a valid log;
  ``fund_flow`` re-checks the chain and refuses to serve a broken one.
* Every edge in the graph comes with its inclusion proof against one checkpoint (the latest
  quorum-cosigned one covering all movements, else an operator-signed one of the current size),
  and the proofs are verified before they are returned.
* Amounts are exact: integer fen inside, yuan strings with two decimals outside.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from xindai.app import servicing
from xindai.app.chain import ChainService
from xindai.app.fund_movements import validate_node
from xindai.app.ports import UnitOfWorkFactory
from xindai.chain.keys import key_fingerprint
from xindai.chain.members import Role
from xindai.chain.merkle import leaf_hash, verify_inclusion
from xindai.kernel import DomainError, InvariantViolation, ValidationError
from xindai.money.money import format_yuan, parse_yuan

__all__ = [
    "MOVE_KIND",
    "fund_flow",
    "loan_fund_flow",
    "publish_after_command",
    "publish_pending",
    "record_movement",
    "record_repayment",
    "validate_node",
]

_log = logging.getLogger(__name__)
MOVE_KIND = "fund.move"
LEASE = "fund-flow"
LEASE_MS = 60_000
#: renew the lease when this much of it has passed: an append takes milliseconds, so the lease
#: is certainly still ours for the next one (the renewal also detects a lease lost to a stall)
RENEW_MS = 10_000


def _moves(chain: ChainService, loan: str) -> list[int]:
    ledger = chain.ledger
    ledger.refresh()
    return [i for i in ledger.indices_about(f"loan:{loan}") if ledger.entry(i).kind == MOVE_KIND]


def record_movement(
    chain: ChainService,
    loan: str,
    source: str,
    target: str,
    amount: int,
    on: date,
    purpose: str,
    movement: str | None = None,
) -> int:
    """Log one movement of ``loan``'s money, linked to the loan's previous movement.

    Only the publisher calls this (one owner, one appender at a time under its lease)."""
    validate_node(source, "from")
    validate_node(target, "to")
    if source == target:
        raise ValidationError("to", "a movement goes somewhere else")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("amount", "must be a positive amount in fen")
    previous = _moves(chain, loan)
    prev = leaf_hash(chain.ledger.log.entry(previous[-1])).hex() if previous else ""
    body = {
        "loan": loan,
        "from": source,
        "to": target,
        "amount": format_yuan(amount),
        "at": on.isoformat(),
        "purpose": purpose,
        "prev": prev,
    }
    if movement is not None:
        body["movement"] = movement
    keys = chain.keys
    return chain.sign_and_submit(MOVE_KIND, keys.lender_member, body, keys.lender_key)


def record_repayment(
    uow: UnitOfWorkFactory,
    products: servicing.Products,
    chain: ChainService,
    loan_ref: str,
    payer: str,
    amount: int,
    on: date,
    key: str,
) -> dict[str, Any]:
    """A repayment through the servicing core by ``payer``, then its movement ``payer →
    repayment`` published on the log.

    Idempotent like every money command: a repeated ``key`` posts nothing and logs nothing new
    (the outbox row was written once, with the first posting). ``entries`` are the log indices
    of the command's movements (empty while they are still pending).
    """
    validate_node(payer, "payer")
    result = servicing.repay(uow, products, loan_ref, amount, on, key, payer=payer)
    loan = servicing.show_loan(uow, loan_ref)["id"]
    publish_pending(uow, chain, loan=loan)
    with uow() as u:
        rows = [r for r in u.fund_movements.of_loan(loan) if r["idempotency_key"] == key]
    result["entries"] = [r["log_index"] for r in rows if r["log_index"] is not None]
    if result["entries"]:
        result["entry"] = result["entries"][-1]
    return result


def ensure_lender(chain: ChainService) -> None:
    """Register the lender's member key (operator-signed) if the log does not know it yet: the
    lender signs every movement."""
    keys = chain.keys
    chain.ledger.refresh()
    public = keys.lender_key.public_key
    if chain.ledger.registry.record(key_fingerprint(public)) is None:
        chain.ledger.register_member(keys.lender_member, Role.LENDER, public)


def _logged_movements(chain: ChainService, loan: str) -> dict[str, int]:
    """Movement id → log index of the loan's movements already on the log."""
    out: dict[str, int] = {}
    for i in _moves(chain, loan):
        movement = chain.ledger.entry(i).body.get("movement")
        if isinstance(movement, str):
            out[movement] = i
    return out


PublishHook = Callable[[Mapping[str, Any], int], None]


def _lease(uow: UnitOfWorkFactory, holder: str) -> bool:
    """Take or renew the publisher's lease for ``holder``; False if another holder has it."""
    now = int(time.time() * 1000)
    with uow() as u:
        return u.fund_movements.take_lease(LEASE, holder, now, now + LEASE_MS)


def publish_pending(
    uow: UnitOfWorkFactory,
    chain: ChainService,
    *,
    loan: str | None = None,
    batch: int = 1000,
    after_append: PublishHook | None = None,
) -> dict[str, Any]:
    """Append every pending outbox movement (or one ``loan``'s, by UUID) to the log, exactly once.

    Returns ``{published, already_on_log, pending, busy, failed}``: ``already_on_log`` counts rows
    whose movement a crashed run had appended but not marked (marked now, not appended again);
    ``busy`` is true when another publisher holds the lease (this run stopped; its rows stay
    pending); ``failed`` lists loans whose next movement could not be logged (their later
    movements wait, keeping the order). ``after_append(row, index)`` is a test hook called
    between the append and the mark — where a crash is most awkward.
    """
    holder = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    report: dict[str, Any] = {
        "published": 0,
        "already_on_log": 0,
        "pending": 0,
        "busy": False,
        "failed": [],
    }
    with uow() as u:
        if not u.fund_movements.pending(loan, 1):
            return report
    if not _lease(uow, holder):
        report["busy"] = True
    else:
        try:
            _publish_batches(uow, chain, holder, loan, batch, after_append, report)
        finally:
            with uow() as u:
                u.fund_movements.release_lease(LEASE, holder)
    with uow() as u:
        report["pending"] = u.fund_movements.count_pending(loan)
    return report


def _publish_batches(
    uow: UnitOfWorkFactory,
    chain: ChainService,
    holder: str,
    loan: str | None,
    batch: int,
    after_append: PublishHook | None,
    report: dict[str, Any],
) -> None:
    ensure_lender(chain)
    on_log: dict[str, dict[str, int]] = {}
    blocked: set[str] = set()
    renewed = time.monotonic()
    while True:
        with uow() as u:  # read under the lease: a previous holder may have published some
            rows = u.fund_movements.pending(loan, batch)
        progress = False
        for row in rows:
            loan_uuid = str(row["loan_uuid"])
            if loan_uuid in blocked:
                continue
            if time.monotonic() - renewed > RENEW_MS / 1000:
                if not _lease(uow, holder):  # lost it (a stall past its end): stop appending
                    report["busy"] = True
                    return
                renewed = time.monotonic()
            try:
                logged = on_log.get(loan_uuid)
                if logged is None:
                    logged = on_log[loan_uuid] = _logged_movements(chain, loan_uuid)
                index = logged.get(row["movement_id"])
                if index is None:
                    index = record_movement(
                        chain,
                        loan_uuid,
                        row["source"],
                        row["target"],
                        int(row["amount"]),
                        row["value_date"],
                        row["purpose"],
                        movement=row["movement_id"],
                    )
                    logged[row["movement_id"]] = index
                    report["published"] += 1
                    if after_append is not None:
                        after_append(row, index)
                else:
                    report["already_on_log"] += 1
            except DomainError as exc:
                blocked.add(loan_uuid)
                report["failed"].append(
                    {"loan": loan_uuid, "movement": row["movement_id"], "error": str(exc)}
                )
                continue
            with uow() as u:
                u.fund_movements.mark_published(int(row["id"]), index)
            progress = True
        if len(rows) < batch or not progress:
            return


def publish_after_command(
    uow: UnitOfWorkFactory,
    chain: ChainService | Callable[[], ChainService],
    loan_ref: str,
    lock: contextlib.AbstractContextManager[Any] | None = None,
) -> dict[str, Any] | None:
    """Best effort after a money command: publish the pending movements of the loan (id, UUID or
    number); any failure is logged and leaves them pending — it never fails the money command,
    which has already committed. ``lock`` serialises use of a shared ``ChainService``."""
    try:
        with uow() as u:
            loan = u.loans.uuid_of(u.loans.id_for(loan_ref))
        service = chain if isinstance(chain, ChainService) else chain()
        with lock or contextlib.nullcontext():
            return publish_pending(uow, service, loan=loan)
    except Exception as exc:  # the command committed; the rows wait for the next run
        _log.warning("fund movements of loan %s left pending: %s", loan_ref, exc)
        _log.debug("publishing failed", exc_info=True)
        return None


def loan_fund_flow(uow: UnitOfWorkFactory, chain: ChainService, loan: str) -> dict[str, Any]:
    """``fund_flow`` after publishing the loan's pending movements (best effort); movements still
    not on the log are listed under ``pending`` (no proof yet)."""
    # reading must not fail because publishing did: the rows stay pending, listed below
    with contextlib.suppress(DomainError):
        publish_pending(uow, chain, loan=loan)
    flow = fund_flow(chain, loan)
    with uow() as u:
        rows = u.fund_movements.pending(loan)
    flow["pending"] = [
        {
            "movement": r["movement_id"],
            "kind": r["kind"],
            "from": r["source"],
            "to": r["target"],
            "amount": format_yuan(int(r["amount"])),
            "at": r["value_date"].isoformat(),
        }
        for r in rows
    ]
    return flow


def fund_flow(chain: ChainService, loan: str) -> dict[str, Any]:
    """The loan's money as a graph: nodes, edges (amount, time, entry, inclusion proof), the
    checkpoint the proofs are against, and per-node totals in and out."""
    indices = _moves(chain, loan)
    log = chain.ledger.log
    signed = chain.latest_cosigned(max(indices) + 1) if indices else None
    cosigned = signed is not None
    if signed is None:
        signed = chain.ledger.checkpoint()  # operator-signed only; reading never writes
    cp = signed.checkpoint
    nodes: dict[str, dict[str, int]] = {}
    edges = []
    prev = ""
    for n, i in enumerate(indices):
        data = log.entry(i)
        entry = chain.ledger.entry(i)
        body = entry.body
        if body.get("prev") != prev:
            raise InvariantViolation(
                f"fund flow of {loan}: movement {n} (entry {i}) breaks the chain"
            )
        leaf = leaf_hash(data)
        prev = leaf.hex()
        proof = log.inclusion_proof(i, cp.size)
        verify_inclusion(leaf, i, cp.size, proof, cp.root)
        amount = parse_yuan(body["amount"], "amount")
        for node, side in ((body["from"], "out"), (body["to"], "in")):
            totals = nodes.setdefault(str(node), {"in": 0, "out": 0})
            totals[side] += amount
        edges.append(
            {
                "from": body["from"],
                "to": body["to"],
                "amount": body["amount"],
                "at": body["at"],
                "purpose": body.get("purpose", ""),
                "movement": body.get("movement"),
                "signed_by": entry.member,
                "entry_index": i,
                "leaf_hash": base64.b64encode(leaf).decode("ascii"),
                "inclusion_proof": [base64.b64encode(p).decode("ascii") for p in proof],
            }
        )
    return {
        "loan": loan,
        "nodes": [
            {"id": name, "in": format_yuan(t["in"]), "out": format_yuan(t["out"])}
            for name, t in nodes.items()
        ],
        "edges": edges,
        "checkpoint": {
            "size": cp.size,
            "root": base64.b64encode(cp.root).decode("ascii"),
            "note": signed.text(),
            "quorum_cosigned": cosigned,
        },
    }
