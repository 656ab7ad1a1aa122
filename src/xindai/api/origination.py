"""``/v1/applications``, ``/v1/consents``, ``/v1/reviews``, ``/v1/limits``, ``/v1/notifications``:
the origination flow over HTTP.

A borrower applies, gives consents (one per data source and purpose; sensitive data separately),
watches the product's lesson (the *server* times it: start and finish are server timestamps), asks
for a decision, reads the explanation, may ask for human review, signs the offer by echoing its
``terms_sha256`` and is paid out. Analysts work the review queue. Amounts are yuan strings; the
offer shows 年化利率 (单利 and 复利) by the IRR method and never exceeds the 24% all-in cap.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from xindai.api.deps import PlatformDep
from xindai.app import limits, origination
from xindai.kernel.dates import parse_date

router = APIRouter(tags=["origination"])


class ApplicationIn(BaseModel):
    subject: str = Field(examples=["borrower-001"], description="The applicant (pseudonymous id).")
    household: str | None = Field(None, description="Household id for the 200,000 CNY cap.")
    product_code: str = Field(examples=["travel-credit"])
    amount: str = Field(examples=["20000"], description="Requested amount, yuan.")
    term: int = Field(examples=[12])
    method: str | None = Field(None, examples=["equal-installment"])
    age: int = Field(examples=[35])
    segment: str | None = Field(
        None, examples=["consumer"], description="consumer | business | farmer"
    )
    region: str | None = Field(None, examples=["110000"], description="GB/T 2260 code.")
    monthly_income: str | None = Field(None, examples=["15000"])
    monthly_debt: str | None = Field(None, examples=["1000"])
    discounts: list[str] = Field(default_factory=list)
    features: dict[str, Any] = Field(
        default_factory=dict, description="Bureau/application features the credit model reads."
    )
    signals: dict[str, Any] = Field(
        default_factory=dict,
        description="Scenario signals (numbers as strings); prohibited ones are dropped on entry.",
    )
    device_id: str | None = None
    ip: str | None = None
    lat: str | None = None
    lon: str | None = None
    human_review: bool = Field(False, description="Refuse a purely automated decision (PIPL 24).")


class ConsentIn(BaseModel):
    subject: str
    source: str = Field(examples=["travel-platform"])
    purpose: str = Field(examples=["credit-limit"])
    separate: bool = Field(False, description="Given on its own (required for sensitive data).")
    channel: str | None = Field(
        None,
        examples=["baihang"],
        description="Licensed credit-reporting channel (third-party data).",
    )


class AnswersIn(BaseModel):
    answers: list[int] = Field(description="One choice index per quiz question, in order.")


class ReviewRequestIn(BaseModel):
    reason: str = ""


class ResolutionIn(BaseModel):
    analyst: str
    resolution: str = Field(description="approve | decline")
    note: str = ""


class AcceptIn(BaseModel):
    signer: str
    terms_sha256: str = Field(description="The offer's terms hash, as shown to the borrower.")
    method: str = "click-wrap"
    evidence: dict[str, Any] = Field(default_factory=dict)


class DayIn(BaseModel):
    on: str = Field(examples=["2026-11-28"])


@router.post("/v1/applications", status_code=201, summary="Apply for a scenario product")
def post_application(body: ApplicationIn, platform: PlatformDep) -> dict[str, Any]:
    raw = body.model_dump(exclude_none=True)
    return origination.submit_application(platform.origination(), raw)


@router.get("/v1/applications/{ref}", summary="An application with its decision and offer")
def get_application(ref: str, platform: PlatformDep) -> dict[str, Any]:
    return origination.application_view(platform.origination(), ref)


@router.get("/v1/applications/{ref}/audit", summary="Every step, its outcome and server time")
def get_audit(ref: str, platform: PlatformDep) -> list[dict[str, Any]]:
    return origination.audit_trail(platform.origination(), ref)


@router.post(
    "/v1/consents", status_code=201, summary="Give consent for one data source and purpose"
)
def post_consent(body: ConsentIn, platform: PlatformDep) -> dict[str, Any]:
    return origination.give_consent(
        platform.origination(),
        body.subject,
        body.source,
        purpose=body.purpose,
        separate=body.separate,
        channel=body.channel,
    )


@router.get("/v1/consents", summary="A subject's consents (active and withdrawn)")
def get_consents(platform: PlatformDep, subject: str = Query(...)) -> list[dict[str, Any]]:
    return origination.list_consents(platform.origination(), subject)


@router.delete("/v1/consents/{consent_id}", summary="Withdraw a consent (effective immediately)")
def delete_consent(
    consent_id: str, platform: PlatformDep, subject: str = Query(...)
) -> dict[str, Any]:
    return origination.withdraw_consent(platform.origination(), subject, consent_id)


@router.post("/v1/applications/{ref}/lesson/start", summary="Start the lesson (server-timed)")
def post_lesson_start(ref: str, platform: PlatformDep) -> dict[str, Any]:
    return origination.start_lesson(platform.origination(), ref)


@router.post("/v1/applications/{ref}/lesson/finish", summary="Finish the lesson with the quiz")
def post_lesson_finish(ref: str, body: AnswersIn, platform: PlatformDep) -> dict[str, Any]:
    return origination.finish_lesson(platform.origination(), ref, body.answers)


@router.post("/v1/applications/{ref}/decision", summary="Run the pipeline and decide")
def post_decision(ref: str, platform: PlatformDep) -> dict[str, Any]:
    return origination.decide(platform.origination(), ref)


@router.get("/v1/applications/{ref}/explanation", summary="Why: reasons, score factors, limit")
def get_explanation(ref: str, platform: PlatformDep) -> dict[str, Any]:
    return origination.explain(platform.origination(), ref)


@router.post("/v1/applications/{ref}/review", status_code=201, summary="Ask for human review")
def post_review_request(ref: str, body: ReviewRequestIn, platform: PlatformDep) -> dict[str, Any]:
    return origination.request_review(platform.origination(), ref, body.reason)


@router.post("/v1/applications/{ref}/acceptance", summary="Sign the offer (terms frozen)")
def post_acceptance(ref: str, body: AcceptIn, platform: PlatformDep) -> dict[str, Any]:
    return origination.accept_offer(
        platform.origination(),
        ref,
        signer=body.signer,
        terms_sha256=body.terms_sha256,
        method=body.method,
        evidence=body.evidence,
    )


@router.post("/v1/applications/{ref}/disbursement", summary="Pay out (a staged line is opened)")
def post_disbursement(ref: str, platform: PlatformDep) -> dict[str, Any]:
    return origination.disburse_application(platform.origination(), ref)


@router.get("/v1/reviews", summary="The review queue")
def get_reviews(platform: PlatformDep, status: str | None = "open") -> list[dict[str, Any]]:
    return origination.list_reviews(platform.origination(), status)


@router.post("/v1/reviews/{review_id}", summary="An analyst approves or declines")
def post_resolution(review_id: str, body: ResolutionIn, platform: PlatformDep) -> dict[str, Any]:
    return origination.resolve_review(
        platform.origination(),
        review_id,
        analyst=body.analyst,
        resolution=body.resolution,
        note=body.note,
    )


@router.post("/v1/limits/review", summary="Run the daily dynamic-limit review")
def post_limit_review(body: DayIn, platform: PlatformDep) -> dict[str, Any]:
    return limits.review_limits(platform.origination(), parse_date(body.on, "on"))


@router.get("/v1/notifications", summary="The notification outbox")
def get_notifications(platform: PlatformDep, subject: str | None = None) -> list[dict[str, Any]]:
    return origination.notifications(platform.origination(), subject)
