"""``POST /v1/quotes``: price a loan with its schedule and APR (年化利率)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from xindai.app.quoting import build_quote, ensure_within_cap, parse_quote_request, quote_to_dict

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])


class QuoteIn(BaseModel):
    """Amounts are yuan strings (``"10000"``, ``"10000.50"``); rates decimal fractions (``"0.12"``)."""

    principal: str = Field(examples=["10000"], description="Loan amount in yuan.")
    term: int = Field(examples=[12], description="Number of monthly periods.")
    method: str = Field(
        examples=["equal-installment"],
        description="equal-installment | equal-principal | interest-only | bullet | flat-fee",
    )
    annual_rate: str = Field(
        examples=["0.12"], description="Annual contract rate as a decimal fraction."
    )
    upfront_fee: str = Field(
        "0", description="Fee at disbursement, yuan (shown for APR; 砍头息 is refused by products)."
    )
    monthly_fee_rate: str = Field("0", description="Periodic fee per month on the principal.")
    start_date: str = Field(examples=["2026-01-15"], description="Disbursement date, YYYY-MM-DD.")
    first_due_date: str | None = Field(
        None, description="First due date when not one month after start."
    )


@router.post("", summary="Quote a loan: schedule, total cost, APR 单利/复利, cap check")
def create_quote(body: QuoteIn) -> dict[str, Any]:
    """Returns the schedule (yuan strings), totals and the APR; 422 names the field on bad input
    or when the all-in APR would exceed the 24% cap."""
    raw = {k: v for k, v in body.model_dump().items() if v is not None}
    raw["term"] = str(body.term)
    q = build_quote(parse_quote_request(raw))
    ensure_within_cap(q)
    return quote_to_dict(q)
