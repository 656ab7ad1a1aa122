"""Fund flows: every movement of a loan's money as a hash-linked, lender-signed log entry, and the
verifiable graph of them.

A movement is a ``fund.move`` entry with body

    {"loan": <loan uuid>, "from": <node>, "to": <node>, "amount": "50000.00", "at": "2026-03-02",
     "purpose": "...", "prev": <hex leaf hash of the loan's previous movement, or "">}

Nodes are roles, not people: ``platform``, ``escrow``, ``supplier:<id>``, ``merchant:<id>``,
``farmer:<commitment>``, ``borrower``, ``repayment``. A farmer appears only as a salted commitment
(the log never holds personal data).

Invariants:

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
import re
from datetime import date
from typing import Any

from xindai.app import servicing
from xindai.app.chain import ChainService
from xindai.app.ports import UnitOfWorkFactory
from xindai.chain.merkle import leaf_hash, verify_inclusion
from xindai.kernel import InvariantViolation, ValidationError
from xindai.money.money import format_yuan, parse_yuan

MOVE_KIND = "fund.move"
_NODE_RE = re.compile(
    r"^(platform|escrow|borrower|repayment|(supplier|merchant|farmer|buyer|logistics):[a-z0-9:._-]{1,120})$"
)


def validate_node(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NODE_RE.match(value):
        raise ValidationError(
            field,
            "must be platform, escrow, borrower, repayment or supplier:/merchant:/farmer:/buyer:/"
            "logistics:<id> (a farmer by commitment only)",
        )
    return value


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
) -> int:
    """Log one movement of ``loan``'s money, linked to the loan's previous movement."""
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
    """A repayment through the servicing core, then its movement ``payer → repayment`` on the log.

    Idempotent like every money command: a repeated ``key`` posts nothing and logs nothing new
    (the movement is logged only when servicing applied the payment now).
    """
    validate_node(payer, "payer")
    result = servicing.repay(uow, products, loan_ref, amount, on, key)
    loan = servicing.show_loan(uow, loan_ref)["id"]
    if not result["replayed"]:
        result["entry"] = record_movement(
            chain, loan, payer, "repayment", amount, on, f"repayment {key}"
        )
    return result


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
