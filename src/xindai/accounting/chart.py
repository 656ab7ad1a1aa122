"""The lender's chart of accounts.

Codes follow the usual Chinese layout (1xxx assets, 2xxx liabilities, 3xxx equity, 4xxx income,
5xxx expenses). Amounts on journal lines are signed: debit positive, credit negative, so an entry
balances when its lines sum to zero and the trial balance of the whole ledger is always zero.
Room is left for risk-pool and insurance accounts (21xx, 12xx) used by the sharing pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xindai.kernel.errors import ValidationError


class AccountType(StrEnum):
    ASSET = "asset"
    CONTRA_ASSET = "contra-asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    key: str
    name_en: str
    name_zh: str
    type: AccountType


_ACCOUNTS = (
    Account("1001", "cash", "Cash at bank", "银行存款", AccountType.ASSET),
    Account(
        "1101",
        "principal_receivable",
        "Loan principal receivable",
        "应收贷款本金",
        AccountType.ASSET,
    ),
    Account("1102", "interest_receivable", "Interest receivable", "应收利息", AccountType.ASSET),
    Account("1103", "fee_receivable", "Fee receivable", "应收费用", AccountType.ASSET),
    Account(
        "1104", "penalty_receivable", "Penalty interest receivable", "应收罚息", AccountType.ASSET
    ),
    Account(
        "1201",
        "insurance_claim_receivable",
        "Insurance claims receivable",
        "应收保险理赔款",
        AccountType.ASSET,
    ),
    Account(
        "1290", "loss_allowance", "Loan loss allowance", "贷款损失准备", AccountType.CONTRA_ASSET
    ),
    Account(
        "2001",
        "suspense",
        "Borrower advances and unapplied cash",
        "预收款项（待处理）",
        AccountType.LIABILITY,
    ),
    Account(
        "2101",
        "risk_pool_deposits",
        "Risk-sharing pool deposits",
        "风险共担池保证金",
        AccountType.LIABILITY,
    ),
    Account(
        "2102", "guarantee_deposits", "Guarantor deposits", "担保保证金", AccountType.LIABILITY
    ),
    Account("3001", "lender_capital", "Lender funding capital", "放贷资本金", AccountType.EQUITY),
    Account("4001", "interest_income", "Interest income", "利息收入", AccountType.INCOME),
    Account("4002", "fee_income", "Fee income", "手续费收入", AccountType.INCOME),
    Account("4003", "penalty_income", "Penalty interest income", "罚息收入", AccountType.INCOME),
    Account(
        "5001", "write_off_expense", "Loan write-off expense", "贷款核销损失", AccountType.EXPENSE
    ),
    Account(
        "5002",
        "impairment_expense",
        "Credit impairment expense",
        "信用减值损失",
        AccountType.EXPENSE,
    ),
)

CHART: dict[str, Account] = {a.key: a for a in _ACCOUNTS}

# The per-loan sub-ledger accounts: a loan's balances are the sums of its lines on these.
LOAN_ACCOUNTS = (
    "principal_receivable",
    "interest_receivable",
    "fee_receivable",
    "penalty_receivable",
    "suspense",
)


def account(key: str) -> Account:
    """Look an account up by key; unknown keys are a ``ValidationError``."""
    try:
        return CHART[key]
    except KeyError:
        raise ValidationError("account", f"unknown account {key!r}") from None
