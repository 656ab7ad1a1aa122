"""Fund movements derived from a money command's journal entries: the rows of the fund-flow outbox.

A servicing money command (disburse, repay, prepay, write off) stores, in the SAME transaction as
its journal entries, one ``Movement`` per leg of cash the entries move (the transactional outbox);
``xindai.app.fund_flow.publish_pending`` later appends each to the consortium log exactly once.

Mapping, per cash line of a journal entry of the loan (the journal is the source of truth):

* a disbursement (cash credited on a ``disbursement`` entry) → two legs, ``platform → escrow`` and
  ``escrow → payee`` (``borrower`` unless the caller names a merchant, supplier, farmer or
  logistics node); kind ``disbursement`` for the first draw, ``tranche`` for a later one;
* cash received (a debit) → ``payer → repayment`` (``borrower`` unless named), kind ``repayment``,
  ``prepayment`` or ``recovery`` after the entry;
* any other cash paid out (suspense handed back when a loan closes) → ``repayment → borrower``,
  kind ``refund``.

Invariants: every cash line of the command's entries yields exactly one leg touching the outside
(``platform →`` or ``→ repayment`` or ``repayment → borrower``) of the same amount in fen, so the
movements of a loan reconcile with its journal's cash postings exactly; a movement's id is
``je-<journal entry id>-<leg>``, unique because journal entry ids are, and it carries no
client-chosen text (it goes on a shared log).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xindai.accounting.journal import JournalEntry
from xindai.kernel import ValidationError

_NODE_RE = re.compile(
    r"^(platform|escrow|borrower|repayment|(supplier|merchant|farmer|buyer|logistics):[a-z0-9:._-]{1,120})$"
)
PAYMENT_KINDS = ("repayment", "prepayment", "recovery")


def validate_node(value: object, field: str) -> str:
    """A fund-flow node (a role, never a person), or ``ValidationError`` naming ``field``."""
    if not isinstance(value, str) or not _NODE_RE.match(value):
        raise ValidationError(
            field,
            "must be platform, escrow, borrower, repayment or supplier:/merchant:/farmer:/buyer:/"
            "logistics:<id> (a farmer by commitment only)",
        )
    return value


@dataclass(frozen=True, slots=True)
class Movement:
    """One leg of a loan's money, as stored in the outbox before it is on the log."""

    movement_id: str
    loan_id: int
    loan_uuid: str
    kind: str
    source: str
    target: str
    amount: int  # fen, positive
    value_date: date
    purpose: str
    journal_entry_id: int
    idempotency_key: str


def from_journal(
    entries: Sequence[JournalEntry],
    entry_ids: Sequence[int],
    *,
    loan_id: int,
    loan_uuid: str,
    disbursed: int,
    key: str,
    party: str | None = None,
    purpose: str | None = None,
) -> list[Movement]:
    """The movements of one money command's stored ``entries`` (``entry_ids`` in the same order).

    ``disbursed`` is the loan's total drawn after the command (a draw equal to it is the first);
    ``party`` names the payee of a disbursement or the payer of a repayment.
    """
    out: list[Movement] = []
    for entry, entry_id in zip(entries, entry_ids, strict=True):
        leg = 0
        for line in entry.lines:
            if line.account != "cash":
                continue
            amount = abs(line.amount)
            legs: list[tuple[str, str]]
            if entry.kind == "disbursement" and line.amount < 0:
                kind = "disbursement" if disbursed == amount else "tranche"
                legs = [("platform", "escrow"), ("escrow", party or "borrower")]
            elif line.amount > 0:
                kind = entry.kind if entry.kind in PAYMENT_KINDS else "repayment"
                legs = [(party or "borrower", "repayment")]
            else:
                kind, legs = "refund", [("repayment", "borrower")]
            for source, target in legs:
                leg += 1
                out.append(
                    Movement(
                        movement_id=f"je-{entry_id}-{leg}",
                        loan_id=loan_id,
                        loan_uuid=loan_uuid,
                        kind=kind,
                        source=source,
                        target=target,
                        amount=amount,
                        value_date=entry.business_date,
                        purpose=purpose if purpose and kind != "refund" else kind,
                        journal_entry_id=entry_id,
                        idempotency_key=key,
                    )
                )
    return out
