"""``/v1/loans``: open, disburse, repay, prepay, write off and read loans.

Money commands require an ``Idempotency-Key`` header: a repeat returns the first result (with
``replayed: true``) and posts nothing. After each, the loan's fund movements (written with the
journal entry) are published to the consortium log, best effort: a failure leaves them pending and
never fails the command.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from xindai.api.chain import publish_flows
from xindai.api.deps import PlatformDep
from xindai.app import servicing
from xindai.kernel.dates import parse_date
from xindai.money.money import parse_yuan
from xindai.money.rates import parse_rate

router = APIRouter(prefix="/v1/loans", tags=["loans"])

IdemKey = Annotated[str, Header(alias="Idempotency-Key", description="Unique per money command.")]


class LoanIn(BaseModel):
    product_code: str = Field(examples=["consumer-instalment"])
    principal: str = Field(examples=["10000"], description="Amount or line limit, yuan.")
    term: int = Field(examples=[12])
    method: str = Field(examples=["equal-installment"])
    annual_rate: str = Field(examples=["0.12"])
    start_date: str = Field(examples=["2026-01-15"])
    borrower_ref: str | None = None


class MoneyIn(BaseModel):
    amount: str = Field(examples=["888.49"], description="Yuan, at most two decimals.")
    on: str = Field(examples=["2026-02-15"], description="Value date, YYYY-MM-DD.")


class DisburseIn(MoneyIn):
    payee: str | None = Field(
        None,
        examples=["merchant:shop-0042"],
        description="Fund-flow node paid (default borrower): merchant:<id> for BNPL, supplier:<id>…",
    )


class PrepayIn(MoneyIn):
    mode: str = Field("reduce-installment", description="reduce-term | reduce-installment")


class DateIn(BaseModel):
    on: str = Field(examples=["2026-08-01"])


@router.post("", status_code=201, summary="Open a contracted loan from accepted terms")
def create_loan(body: LoanIn, platform: PlatformDep) -> dict[str, Any]:
    cmd = servicing.OpenLoan(
        product_code=body.product_code,
        principal=parse_yuan(body.principal, "principal"),
        term=body.term,
        method=body.method,
        annual_rate=parse_rate(body.annual_rate, "annual_rate"),
        start_date=parse_date(body.start_date, "start_date"),
        borrower_ref=body.borrower_ref,
    )
    return servicing.open_loan(platform.uow, platform.products, cmd)


@router.get("/{loan_id}", summary="A loan with its schedule and balances")
def get_loan(loan_id: str, platform: PlatformDep) -> dict[str, Any]:
    return servicing.show_loan(platform.uow, loan_id)


@router.post("/{loan_id}/disbursements", summary="Disburse, or draw a tranche")
def post_disbursement(
    loan_id: str, body: DisburseIn, request: Request, platform: PlatformDep, key: IdemKey
) -> dict[str, Any]:
    return publish_flows(
        platform,
        request,
        loan_id,
        servicing.disburse(
            platform.uow,
            platform.products,
            loan_id,
            parse_yuan(body.amount, "amount"),
            parse_date(body.on, "on"),
            key,
            payee=body.payee,
        ),
    )


@router.post("/{loan_id}/repayments", summary="Apply a repayment")
def post_repayment(
    loan_id: str, body: MoneyIn, request: Request, platform: PlatformDep, key: IdemKey
) -> dict[str, Any]:
    return publish_flows(
        platform,
        request,
        loan_id,
        servicing.repay(
            platform.uow,
            platform.products,
            loan_id,
            parse_yuan(body.amount, "amount"),
            parse_date(body.on, "on"),
            key,
        ),
    )


@router.post("/{loan_id}/prepayments", summary="Early repayment, full or partial")
def post_prepayment(
    loan_id: str, body: PrepayIn, request: Request, platform: PlatformDep, key: IdemKey
) -> dict[str, Any]:
    mode = servicing.parse_prepayment_mode(body.mode)
    return publish_flows(
        platform,
        request,
        loan_id,
        servicing.prepay(
            platform.uow,
            platform.products,
            loan_id,
            parse_yuan(body.amount, "amount"),
            parse_date(body.on, "on"),
            key,
            mode,
        ),
    )


@router.post("/{loan_id}/write-off", summary="Write a loan off")
def post_write_off(
    loan_id: str, body: DateIn, request: Request, platform: PlatformDep, key: IdemKey
) -> dict[str, Any]:
    return publish_flows(
        platform,
        request,
        loan_id,
        servicing.write_off(
            platform.uow, platform.products, loan_id, parse_date(body.on, "on"), key
        ),
    )
