"""Servicing use cases: open a loan, disburse/draw, repay, prepay, write off, view.

Every money command runs in one unit of work, locks the loan, catches it up to the value date with
the same end-of-day step the batch uses, applies the command, and stores the loan, its journal
entries and the idempotency record together — and, in the same transaction, the fund-flow outbox rows of
the cash those entries move (``app.fund_movements``; published to the consortium log later by
``app.fund_flow.publish_pending``). A repeated idempotency key returns the first result and posts
nothing, and writes no movement; a key reused for another command or loan is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from xindai.accounting.journal import JournalEntry
from xindai.app import fund_movements
from xindai.app.ports import UnitOfWork, UnitOfWorkFactory
from xindai.app.quoting import Quote, QuoteRequest, build_quote, ensure_within_cap
from xindai.compliance.caps import CostCaps
from xindai.kernel.errors import ConflictError, DuplicateKeyError, ValidationError
from xindai.kernel.ids import new_id
from xindai.money.money import format_yuan
from xindai.products.loan_product import LoanProduct
from xindai.servicing import lifecycle
from xindai.servicing.loan import Loan
from xindai.servicing.schedule import PrepaymentMode, RepaymentMethod

Products = Mapping[str, LoanProduct]


@dataclass(frozen=True, slots=True)
class OpenLoan:
    """A contract from an accepted offer: the terms are frozen here."""

    product_code: str
    principal: int  # fen: the loan amount, or the line limit for a multi-tranche product
    term: int
    method: str
    annual_rate: Decimal
    start_date: date
    first_due_date: date | None = None
    borrower_ref: str | None = None


def _product(products: Products, code: str) -> LoanProduct:
    try:
        return products[code]
    except KeyError:
        raise ValidationError("product_code", f"unknown product {code!r}") from None


def validate_against_product(cmd: OpenLoan, product: LoanProduct) -> None:
    if cmd.principal <= 0:
        raise ValidationError("principal", "must be positive")
    if cmd.term not in product.terms:
        raise ValidationError(
            "term", f"{cmd.term} is not offered by {product.code} (terms {list(product.terms)})"
        )
    if cmd.method not in product.methods:
        raise ValidationError(
            "method",
            f"{cmd.method!r} is not offered by {product.code} ({', '.join(product.methods)})",
        )
    if not product.min_rate <= cmd.annual_rate <= product.max_rate:
        raise ValidationError(
            "annual_rate", f"{cmd.annual_rate} is outside {product.min_rate}–{product.max_rate}"
        )
    if not product.min_principal <= cmd.principal <= product.max_principal:
        raise ValidationError(
            "principal",
            f"{format_yuan(cmd.principal)} is outside {format_yuan(product.min_principal)}–{format_yuan(product.max_principal)}",
        )


def offer_quote(cmd: OpenLoan, product: LoanProduct) -> Quote:
    """The quote of a contract: the schedule and APR the servicing core will hold for it."""
    return build_quote(
        QuoteRequest(
            principal=cmd.principal,
            term=cmd.term,
            method=RepaymentMethod(cmd.method),
            annual_rate=cmd.annual_rate,
            monthly_fee_rate=product.monthly_fee_rate,
            start_date=cmd.start_date,
            first_due_date=cmd.first_due_date,
            daily_interest=product.daily_interest,
            day_count=product.day_count,
        ),
        CostCaps(all_in_annual=product.all_in_cap),
    )


def ensure_offer_within_cap(cmd: OpenLoan, product: LoanProduct) -> None:
    """Price the offer as a quote (the borrower's real cash flows, fees included) and refuse it
    above the product's all-in cap — the cap is checked on every quote and every offer."""
    ensure_within_cap(offer_quote(cmd, product))


def open_loan(uow_factory: UnitOfWorkFactory, products: Products, cmd: OpenLoan) -> dict[str, Any]:
    """Create a contracted (not yet disbursed) loan; return its view."""
    with uow_factory() as uow:
        return open_loan_in(uow, products, cmd)


def open_loan_in(uow: UnitOfWork, products: Products, cmd: OpenLoan) -> dict[str, Any]:
    """``open_loan`` inside the caller's unit of work, so that a caller's own record of the
    contract (origination's acceptance) commits together with the loan or not at all."""
    product = _product(products, cmd.product_code)
    validate_against_product(cmd, product)
    ensure_offer_within_cap(cmd, product)
    uuid = new_id()
    loan = Loan(
        id=0,
        number="XD" + uuid.replace("-", "")[:12].upper(),
        product_code=product.code,
        currency=product.currency,
        annual_rate=cmd.annual_rate,
        method=cmd.method,
        term=cmd.term,
        start_date=cmd.start_date,
        line_amount=cmd.principal,
        first_due_date=cmd.first_due_date,
    )
    loan_id = uow.loans.add(loan, uuid=uuid, borrower_ref=cmd.borrower_ref)
    loan.id = loan_id
    return loan_view(loan, uuid)


def _run_money_command(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    *,
    key: str,
    command: str,
    loan_ref: str,
    on: date,
    act: Callable[[Loan, LoanProduct], tuple[dict[str, Any], list[JournalEntry]]],
    party: str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    if not key or len(key) > 128:
        raise ValidationError("idempotency_key", "is required (1–128 characters)")
    if purpose is not None and not 0 < len(purpose) <= 200:
        raise ValidationError("purpose", "must be 1–200 characters")
    for attempt in range(2):
        try:
            with uow_factory() as uow:
                loan_id = uow.loans.id_for(loan_ref)
                loan = uow.loans.get(loan_id, lock=True)
                first = uow.idempotency.get(key)
                if first is not None:
                    return _replay(first, key, command, loan_id)
                product = _product(products, loan.product_code)
                # a contracted loan has no processed date, so catching up is a no-op for it
                entries = lifecycle.catch_up(loan, product, on)
                result, moved = act(loan, product)
                entries += moved
                uow.loans.save(loan)
                entry_ids = uow.journal.add(entries)
                # the outbox: the movements commit with the journal entries or not at all
                uow.fund_movements.add(
                    fund_movements.from_journal(
                        entries,
                        entry_ids,
                        loan_id=loan_id,
                        loan_uuid=uow.loans.uuid_of(loan_id),
                        disbursed=loan.disbursed,
                        key=key,
                        party=party,
                        purpose=purpose,
                    )
                )
                result = {
                    "command": command,
                    "loan_id": loan_id,
                    "loan_number": loan.number,
                    "on": on.isoformat(),
                    "status": loan.status.value,
                    **result,
                }
                uow.idempotency.put(key, command, loan_id, result)
                return {**result, "replayed": False}
        except DuplicateKeyError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _replay(first: dict[str, Any], key: str, command: str, loan_id: int) -> dict[str, Any]:
    if first.get("_command") != command or first.get("loan_id") != loan_id:
        raise ConflictError(f"idempotency key {key!r} was already used for another command or loan")
    out = {k: v for k, v in first.items() if k != "_command"}
    out["replayed"] = True
    return out


def parse_prepayment_mode(value: str | None) -> PrepaymentMode:
    """``reduce-term`` or ``reduce-installment`` (the default); anything else names ``mode``."""
    try:
        return PrepaymentMode(value or PrepaymentMode.REDUCE_INSTALLMENT)
    except ValueError:
        raise ValidationError("mode", "must be reduce-term or reduce-installment") from None


def _alloc_dict(a: lifecycle.Allocation) -> dict[str, str]:
    return {k: format_yuan(v) for k, v in a.as_dict().items()}


def disburse(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    loan_ref: str,
    amount: int,
    on: date,
    key: str,
    *,
    payee: str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Disburse a loan, or draw a tranche of a multi-tranche line, on ``on``.

    ``payee`` is the fund-flow node the money goes to (default ``borrower``; e.g.
    ``merchant:<id>`` for BNPL, ``supplier:<id>`` for a staged line's stage)."""
    if payee is not None:
        fund_movements.validate_node(payee, "payee")

    def act(loan: Loan, product: LoanProduct) -> tuple[dict[str, Any], list[JournalEntry]]:
        entry = lifecycle.disburse(loan, product, on, amount)
        return {"amount": format_yuan(amount), "disbursed": format_yuan(loan.disbursed)}, [entry]

    return _run_money_command(
        uow_factory,
        products,
        key=key,
        command="disburse",
        loan_ref=loan_ref,
        on=on,
        act=act,
        party=payee,
        purpose=purpose,
    )


def repay(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    loan_ref: str,
    amount: int,
    on: date,
    key: str,
    *,
    payer: str | None = None,
) -> dict[str, Any]:
    """Apply a repayment; ``payer`` is the fund-flow node that paid (default ``borrower``)."""
    if payer is not None:
        fund_movements.validate_node(payer, "payer")

    def act(loan: Loan, product: LoanProduct) -> tuple[dict[str, Any], list[JournalEntry]]:
        allocation, entry = lifecycle.repay(loan, product, on, amount)
        return {"amount": format_yuan(amount), "allocation": _alloc_dict(allocation)}, [entry]

    return _run_money_command(
        uow_factory,
        products,
        key=key,
        command="repay",
        loan_ref=loan_ref,
        on=on,
        act=act,
        party=payer,
    )


def prepay(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    loan_ref: str,
    amount: int,
    on: date,
    key: str,
    mode: PrepaymentMode = PrepaymentMode.REDUCE_INSTALLMENT,
) -> dict[str, Any]:
    def act(loan: Loan, product: LoanProduct) -> tuple[dict[str, Any], list[JournalEntry]]:
        allocation, entry = lifecycle.prepay(loan, product, on, amount, mode)
        return {
            "amount": format_yuan(amount),
            "mode": mode.value,
            "allocation": _alloc_dict(allocation),
        }, [entry]

    return _run_money_command(
        uow_factory, products, key=key, command="prepay", loan_ref=loan_ref, on=on, act=act
    )


def write_off(
    uow_factory: UnitOfWorkFactory, products: Products, loan_ref: str, on: date, key: str
) -> dict[str, Any]:
    def act(loan: Loan, product: LoanProduct) -> tuple[dict[str, Any], list[JournalEntry]]:
        entry = lifecycle.write_off(loan, product, on)
        total = sum(ln.amount for ln in entry.lines if ln.account == "write_off_expense")
        return {"written_off": format_yuan(total)}, [entry]

    return _run_money_command(
        uow_factory, products, key=key, command="write-off", loan_ref=loan_ref, on=on, act=act
    )


def show_loan(uow_factory: UnitOfWorkFactory, loan_ref: str) -> dict[str, Any]:
    with uow_factory() as uow:
        loan_id = uow.loans.id_for(loan_ref)
        loan = uow.loans.get(loan_id)
        return loan_view(loan, uow.loans.uuid_of(loan_id))


def amount_due(loan: Loan) -> int:
    """What the borrower owes today: penalty plus everything due and unpaid, less cash held."""
    on = loan.processed_through or loan.start_date
    due = sum(
        i.payable_fee + (i.accrued_interest - i.paid_interest) + i.unpaid_principal
        for i in loan.due_installments(on)
    )
    return max(0, due + loan.penalty_receivable - loan.suspense)


def loan_view(loan: Loan, uuid: str) -> dict[str, Any]:
    """The public view of a loan: terms, state, balances and schedule (yuan strings)."""
    return {
        "id": uuid,
        "internal_id": loan.id,
        "number": loan.number,
        "product_code": loan.product_code,
        "currency": loan.currency,
        "status": loan.status.value,
        "annual_rate": str(loan.annual_rate),
        "method": loan.method,
        "term": loan.term,
        "start_date": loan.start_date.isoformat(),
        "line_amount": format_yuan(loan.line_amount),
        "disbursed": format_yuan(loan.disbursed),
        "dpd": loan.dpd,
        "bucket": loan.bucket.value,
        "processed_through": loan.processed_through.isoformat() if loan.processed_through else None,
        "closed_on": loan.closed_on.isoformat() if loan.closed_on else None,
        "balances": {k: format_yuan(v) for k, v in loan.balances().items()},
        "due_now": format_yuan(amount_due(loan)),
        "schedule": [
            {
                "period": i.period,
                "start_date": i.start_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "principal": format_yuan(i.principal),
                "interest": format_yuan(i.interest),
                "fee": format_yuan(i.total_fee),
                "total": format_yuan(i.principal + i.interest + i.total_fee),
                "paid": format_yuan(i.paid_principal + i.paid_interest + i.paid_fee),
                "accrued_interest": format_yuan(i.accrued_interest),
                "settled": i.is_settled,
            }
            for i in loan.installments
        ],
    }
