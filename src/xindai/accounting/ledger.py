"""Derived views of the journal: trial balance and per-loan sub-ledger balances.

Invariants are computed, never assumed: the trial balance sums every line and must be zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from xindai.accounting.chart import LOAN_ACCOUNTS
from xindai.accounting.journal import Line


def trial_balance(lines: Iterable[Line]) -> dict[str, int]:
    """Signed balance per account (debit positive). Their sum is zero for a sound ledger."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.account] += line.amount
    return dict(totals)


def loan_balances(lines: Iterable[Line]) -> dict[int, dict[str, int]]:
    """Per loan, the balance of each sub-ledger account, in the account's natural sign.

    Receivables are debit balances (positive when owed to the lender); suspense is a credit balance
    (positive when the lender holds the borrower's money).
    """
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LOAN_ACCOUNTS, 0))
    for line in lines:
        if line.loan_id is None or line.account not in LOAN_ACCOUNTS:
            continue
        sign = -1 if line.account == "suspense" else 1
        out[line.loan_id][line.account] += sign * line.amount
    return dict(out)
