"""``/v1/risk``: score behavioural events in real time, read risk levels, work review cases and
maintain black/white lists (the in-process risk engine, ``xindai.app.risk``).

Errors go through ``api.errors``: a bad field → 422 naming it (nothing changes), an unknown case or
decision → 404, acting on a closed case → 409. The engine is built on first use from
``XINDAI_RISK_RULES`` / ``XINDAI_RISK_INDICATORS`` / ``XINDAI_RISK_MODEL`` (default: the shipped
46 indicators and 35 rules, no model).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from xindai.app.risk import LEVEL_NAMES, RiskService
from xindai.kernel import NotFoundError
from xindai.risk.cases import case_to_json
from xindai.risk.decisions import decision_to_json

router = APIRouter(prefix="/v1/risk", tags=["risk"])
_BUILD_LOCK = threading.Lock()


def get_risk(request: Request) -> RiskService:
    """The app's risk service, built once (first request) on the platform's database."""
    service: RiskService | None = getattr(request.app.state, "risk", None)
    if service is None:
        with _BUILD_LOCK:
            service = getattr(request.app.state, "risk", None)
            if service is None:
                service = request.app.state.risk = request.app.state.platform.risk()
    return service


RiskDep = Annotated[RiskService, Depends(get_risk)]

EventType = Literal[
    "login",
    "device_bound",
    "address_changed",
    "gps_reported",
    "app_session",
    "contact_changed",
    "application_submitted",
    "order_placed",
    "repayment_made",
    "transaction",
]


class EventIn(BaseModel):
    """One behavioural event. Unknown fields are refused (422) so a typo is not ignored."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(
        examples=["app-20250302-0007"],
        description="Unique id; a resubmitted id returns the first decision (idempotent).",
    )
    subject: str = Field(examples=["u1001"], description="The user the event is about.")
    type: EventType = Field(examples=["application_submitted"], description="Event type.")
    occurred_at: str = Field(
        examples=["2025-03-02T03:20:00+08:00"],
        description="ISO-8601 with a zone (Z or +08:00); timestamps without a zone are refused.",
    )
    device_id: str | None = Field(None, description="Device fingerprint (device windows).")
    ip: str | None = Field(None, description="Client IP (IP windows).")
    terminal_id: str | None = Field(None, description="Merchant terminal (terminal windows).")
    lat: float | None = Field(None, description="GPS latitude, with lon.")
    lon: float | None = Field(None, description="GPS longitude, with lat.")
    amount: str | int | None = Field(
        None, examples=["5000.00"], description="Yuan as a decimal string or integer (no floats)."
    )
    attributes: dict[str, str | int | float | bool] | None = Field(
        None,
        examples=[{"on_time": True}],
        description="Flat attributes: duration_s, on_time, success, gps_region, ip_region, ...",
    )
    label: Literal[0, 1] | None = Field(None, description="Known ground truth, if any.")


class CaseActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["confirm_fraud", "clear", "add_to_list"] = Field(
        description="confirm_fraud raises the subject's level; clear closes the case; "
        "add_to_list puts list_kind/list_value on the blacklist (allowed on closed cases)."
    )
    analyst: str = Field(min_length=1, max_length=128, examples=["analyst.wang"])
    at: str = Field(
        examples=["2025-03-02T09:00:00+08:00"], description="When the action was taken."
    )
    note: str = Field("", max_length=2000)
    list_kind: Literal["subject", "device", "ip"] | None = None
    list_value: str | None = Field(None, max_length=128)


class ListEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    list: Literal["black", "white"] = Field(
        description="black: any event with this entity is blocked; white: a subject is allowed "
        "and its rule hits are logged as shadow hits."
    )
    kind: Literal["subject", "device", "ip"]
    value: str = Field(min_length=1, max_length=128, examples=["d-9f2c"])


@router.post(
    "/events",
    summary="Score one event in real time → decision (action, reasons zh/en, level)",
    responses={
        200: {"description": "Resubmitted event_id: the decision of the first submission."},
        201: {"description": "Scored: the immutable decision record."},
        422: {"description": "A field is invalid (named in the body); nothing was changed."},
    },
    status_code=status.HTTP_201_CREATED,
)
def post_event(body: EventIn, risk: RiskDep, response: Response) -> dict[str, Any]:
    """Runs the whole path — windows, model, rules, breathing level — and returns the decision:
    ``action`` (allow / step_up / review / block), the rule hits with reasons in zh-CN and English,
    the indicator values read, model and anomaly scores, and the level before and after. A review or
    block opens a case."""
    decision, created = risk.submit(body.model_dump(exclude_none=True))
    if not created:
        response.status_code = status.HTTP_200_OK
    return decision_to_json(decision)


@router.get("/subjects/{subject}/level", summary="A subject's current risk level (L1–L5)")
def get_level(subject: str, risk: RiskDep) -> dict[str, Any]:
    """The decayed score (0–100) and level at the engine's watermark (its newest event time). The
    credit side reads this: L4+ blocks applications under the shipped rules."""
    lvl = risk.level(subject)
    return {
        "subject": lvl.subject,
        "level": lvl.level,
        "level_name": LEVEL_NAMES[lvl.level],
        "score": round(lvl.score, 4),
    }


@router.get("/decisions", summary="Decisions, newest first")
def list_decisions(
    risk: RiskDep,
    subject: str | None = Query(None, description="Only this subject's decisions."),
    action: Literal["allow", "step_up", "review", "block"] | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    return [decision_to_json(d) for d in risk.decisions(subject, action, limit)]


@router.get("/decisions/{decision_id}", summary="One decision record")
def get_decision(decision_id: str, risk: RiskDep) -> dict[str, Any]:
    return decision_to_json(risk.decision(decision_id))


@router.get("/cases", summary="Review cases (default: open ones)")
def list_cases(
    risk: RiskDep,
    status_: Literal["open", "confirmed_fraud", "cleared"] | None = Query(
        "open", alias="status", description="open | confirmed_fraud | cleared"
    ),
) -> list[dict[str, Any]]:
    return [case_to_json(c) for c in risk.cases(status_)]


@router.post(
    "/cases/{case_id}/actions",
    summary="Act on a case: confirm fraud, clear, or add an entity to the blacklist",
    responses={404: {"description": "No such case."}, 409: {"description": "Case is closed."}},
)
def act_on_case(case_id: str, body: CaseActionIn, risk: RiskDep) -> dict[str, Any]:
    """Appends the action to the case history. A closed case only accepts ``add_to_list``."""
    case = risk.act_on_case(
        case_id, body.action, body.analyst, body.at, body.note, body.list_kind, body.list_value
    )
    return case_to_json(case)


@router.get("/lists", summary="Black and white lists by entity kind")
def get_lists(risk: RiskDep) -> dict[str, Any]:
    return risk.lists()


@router.post("/lists", summary="Add an entity to the black or white list", status_code=201)
def add_list_entry(body: ListEntryIn, risk: RiskDep) -> dict[str, Any]:
    risk.add_to_list(body.list, body.kind, body.value)
    return {"list": body.list, "kind": body.kind, "value": body.value}


@router.delete(
    "/lists/{which}/{kind}/{value}",
    summary="Remove an entity from a list",
    status_code=204,
    responses={404: {"description": "The entity was not on that list."}},
)
def remove_list_entry(
    which: Literal["black", "white"],
    kind: Literal["subject", "device", "ip"],
    value: str,
    risk: RiskDep,
) -> Response:
    if not risk.remove_from_list(which, kind, value):
        raise NotFoundError(f"{kind} {value!r} is not on the {which} list")
    return Response(status_code=204)
