"""Double-entry accounting: the lender's chart of accounts, balanced journal entries, trial balance."""

from xindai.accounting.chart import CHART, Account, AccountType, account
from xindai.accounting.journal import JournalEntry, Line
from xindai.accounting.ledger import loan_balances, trial_balance

__all__ = [
    "CHART",
    "Account",
    "AccountType",
    "JournalEntry",
    "Line",
    "account",
    "loan_balances",
    "trial_balance",
]
