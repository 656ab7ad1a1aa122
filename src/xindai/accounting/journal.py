"""Journal entries that refuse to be unbalanced.

A ``Line`` is a signed amount of fen on one account (debit > 0, credit < 0), optionally tagged with
the loan it belongs to (the per-loan sub-ledger). A ``JournalEntry`` is immutable and its lines sum
to zero — constructing an unbalanced one raises ``InvariantViolation``: a fen lost or invented is a
severity-one bug, so it cannot even be represented.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from xindai.accounting.chart import CHART
from xindai.kernel.errors import InvariantViolation


@dataclass(frozen=True, slots=True)
class Line:
    account: str
    amount: int  # fen; debit positive, credit negative
    loan_id: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Line.amount must be int fen")
        if self.account not in CHART:
            raise InvariantViolation(f"unknown account {self.account!r}")


def debit(account: str, amount: int, loan_id: int | None = None) -> Line:
    return Line(account, amount, loan_id)


def credit(account: str, amount: int, loan_id: int | None = None) -> Line:
    return Line(account, -amount, loan_id)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One balanced accounting event, dated with the business date it belongs to."""

    business_date: date
    kind: str
    lines: tuple[Line, ...]
    loan_id: int | None = None
    memo: str = ""
    meta: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvariantViolation(f"journal entry {self.kind!r} has no lines")
        total = sum(line.amount for line in self.lines)
        if total != 0:
            raise InvariantViolation(
                f"journal entry {self.kind!r} is unbalanced by {total} fen: {self.lines}"
            )

    @classmethod
    def of(
        cls,
        business_date: date,
        kind: str,
        lines: Iterable[Line],
        loan_id: int | None = None,
        memo: str = "",
    ) -> JournalEntry:
        """Build an entry, dropping zero lines (a movement of nothing is not a posting)."""
        kept = tuple(line for line in lines if line.amount != 0)
        return cls(business_date, kind, kept, loan_id, memo)
