"""The loan aggregate: contract terms, instalment states, the accrual cursor and derived balances.

Invariants (checked by ``Loan.check``):
* paid amounts never exceed what is due on an instalment; nothing is negative;
* the sum of instalment principal equals the principal disbursed (the schedule covers every fen);
* balances are *derived* from instalment state, never stored separately in the domain, so they can
  be compared with the journal (the sub-ledger test does exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from xindai.kernel.errors import InvariantViolation
from xindai.servicing.delinquency import Bucket, bucket_for


class LoanStatus(StrEnum):
    CONTRACTED = "contracted"  # signed, nothing disbursed yet
    ACTIVE = "active"
    WRITTEN_OFF = "written-off"
    CLOSED = "closed"


@dataclass(slots=True)
class InstallmentState:
    period: int
    start_date: date
    due_date: date
    principal: int
    interest: int
    fee: int
    accrued_interest: int = 0
    fee_recognised: bool = False
    late_fee: int = 0  # recognised when the instalment falls overdue
    prepayment_fee: int = 0  # recognised and paid when principal is prepaid in this period
    paid_principal: int = 0
    paid_interest: int = 0
    paid_fee: int = 0  # covers fee and late fee

    @property
    def total_fee(self) -> int:
        return self.fee + self.late_fee + self.prepayment_fee

    @property
    def unpaid_principal(self) -> int:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> int:
        return self.interest - self.paid_interest

    @property
    def unpaid_fee(self) -> int:
        return self.total_fee - self.paid_fee

    @property
    def payable_fee(self) -> int:
        """Fees recognised (due, late or prepayment) and not yet paid."""
        recognised = self.fee if self.fee_recognised else 0
        return recognised + self.late_fee + self.prepayment_fee - self.paid_fee

    @property
    def is_settled(self) -> bool:
        return self.unpaid_principal == 0 and self.unpaid_interest == 0 and self.unpaid_fee == 0


@dataclass(slots=True)
class Loan:
    """One loan (or drawn credit line) with everything servicing needs, and no I/O."""

    id: int
    number: str
    product_code: str
    currency: str
    annual_rate: Decimal
    method: str
    term: int
    start_date: date
    line_amount: int  # contract principal, or the line limit for multi-tranche loans
    status: LoanStatus = LoanStatus.CONTRACTED
    first_due_date: date | None = None
    disbursed: int = 0
    installments: list[InstallmentState] = field(default_factory=list)
    # accrual cursor: the period being accrued and its anchor
    cursor: int = 1
    anchor_date: date | None = None
    anchor_accrued: int = 0
    # penalty
    penalty_charged: int = 0
    penalty_paid: int = 0
    penalty_carry: int = 0  # micro-fen below one fen, not yet posted
    # cash held for the borrower (overpayments), applied on due dates
    suspense: int = 0
    # write-off
    written_off_principal: int = 0
    written_off_interest: int = 0
    written_off_fee: int = 0
    written_off_penalty: int = 0
    recovered: int = 0
    # delinquency
    dpd: int = 0
    processed_through: date | None = None  # last business date run through end of day
    closed_on: date | None = None
    version: int = 0

    # --- derived views -----------------------------------------------------------------------
    @property
    def bucket(self) -> Bucket:
        return bucket_for(self.dpd)

    @property
    def principal_outstanding(self) -> int:
        paid = sum(i.paid_principal for i in self.installments)
        return self.disbursed - paid - self.written_off_principal

    @property
    def interest_receivable(self) -> int:
        accrued = sum(i.accrued_interest for i in self.installments)
        paid = sum(i.paid_interest for i in self.installments)
        return accrued - paid - self.written_off_interest

    @property
    def fee_receivable(self) -> int:
        recognised = sum(i.fee for i in self.installments if i.fee_recognised)
        late = sum(i.late_fee + i.prepayment_fee for i in self.installments)
        paid = sum(i.paid_fee for i in self.installments)
        return recognised + late - paid - self.written_off_fee

    @property
    def penalty_receivable(self) -> int:
        return self.penalty_charged - self.penalty_paid - self.written_off_penalty

    def balances(self) -> dict[str, int]:
        """The loan's sub-ledger, in the accounts' natural signs (see accounting.ledger)."""
        return {
            "principal_receivable": self.principal_outstanding,
            "interest_receivable": self.interest_receivable,
            "fee_receivable": self.fee_receivable,
            "penalty_receivable": self.penalty_receivable,
            "suspense": self.suspense,
        }

    def due_installments(self, on: date) -> list[InstallmentState]:
        """Instalments due on or before ``on`` that are not settled, oldest first."""
        return [i for i in self.installments if i.due_date <= on and not i.is_settled]

    def oldest_unpaid_due(self, on: date) -> date | None:
        due = self.due_installments(on)
        return due[0].due_date if due else None

    def current_installment(self) -> InstallmentState | None:
        """The instalment being accrued (the cursor), if the schedule has one."""
        for inst in self.installments:
            if inst.period == self.cursor:
                return inst
        return None

    def future_principal(self) -> int:
        """Principal of instalments from the cursor on (not yet due)."""
        return sum(i.unpaid_principal for i in self.installments if i.period >= self.cursor)

    def check(self) -> None:
        """Raise ``InvariantViolation`` if the state is inconsistent."""
        for i in self.installments:
            for name in (
                "principal",
                "interest",
                "fee",
                "accrued_interest",
                "paid_principal",
                "paid_interest",
                "paid_fee",
                "late_fee",
                "prepayment_fee",
            ):
                if getattr(i, name) < 0:
                    raise InvariantViolation(f"loan {self.number} period {i.period}: {name} < 0")
            if (
                i.paid_principal > i.principal
                or i.paid_interest > i.interest
                or i.paid_fee > i.total_fee
            ):
                raise InvariantViolation(f"loan {self.number} period {i.period} overpaid")
            if i.accrued_interest > i.interest:
                raise InvariantViolation(f"loan {self.number} period {i.period} over-accrued")
        if self.installments and sum(i.principal for i in self.installments) != self.disbursed:
            raise InvariantViolation(f"loan {self.number}: schedule principal != disbursed")
        for key, value in self.balances().items():
            if value < 0:
                raise InvariantViolation(f"loan {self.number}: {key} is negative ({value})")
        if self.penalty_carry < 0 or self.suspense < 0:
            raise InvariantViolation(f"loan {self.number}: negative carry or suspense")
