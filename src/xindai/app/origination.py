"""The origination pipeline: application → consent → education → anti-fraud → credit score → policy
→ decision (with reasons, explanation and human review) → offer → acceptance → disbursement.

Every step is one transaction and writes one audit-trail row (step, outcome, detail, server time):
the trail of an application tells exactly what was checked, with which inputs, and why it ended
where it did. Outcomes:

* ``refused`` — the application cannot be assessed yet or at all: a consent is missing (named), the
  education gate is not passed, the scoring model uses a prohibited feature, or the applicant's
  region is outside a sandbox product's pilot regions. Fixing the cause and deciding again is allowed;
* ``declined`` — a credit decision: a fraud block from the real-time risk engine, the score,
  eligibility, the household cap or debt-to-income; reasons in zh-CN and English;
* ``referred`` — a human decides (grey-zone score, a risk-engine review, no declared income): a
  review-queue item is opened; an analyst approves (→ offer) or declines;
* ``offered`` — approved: the offer holds the limit (the product's limit formula), the rate (the
  product's grid), the schedule preview, 年化利率 单利 and 复利 by the IRR method from the servicing
  core's own quote (``app.servicing.offer_quote``), the total cost and every fee. It never exceeds
  the all-in cap: the same check as every quote and every contract.

Acceptance freezes the terms (the SHA-256 of their canonical JSON; the borrower signs that hash) and
opens the contract through ``app.servicing.open_loan``; disbursement goes through
``app.servicing.disburse`` (a staged line is only opened: its stages are released by attestation).

Invariants: the education gate uses only server timestamps from the injected ``Clock``; health data
never reaches a model or a limit formula (``credit_view`` drops prohibited signals at the door); a
borrower may always ask for an explanation and for human review of an automated decision (PIPL
Art. 24).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from xindai.app.ports import CreditScorer, FraudCheck, OriginationUnitOfWork, OriginationUowFactory
from xindai.app.quoting import Quote, quote_to_dict
from xindai.app.servicing import (
    OpenLoan,
    Products,
    disburse,
    ensure_offer_within_cap,
    offer_quote,
    open_loan_in,
    validate_against_product,
)
from xindai.compliance.caps import disclosed
from xindai.compliance.consent import (
    DEFAULT_CHANNELS,
    PURPOSE_CREDIT,
    Channel,
    ConsentRecord,
    check_consents,
    validate_consent,
)
from xindai.compliance.education import check_education, grade_quiz
from xindai.compliance.policy import (
    DECLINE,
    REFER,
    PolicyConfig,
    PolicyReason,
    check_dti,
    check_household_cap,
    check_model_features,
    grade_for,
    outcome_of,
)
from xindai.kernel.clock import Clock
from xindai.kernel.errors import ConflictError, NotFoundError, ValidationError
from xindai.kernel.ids import new_id
from xindai.money.money import format_yuan, parse_yuan
from xindai.products.catalogue import Catalogue, ScenarioProduct
from xindai.products.scenarios.families import SIGNALS, credit_view
from xindai.products.scenarios.schema import SignalSource
from xindai.risk.engine import RiskEngine
from xindai.risk.events import Event, EventType
from xindai.scoring.artefact import LoadedModel
from xindai.scoring.scorer import Scorer

REFUSED = "refused"
APPROVE = "approve"
OPEN_STATUSES = ("submitted", "refused")
#: lowest grade an analyst's approval of a referred application is priced at
REFERRAL_GRADE = "E"


@dataclass(frozen=True, slots=True)
class OriginationConfig:
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    offer_valid_days: int = 7
    channels: Mapping[str, Channel] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    default_model: str = "champion"


@dataclass
class Origination:
    """What the origination use cases need: the store, the products, the clock, the risk engine,
    the credit models and (optionally) a scenario-signal feed."""

    uow: OriginationUowFactory
    products: Products
    catalogue: Catalogue
    clock: Clock
    fraud: FraudCheck
    scorers: Mapping[str, CreditScorer]
    signals: SignalSource | None = None
    config: OriginationConfig = field(default_factory=OriginationConfig)


@dataclass(frozen=True, slots=True)
class StepResult:
    outcome: str  # pass | refused | decline | refer
    detail: dict[str, Any]
    reasons: tuple[PolicyReason, ...] = ()


# -- parsing ----------------------------------------------------------------------------------------


def _text(raw: Mapping[str, object], key: str, *, required: bool = True, n: int = 64) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(key, "is required")
        return None
    if not isinstance(value, str) or len(value) > n or not value.strip():
        raise ValidationError(key, f"must be a string of 1–{n} characters")
    return value.strip()


def _int(raw: Mapping[str, object], key: str, *, required: bool = False) -> int | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(key, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(key, f"must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValidationError(key, f"must be a whole number, got {value!r}") from None


def _yuan(raw: Mapping[str, object], key: str, *, required: bool = False) -> int | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(key, "is required")
        return None
    fen = parse_yuan(value, key)
    if fen < 0:
        raise ValidationError(key, "must not be negative")
    return fen


def _signal_value(name: str, value: object) -> object:
    """JSON → the exact types the catalogue's expressions take (numbers as Decimal, never float)."""
    if isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(f"signals.{name}", f"must be a number, got {value!r}") from None
        if dec.is_finite():
            return dec
    raise ValidationError(
        f"signals.{name}", f"must be a number as a string or true/false, got {value!r}"
    )


def _signals(raw: object) -> dict[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationError("signals", "must map signal name → value")
    out: dict[str, object] = {}
    for name, value in raw.items():
        if name not in SIGNALS:
            raise ValidationError(f"signals.{name}", "is not a known scenario signal")
        out[str(name)] = _signal_value(str(name), value)
    return out


def _features(raw: object) -> dict[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationError("features", "must map feature name → value")
    out: dict[str, object] = {}
    for name, value in raw.items():
        if isinstance(value, float):
            raise ValidationError(f"features.{name}", "must be a string or an integer, not a float")
        if not isinstance(value, str | int | bool) and value is not None:
            raise ValidationError(f"features.{name}", "must be a string, an integer or null")
        out[str(name)] = value
    return out


def _product(o: Origination, code: str) -> ScenarioProduct:
    try:
        return o.catalogue.get(code)
    except (NotFoundError, KeyError):
        raise ValidationError("product_code", f"unknown scenario product {code!r}") from None


def parse_application(o: Origination, raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate an application; return the row to store. Every error names its field."""
    if not isinstance(raw, Mapping):
        raise ValidationError("application", "must be an object")
    subject = _text(raw, "subject")
    assert subject is not None
    code = _text(raw, "product_code")
    assert code is not None
    p = _product(o, code)
    amount = _yuan(raw, "amount", required=True)
    assert amount is not None
    if amount <= 0:
        raise ValidationError("amount", "must be positive")
    term = _int(raw, "term", required=True)
    if term not in p.terms:
        raise ValidationError("term", f"{term} is not offered by {p.code} {list(p.terms)}")
    method = _text(raw, "method", required=False) or p.methods[0]
    if method not in p.methods:
        raise ValidationError(
            "method", f"{method!r} is not offered by {p.code} ({', '.join(p.methods)})"
        )
    age = _int(raw, "age", required=True)
    assert age is not None
    if not 0 < age < 130:
        raise ValidationError("age", "must be between 1 and 129")
    discounts = raw.get("discounts") or []
    if not isinstance(discounts, list) or not all(isinstance(d, str) for d in discounts):
        raise ValidationError("discounts", "must be a list of discount codes")
    for d in discounts:
        if d not in p.discounts:
            raise ValidationError("discounts", f"unknown discount {d!r} for {p.code}")
    lat, lon = raw.get("lat"), raw.get("lon")
    for key, value in (("lat", lat), ("lon", lon)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | str)
        ):
            raise ValidationError(key, "must be a number")
    payload = {
        "segment": _text(raw, "segment", required=False) or "consumer",
        "age": age,
        "region": _text(raw, "region", required=False, n=32),
        "monthly_income": _yuan(raw, "monthly_income"),
        "monthly_debt": _yuan(raw, "monthly_debt") or 0,
        "discounts": list(discounts),
        "features": _features(raw.get("features")),
        # prohibited signals (clinical data in a hospital feed) never enter the application
        "signals": {
            k: str(v) if isinstance(v, Decimal) else v
            for k, v in credit_view(_signals(raw.get("signals"))).items()
        },
        "device_id": _text(raw, "device_id", required=False, n=128),
        "ip": _text(raw, "ip", required=False, n=64),
        "lat": None if lat is None else str(lat),
        "lon": None if lon is None else str(lon),
        "human_review": bool(raw.get("human_review", False)),
    }
    now = o.clock.now()
    app_id = new_id()
    return {
        "id": app_id,
        "number": "AP" + app_id.replace("-", "")[:12].upper(),
        "subject": subject,
        "household": _text(raw, "household", required=False) or subject,
        "product_code": p.code,
        "requested": amount,
        "term": term,
        "method": method,
        "status": "submitted",
        "outcome": None,
        "grade": None,
        "payload": payload,
        "decision": None,
        "loan_id": None,
        "created_at": now,
        "updated_at": now,
    }


# -- the borrower's steps -------------------------------------------------------------------------


def submit_application(o: Origination, raw: Mapping[str, object]) -> dict[str, Any]:
    """Store a new application (status ``submitted``); return its view."""
    row = parse_application(o, raw)
    with o.uow() as uow:
        uow.origination.add_application(row)
        uow.origination.audit(
            row["id"],
            "application",
            "pass",
            {
                "product": row["product_code"],
                "amount": format_yuan(row["requested"]),
                "term": row["term"],
            },
            o.clock.now(),
        )
    return application_view(o, row["id"])


def give_consent(
    o: Origination,
    subject: str,
    source: str,
    *,
    purpose: str = PURPOSE_CREDIT,
    separate: bool = False,
    channel: str | None = None,
) -> dict[str, Any]:
    """Record a consent (server time); return it with its id (withdraw it with that id)."""
    record = ConsentRecord(
        subject=subject,
        source=source,
        purpose=purpose,
        separate=separate,
        given_at=o.clock.now(),
        channel=channel,
        id=new_id(),
    )
    validate_consent(record)
    if channel is not None and channel not in o.config.channels:
        raise ValidationError(
            "channel", f"unknown data channel {channel!r} ({', '.join(o.config.channels)})"
        )
    with o.uow() as uow:
        uow.origination.add_consent(record)
    return _consent_view(record)


def withdraw_consent(o: Origination, subject: str, consent_id: str) -> dict[str, Any]:
    """Withdrawal is as easy as consent (PIPL Art. 15): one call, effective immediately."""
    with o.uow() as uow:
        if not uow.origination.withdraw_consent(consent_id, subject, o.clock.now()):
            raise NotFoundError(f"no active consent {consent_id} of {subject}")
    return {"id": consent_id, "withdrawn": True}


def list_consents(o: Origination, subject: str) -> list[dict[str, Any]]:
    with o.uow() as uow:
        return [_consent_view(c) for c in uow.origination.consents_of(subject)]


def _consent_view(c: ConsentRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "subject": c.subject,
        "source": c.source,
        "purpose": c.purpose,
        "separate": c.separate,
        "channel": c.channel,
        "given_at": c.given_at.isoformat(),
        "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
    }


def start_lesson(o: Origination, app_ref: str) -> dict[str, Any]:
    """Open the product's lesson; the server notes the time (a restart resets the watch time)."""
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref, lock=True)
        lesson = _product(o, app["product_code"]).education
        now = o.clock.now()
        uow.origination.start_lesson(app["id"], lesson.lesson_id, now)
        uow.origination.audit(app["id"], "lesson-start", "pass", {"lesson": lesson.lesson_id}, now)
    return {
        "application": app["number"],
        "lesson_id": lesson.lesson_id,
        "title_zh": lesson.title_zh,
        "title_en": lesson.title_en,
        "video": lesson.video,
        "min_watch_seconds": lesson.min_watch_seconds,
        "started_at": now.isoformat(),
        "quiz": [
            {
                "question": n,
                "zh": q.question_zh,
                "en": q.question_en,
                "choices": [{"choice": i, "zh": c.zh, "en": c.en} for i, c in enumerate(q.choices)],
            }
            for n, q in enumerate(lesson.quiz)
        ],
    }


def finish_lesson(o: Origination, app_ref: str, answers: Sequence[int]) -> dict[str, Any]:
    """Close the lesson with the quiz answers (one choice index per question, in order); the
    server's clock decides whether it was watched long enough."""
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref, lock=True)
        lesson = _product(o, app["product_code"]).education
        progress = uow.origination.lesson(app["id"])
        if progress is None:
            raise ConflictError("the lesson was not started: start it first")
        correct = grade_quiz(lesson, answers)
        now = o.clock.now()
        done = type(progress)(progress.lesson_id, progress.started_at, now, correct)
        gaps = check_education(lesson, done)
        uow.origination.finish_lesson(app["id"], now, correct, not gaps)
        detail = {
            "watched_seconds": int(done.watched_seconds),
            "required_seconds": lesson.min_watch_seconds,
            "quiz_correct": correct,
            "pass_mark": lesson.pass_mark,
            "gaps": [g.code for g in gaps],
        }
        uow.origination.audit(
            app["id"], "lesson-finish", "pass" if not gaps else REFUSED, detail, now
        )
    return {
        "application": app["number"],
        "passed": not gaps,
        **detail,
        "reasons": [{"code": g.code, "zh": g.reason_zh, "en": g.reason_en} for g in gaps],
    }


# -- the decision -----------------------------------------------------------------------------------


def _step(
    o: Origination,
    app_id: str,
    name: str,
    run: Callable[[OriginationUnitOfWork, dict[str, Any], ScenarioProduct], StepResult],
) -> StepResult:
    """Run one pipeline step in its own transaction and audit it."""
    with o.uow() as uow:
        uow.origination.defer_flush()  # durable with the decision that concludes the steps
        app = uow.origination.get_application(app_id, lock=True)
        p = _product(o, app["product_code"])
        result = run(uow, app, p)
        detail = {**result.detail, "reasons": [r.as_dict() for r in result.reasons]}
        uow.origination.audit(app_id, name, result.outcome, detail, o.clock.now())
    return result


def _consent_step(o: Origination) -> Callable[..., StepResult]:
    def run(uow: OriginationUnitOfWork, app: dict[str, Any], p: ScenarioProduct) -> StepResult:
        consents = uow.origination.consents_of(app["subject"])
        gaps = check_consents(
            p.data_sources, consents, at=o.clock.now(), channels=o.config.channels
        )
        reasons = tuple(
            PolicyReason(f"consent-{g.kind}:{g.source}", g.reason_zh, g.reason_en, REFUSED)
            for g in gaps
        )
        return StepResult(
            "pass" if not gaps else REFUSED,
            {"sources": [s.name for s in p.data_sources], "missing": [g.source for g in gaps]},
            reasons,
        )

    return run


def _education_step(o: Origination) -> Callable[..., StepResult]:
    def run(uow: OriginationUnitOfWork, app: dict[str, Any], p: ScenarioProduct) -> StepResult:
        progress = uow.origination.lesson(app["id"])
        gaps = check_education(p.education, progress)
        return StepResult(
            "pass" if not gaps else REFUSED,
            {
                "lesson": p.education.lesson_id,
                "watched_seconds": int(progress.watched_seconds) if progress else 0,
                "required_seconds": p.education.min_watch_seconds,
            },
            tuple(
                PolicyReason(f"education-{g.code}", g.reason_zh, g.reason_en, REFUSED) for g in gaps
            ),
        )

    return run


def _fraud_step(o: Origination) -> Callable[..., StepResult]:
    def run(uow: OriginationUnitOfWork, app: dict[str, Any], p: ScenarioProduct) -> StepResult:
        pl = app["payload"]
        now = o.clock.now()
        event = Event(
            event_id=f"application-{app['id']}-{int(now.timestamp() * 1000)}",
            subject=app["subject"],
            type=EventType.APPLICATION_SUBMITTED,
            occurred_at=now,
            ts=now.timestamp(),
            device_id=pl.get("device_id"),
            ip=pl.get("ip"),
            lat=float(pl["lat"]) if pl.get("lat") is not None else None,
            lon=float(pl["lon"]) if pl.get("lon") is not None else None,
            amount_fen=app["requested"],
            attributes={"product": p.code},
        )
        verdict = o.fraud.assess(event)
        detail = {
            "action": verdict.action,
            "risk_level": verdict.level,
            "decision_id": verdict.decision_id,
            "rules": list(verdict.rules),
        }
        if verdict.action == "block":
            why = list(zip(verdict.reasons_zh, verdict.reasons_en, strict=True)) or [
                ("实时风控拦截", "blocked by the real-time risk engine")
            ]
            return StepResult(
                DECLINE,
                detail,
                tuple(PolicyReason("fraud-block", zh, en, DECLINE) for zh, en in why),
            )
        if verdict.action == "review" and o.config.policy.fraud_review_refers:
            why = list(zip(verdict.reasons_zh, verdict.reasons_en, strict=True)) or [
                ("实时风控要求人工复核", "the real-time risk engine asks for a review")
            ]
            return StepResult(
                REFER,
                detail,
                tuple(PolicyReason("fraud-review", zh, en, REFER) for zh, en in why),
            )
        return StepResult("pass", detail)

    return run


def _scorer_for(o: Origination, p: ScenarioProduct) -> CreditScorer:
    name = p.score_model or o.config.default_model
    scorer = o.scorers.get(name) or o.scorers.get(o.config.default_model)
    if scorer is None:
        raise ConflictError(f"no credit model {name!r} (nor {o.config.default_model!r}) is loaded")
    return scorer


def _score_step(o: Origination) -> Callable[..., StepResult]:
    def run(uow: OriginationUnitOfWork, app: dict[str, Any], p: ScenarioProduct) -> StepResult:
        scorer = _scorer_for(o, p)
        banned = check_model_features(scorer.name, scorer.feature_categories)
        if banned:
            return StepResult(
                REFUSED,
                {"model": scorer.name},
                tuple(PolicyReason(r.code, r.reason_zh, r.reason_en, REFUSED) for r in banned),
            )
        pl = app["payload"]
        # sensitive model features count only with a separate consent the consent step verified
        consent_sensitive = any(s.category == "sensitive" for s in p.data_sources)
        features = {**pl["features"], **{k: str(v) for k, v in pl["signals"].items()}}
        pd, score, reasons = scorer.score(features, consent_sensitive=consent_sensitive)
        grading = grade_for(pd, o.config.policy)
        detail = {
            "model": scorer.name,
            "pd": round(pd, 6),
            "score": round(score, 1),
            "grade": grading.grade,
            "score_reasons": list(reasons),
        }
        return StepResult(
            outcome_of(grading.reasons) if grading.reasons else "pass", detail, grading.reasons
        )

    return run


@dataclass(frozen=True, slots=True)
class _Terms:
    amount: int
    quote: Quote
    cmd: OpenLoan
    limit: dict[str, Any]


def _offer_terms(
    o: Origination, app: dict[str, Any], p: ScenarioProduct, grade: str, on: date
) -> tuple[_Terms | None, list[PolicyReason]]:
    """Limit, rate and the servicing core's quote for an approved grade."""
    pl = app["payload"]
    lp = o.products[p.loan_product]
    limit = p.limit_for(_signals(pl["signals"]))
    amount = min(app["requested"], limit.limit_fen, lp.max_principal)
    if lp.multi_tranche:
        amount = min(limit.limit_fen, lp.max_principal)  # a staged line is granted whole
    limit_view = {
        "limit": format_yuan(limit.limit_fen),
        "explanation_zh": limit.explanation_zh,
        "explanation_en": limit.explanation_en,
        "flags": list(limit.flags),
        "inputs": limit.inputs,
        "freeze_new_draws": limit.freeze_new_draws,
    }
    if amount < lp.min_principal or amount <= 0:
        return None, [
            PolicyReason(
                "limit",
                f"场景额度{format_yuan(limit.limit_fen)}元低于最低借款金额{format_yuan(lp.min_principal)}元",
                f"the scenario limit {format_yuan(limit.limit_fen)} CNY is below the minimum loan"
                f" {format_yuan(lp.min_principal)} CNY",
            )
        ]
    pricing = p.price(grade, app["term"], pl["discounts"])
    cmd = OpenLoan(
        product_code=lp.code,
        principal=amount,
        term=app["term"],
        method=app["method"],
        annual_rate=pricing.annual_rate,
        start_date=on,
        borrower_ref=app["subject"],
    )
    validate_against_product(cmd, lp)
    ensure_offer_within_cap(cmd, lp)  # the 24% all-in cap by IRR, exactly as the contract will be
    quote = offer_quote(cmd, lp)
    limit_view["pricing"] = {
        "grade": grade,
        "grid_rate": str(pricing.grid_rate),
        "discounts": [{"code": c, "rate_off": str(r)} for c, r in pricing.discounts_applied],
        "annual_rate": str(pricing.annual_rate),
    }
    return _Terms(amount, quote, cmd, limit_view), []


def _policy_step(o: Origination, grade_box: dict[str, Any]) -> Callable[..., StepResult]:
    def run(uow: OriginationUnitOfWork, app: dict[str, Any], p: ScenarioProduct) -> StepResult:
        pl = app["payload"]
        reasons: list[PolicyReason] = []
        for r in p.eligibility_failures(
            age=pl["age"],
            segment=pl["segment"],
            monthly_income_fen=pl["monthly_income"],
            region=pl["region"],
            signals=_signals(pl["signals"]),
        ):
            # a region outside a sandbox's pilot list is a refusal, not a credit judgement
            outcome = REFUSED if r.code == "region" else DECLINE
            reasons.append(PolicyReason(f"eligibility-{r.code}", r.zh, r.en, outcome))
        if reasons:
            return StepResult(_worst(reasons), {"eligible": False}, tuple(reasons))
        grade = grade_box.get("grade") or REFERRAL_GRADE
        terms, limit_reasons = _offer_terms(o, app, p, grade, o.clock.today())
        if terms is None:
            return StepResult(DECLINE, {}, tuple(limit_reasons))
        existing = uow.origination.household_exposure(
            app["household"], consumer_loan_products(o), exclude=app["id"]
        )
        lp = o.products[p.loan_product]
        segment = "business" if lp.multi_tranche or pl["segment"] != "consumer" else "consumer"
        reasons += check_household_cap(segment, existing, terms.amount, o.config.policy)
        first = terms.quote.schedule.installments[0].total
        if segment == "consumer":
            reasons += check_dti(pl["monthly_income"], pl["monthly_debt"], first, o.config.policy)
        grade_box["terms"] = terms
        detail = {
            "household_exposure": format_yuan(existing),
            "amount": format_yuan(terms.amount),
            "first_instalment": format_yuan(first),
            "limit": terms.limit,
        }
        return StepResult(outcome_of(reasons) if reasons else "pass", detail, tuple(reasons))

    return run


def _fill_signals(o: Origination, app_id: str) -> None:
    """Fetch the scenario signals the application did not bring from the signal feed (one
    transaction, audited with the feed's provenance); prohibited signals are dropped."""
    if o.signals is None:
        return
    with o.uow() as uow:
        uow.origination.defer_flush()
        app = uow.origination.get_application(app_id, lock=True)
        p = _product(o, app["product_code"])
        have = app["payload"]["signals"]
        families = sorted({SIGNALS[n].family for n in p.signals if n not in have})
        if not families:
            return
        today = o.clock.today()
        fetched: dict[str, object] = {}
        provenance: list[str] = []
        for family in families:
            snap = o.signals.fetch(app["subject"], family, today)
            fetched.update(snap)
            provenance.append(str(getattr(snap, "provenance", "feed")))
        clean = {
            k: str(v) if isinstance(v, Decimal) else v
            for k, v in _signals({k: _jsonable(v) for k, v in credit_view(fetched).items()}).items()
            if k not in have
        }
        payload = {**app["payload"], "signals": {**have, **clean}}
        uow.origination.update_application(app_id, payload=payload, updated_at=o.clock.now())
        uow.origination.audit(
            app_id,
            "signals",
            "pass",
            {"families": families, "fetched": sorted(clean), "provenance": provenance},
            o.clock.now(),
        )


def _jsonable(value: object) -> object:
    """A feed value as the application stores it (exact numbers as strings)."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return str(Decimal(value.numerator) / Decimal(value.denominator))
    return str(value)


def consumer_loan_products(o: Origination) -> list[str]:
    """Loan products behind the scenario products offered to consumers: what the household cap
    for online consumer credit counts (business and farm lines are outside it)."""
    return sorted(
        {
            p.loan_product
            for p in o.catalogue.all()
            if "consumer" in p.eligibility.segments and not o.products[p.loan_product].multi_tranche
        }
    )


def _worst(reasons: Sequence[PolicyReason]) -> str:
    kinds = {r.outcome for r in reasons}
    for k in (REFUSED, DECLINE, REFER):
        if k in kinds:
            return k
    return "pass"


def decide(o: Origination, app_ref: str) -> dict[str, Any]:
    """Run consent → education → anti-fraud → score → policy → decision (→ offer); return the view.

    Each step is its own transaction with an audit row; the first step that does not pass ends the
    run (a refer from the score or the risk engine still lets policy run, so that a referral carries
    every reason). Deciding again is allowed while the application is ``submitted`` or ``refused``.
    """
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref)
    if app["status"] not in OPEN_STATUSES:
        raise ConflictError(
            f"application {app['number']} is {app['status']}; it was already decided"
        )
    app_id = app["id"]
    _fill_signals(o, app_id)
    box: dict[str, Any] = {}
    collected: list[PolicyReason] = []
    detail: dict[str, Any] = {}
    for name, run in (
        ("consent", _consent_step(o)),
        ("education", _education_step(o)),
        ("anti-fraud", _fraud_step(o)),
        ("credit-score", _score_step(o)),
        ("policy", _policy_step(o, box)),
    ):
        result = _step(o, app_id, name, run)
        detail[name] = result.detail
        if name == "credit-score":
            box["grade"] = result.detail.get("grade")
        collected += result.reasons
        if result.outcome in (REFUSED, DECLINE):
            break
    return _conclude(o, app_id, collected, detail, box)


def _conclude(
    o: Origination,
    app_id: str,
    reasons: list[PolicyReason],
    detail: dict[str, Any],
    box: dict[str, Any],
) -> dict[str, Any]:
    outcome = _worst(reasons) if reasons else APPROVE
    if outcome == "pass":
        outcome = APPROVE
    score = detail.get("credit-score", {})
    now = o.clock.now()
    with o.uow() as uow:
        app = uow.origination.get_application(app_id, lock=True)
        if outcome == APPROVE and app["payload"].get("human_review"):
            # PIPL Art. 24: the borrower refused a purely automated decision
            reasons.append(
                PolicyReason(
                    "human-review-requested",
                    "申请人要求人工审核，不作纯自动化决策",
                    "the applicant asked for a human decision instead of a purely automated one",
                    REFER,
                )
            )
            outcome = REFER
        decision = {
            "outcome": outcome,
            "automated": True,
            "decided_at": now.isoformat(),
            "reasons": [r.as_dict() for r in reasons],
            "model": score.get("model"),
            "pd": score.get("pd"),
            "score": score.get("score"),
            "grade": score.get("grade"),
            "score_reasons": score.get("score_reasons", []),
            "fraud": detail.get("anti-fraud"),
            "limit": detail.get("policy", {}).get("limit"),
        }
        status = {APPROVE: "offered", DECLINE: "declined", REFER: "referred", REFUSED: "refused"}[
            outcome
        ]
        uow.origination.update_application(
            app_id,
            status=status,
            outcome=outcome,
            grade=score.get("grade"),
            decision=decision,
            updated_at=now,
        )
        uow.origination.audit(app_id, "decision", outcome, decision, now)
        if outcome == REFER:
            _open_review(
                uow,
                app_id,
                "referral",
                "; ".join(r.reason_en for r in reasons if r.outcome == REFER),
                now,
            )
        if outcome == APPROVE:
            _make_offer(o, uow, app, box["terms"], box.get("grade") or REFERRAL_GRADE)
    return application_view(o, app_id)


def _open_review(uow: OriginationUnitOfWork, app_id: str, kind: str, reason: str, now: Any) -> str:
    review_id = new_id()
    uow.origination.add_review(
        {
            "id": review_id,
            "application_id": app_id,
            "kind": kind,
            "status": "open",
            "reason": reason or kind,
            "opened_at": now,
        }
    )
    uow.origination.audit(
        app_id, "review-opened", REFER, {"review": review_id, "kind": kind, "reason": reason}, now
    )
    return review_id


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def terms_hash(terms: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the terms: what the borrower signs."""
    return hashlib.sha256(canonical_json(terms).encode("utf-8")).hexdigest()


def _fees(o: Origination, p: ScenarioProduct) -> list[dict[str, str]]:
    lp = o.products[p.loan_product]
    return [
        {
            "fee": "monthly_fee",
            "zh": "月服务费（按本金）",
            "en": "monthly service fee (on principal)",
            "rate": str(lp.monthly_fee_rate),
        },
        {
            "fee": "upfront_fee",
            "zh": "前置费用（禁止砍头息）",
            "en": "upfront fee (never deducted)",
            "rate": str(lp.upfront_fee_rate),
        },
        {
            "fee": "prepayment_fee",
            "zh": "提前还款费（按提前还款本金）",
            "en": "prepayment fee (on principal prepaid)",
            "rate": str(lp.prepayment_fee_rate),
        },
        {
            "fee": "late_fee",
            "zh": "逾期手续费（每期）",
            "en": "late fee (per overdue instalment)",
            "amount": format_yuan(lp.late_fee),
        },
        {
            "fee": "penalty_interest",
            "zh": "罚息（合同利率上浮）",
            "en": "penalty interest (uplift on the contract rate)",
            "uplift": str(lp.penalty_uplift),
        },
    ]


def _make_offer(
    o: Origination, uow: OriginationUnitOfWork, app: dict[str, Any], t: _Terms, grade: str
) -> None:
    p = _product(o, app["product_code"])
    q = quote_to_dict(t.quote)
    perks: list[dict[str, str]] = []
    try:
        perks = [
            {"code": k.code, "zh": k.label_zh, "en": k.label_en, "valid_days": str(k.valid_days)}
            for k in p.entitlements(_signals(app["payload"]["signals"]))
        ]
    except ValidationError:
        perks = []  # a perk whose signals are not known yet is earned later, not offered now
    lp = o.products[p.loan_product]
    stages = (
        [
            {"stage": code, "amount": format_yuan(amount)}
            for code, amount in p.stage_amounts(t.amount)
        ]
        if p.stages
        else []
    )
    now = o.clock.now()
    simple, compound = _pct(str(q["apr_simple"])), _pct(str(q["apr_compound"]))
    terms = {
        "application": app["number"],
        "borrower": app["subject"],
        "product": p.code,
        "loan_product": lp.code,
        "name_zh": p.name_zh,
        "name_en": p.name_en,
        "amount": format_yuan(t.amount),
        "term": t.cmd.term,
        "method": t.cmd.method,
        "grade": grade,
        "annual_rate": str(t.cmd.annual_rate),
        "apr_simple": q["apr_simple"],
        "apr_compound": q["apr_compound"],
        "disclosure_zh": f"年化利率（单利）{simple}，年化利率（复利）{compound}",
        "disclosure_en": f"APR (simple, 单利) {simple}; APR (compound, 复利) {compound}",
        "total_interest": q["total_interest"],
        "total_fees": q["total_fees"],
        "total_cost": q["total_cost"],
        "total_repayment": q["total_repayment"],
        "fees": _fees(o, p),
        "schedule": q["installments"],
        "start_date": t.cmd.start_date.isoformat(),
        "limit": t.limit,
        "perks": perks,
        "stages": stages,
        "multi_tranche": lp.multi_tranche,
    }
    offer_id = new_id()
    uow.origination.add_offer(
        {
            "id": offer_id,
            "application_id": app["id"],
            "terms": terms,
            "terms_sha256": terms_hash(terms),
            "status": "open",
            "expires_at": now + timedelta(days=o.config.offer_valid_days),
            "created_at": now,
        }
    )
    uow.origination.audit(
        app["id"],
        "offer",
        "pass",
        {"offer": offer_id, "apr_simple": q["apr_simple"], "amount": terms["amount"]},
        now,
    )


def _pct(fraction: str) -> str:
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.01'))}%"


# -- explanation and human review -------------------------------------------------------------------


def explain(o: Origination, app_ref: str) -> dict[str, Any]:
    """The explanation of an automated decision (PIPL Art. 24): outcome, every reason, the score's
    main factors, the limit formula with its inputs, and each step of the audit trail."""
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref)
        if app["decision"] is None:
            raise ConflictError(f"application {app['number']} has no decision yet")
        trail = uow.origination.audit_trail(app["id"])
        uow.origination.audit(
            app["id"], "explanation", "pass", {"requested_by": app["subject"]}, o.clock.now()
        )
    d = app["decision"]
    return {
        "application": app["number"],
        "outcome": d["outcome"],
        "automated": d.get("automated", True),
        "reasons": d["reasons"],
        "score": {k: d.get(k) for k in ("model", "pd", "score", "grade")},
        "score_factors": d.get("score_reasons", []),
        "limit": d.get("limit"),
        "steps": [{"step": s["step"], "outcome": s["outcome"], "at": s["at"]} for s in trail],
        "right_to_review_zh": "您有权要求对自动化决策进行人工复核。",
        "right_to_review_en": "You may ask for a human review of this automated decision.",
    }


def request_review(o: Origination, app_ref: str, reason: str = "") -> dict[str, Any]:
    """The borrower refuses the automated decision: a human reviews it."""
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref, lock=True)
        if app["status"] not in ("declined", "offered", "referred"):
            raise ConflictError(
                f"application {app['number']} is {app['status']}: nothing to review"
            )
        open_items = uow.origination.reviews(status="open", app_id=app["id"])
        if open_items:
            return {"review": open_items[0]["id"], "status": "open", "existing": True}
        now = o.clock.now()
        review_id = _open_review(
            uow, app["id"], "borrower", reason or "borrower requested human review", now
        )
        uow.origination.update_application(app["id"], status="in-review", updated_at=now)
    return {"review": review_id, "status": "open", "existing": False}


def list_reviews(o: Origination, status: str | None = "open") -> list[dict[str, Any]]:
    with o.uow() as uow:
        rows = uow.origination.reviews(status=status)
        out = []
        for r in rows:
            app = uow.origination.get_application(r["application_id"])
            out.append(
                {
                    "review": r["id"],
                    "application": app["number"],
                    "product": app["product_code"],
                    "subject": app["subject"],
                    "kind": r["kind"],
                    "status": r["status"],
                    "reason": r["reason"],
                    "opened_at": r["opened_at"].isoformat() if r["opened_at"] else None,
                    "resolution": r["resolution"],
                    "analyst": r["analyst"],
                    "decision": app["decision"],
                }
            )
    return out


def resolve_review(
    o: Origination, review_id: str, *, analyst: str, resolution: str, note: str = ""
) -> dict[str, Any]:
    """An analyst approves (an offer is made at the decided grade, or ``E`` for a referral) or
    declines (the note is the reason given to the borrower)."""
    if resolution not in ("approve", "decline"):
        raise ValidationError("resolution", "must be approve or decline")
    if not analyst or not analyst.strip():
        raise ValidationError("analyst", "is required")
    if resolution == "decline" and not note.strip():
        raise ValidationError("note", "a decline needs the reason given to the borrower")
    with o.uow() as uow:
        review = uow.origination.review(review_id, lock=True)
        if review["status"] != "open":
            raise ConflictError(f"review {review_id} is already {review['status']}")
        app = uow.origination.get_application(review["application_id"], lock=True)
    p = _product(o, app["product_code"])
    terms: _Terms | None = None
    if resolution == "approve":
        grade = app["grade"] or REFERRAL_GRADE
        terms, reasons = _offer_terms(o, app, p, grade, o.clock.today())
        if terms is None:
            raise ConflictError("; ".join(r.reason_en for r in reasons))
    now = o.clock.now()
    with o.uow() as uow:
        # re-read under the lock: two analysts resolving one item — the second is refused
        if uow.origination.review(review_id, lock=True)["status"] != "open":
            raise ConflictError(f"review {review_id} was resolved meanwhile")
        uow.origination.close_review(
            review_id, analyst=analyst, resolution=resolution, note=note, at=now
        )
        decision = dict(app["decision"] or {})
        decision.update(
            outcome=APPROVE if resolution == "approve" else DECLINE,
            automated=False,
            reviewed_by=analyst,
            review_note=note,
            decided_at=now.isoformat(),
        )
        if resolution == "decline":
            decision["reasons"] = [
                *decision.get("reasons", []),
                {"code": "analyst-decline", "zh": note, "en": note, "outcome": DECLINE},
            ]
        has_offer = uow.origination.offer_for(app["id"]) is not None
        status = "declined" if resolution == "decline" else "offered"
        uow.origination.update_application(
            app["id"], status=status, outcome=decision["outcome"], decision=decision, updated_at=now
        )
        uow.origination.audit(
            app["id"],
            "review",
            resolution,
            {"review": review_id, "analyst": analyst, "note": note},
            now,
        )
        if terms is not None and not has_offer:
            _make_offer(o, uow, app, terms, app["grade"] or REFERRAL_GRADE)
        if resolution == "decline" and has_offer:
            offer = uow.origination.offer_for(app["id"])
            assert offer is not None
            uow.origination.set_offer_status(offer["id"], "withdrawn")
    return application_view(o, app["id"])


# -- acceptance and disbursement --------------------------------------------------------------------


def accept_offer(
    o: Origination,
    app_ref: str,
    *,
    signer: str,
    terms_sha256: str,
    method: str = "click-wrap",
    evidence: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The borrower signs the offer's terms hash; the contract opens with those terms frozen."""
    now = o.clock.now()
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref, lock=True)
        offer = uow.origination.offer_for(app["id"])
        if offer is None or app["status"] != "offered":
            raise ConflictError(
                f"application {app['number']} has no open offer (status {app['status']})"
            )
        if offer["status"] != "open":
            raise ConflictError(f"the offer is {offer['status']}")
        if now > offer["expires_at"]:
            uow.origination.set_offer_status(offer["id"], "expired")
            uow.origination.update_application(app["id"], status="expired", updated_at=now)
            uow.origination.audit(
                app["id"], "acceptance", REFUSED, {"reason": "offer expired"}, now
            )
            return application_view_in(uow, app["id"])
        if signer != app["subject"]:
            raise ValidationError("signer", "only the applicant can sign the offer")
        if terms_hash(offer["terms"]) != offer["terms_sha256"]:
            raise ConflictError(
                "the stored offer terms do not match their hash: refusing to contract"
            )
        if terms_sha256 != offer["terms_sha256"]:
            raise ValidationError(
                "terms_sha256", "does not match the offer's terms: re-read the offer and sign again"
            )
        uow.origination.add_signature(
            {
                "offer_id": offer["id"],
                "signer": signer,
                "method": method,
                "evidence": dict(evidence or {}),
                "terms_sha256": offer["terms_sha256"],
                "signed_at": now,
            }
        )
        uow.origination.set_offer_status(offer["id"], "signed")
        uow.origination.update_application(app["id"], status="signed", updated_at=now)
        uow.origination.audit(
            app["id"],
            "acceptance",
            "pass",
            {"terms_sha256": offer["terms_sha256"], "method": method},
            now,
        )
    return _contract(o, app["id"])


def _contract(o: Origination, app_id: str) -> dict[str, Any]:
    """Open the loan with the frozen terms, in one transaction with the application's link to it
    (retried safely: a signed application without a loan)."""
    with o.uow() as uow:
        app = uow.origination.get_application(app_id)
        offer = uow.origination.offer_for(app_id)
    assert offer is not None
    t = offer["terms"]
    if app["loan_id"] is not None:
        return application_view(o, app_id)
    cmd = OpenLoan(
        product_code=t["loan_product"],
        principal=parse_yuan(t["amount"]),
        term=int(t["term"]),
        method=t["method"],
        annual_rate=Decimal(t["annual_rate"]),
        start_date=date.fromisoformat(t["start_date"]),
        borrower_ref=app["subject"],
    )
    contract_quote = offer_quote(cmd, o.products[cmd.product_code])
    if str(disclosed(contract_quote.apr.apr_simple)) != t["apr_simple"]:
        raise ConflictError("the contract's APR differs from the offer's: offer withdrawn")
    now = o.clock.now()
    with o.uow() as uow:
        # the loan and the application's link to it commit together: a retry never opens twice
        if uow.origination.get_application(app_id, lock=True)["loan_id"] is not None:
            return application_view_in(uow, app_id)
        view = open_loan_in(uow, o.products, cmd)
        uow.origination.update_application(
            app_id, status="contracted", loan_id=view["internal_id"], updated_at=now
        )
        uow.origination.audit(
            app_id, "contract", "pass", {"loan": view["number"], "apr_simple": t["apr_simple"]}, now
        )
        lp = o.products[cmd.product_code]
        limit = t.get("limit") or {}
        uow.origination.put_limit(
            {
                "application_id": app_id,
                "subject": app["subject"],
                "product_code": app["product_code"],
                "loan_id": view["internal_id"],
                "limit_fen": parse_yuan(limit.get("limit", t["amount"]))
                if not lp.multi_tranche
                else cmd.principal,
                "frozen": bool(limit.get("freeze_new_draws", False)),
                "risk_level": o.fraud.level_of(app["subject"]),
                "reviewed_on": o.clock.today(),
                "updated_at": now,
            }
        )
    return application_view(o, app_id)


def disburse_application(o: Origination, app_ref: str) -> dict[str, Any]:
    """Pay out a contracted loan (idempotent); a staged line is opened and waits for its stages."""
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref)
        offer = uow.origination.offer_for(app["id"])
    if app["status"] in ("disbursed", "line-open"):
        return application_view(o, app["id"])
    if app["status"] != "contracted" or offer is None or app["loan_id"] is None:
        raise ConflictError(f"application {app['number']} is {app['status']}: nothing to disburse")
    t = offer["terms"]
    now = o.clock.now()
    if t["multi_tranche"]:
        status, detail = (
            "line-open",
            {"stages": t["stages"], "note": "stages are released by attestation"},
        )
    else:
        amount = parse_yuan(t["amount"])
        result = disburse(
            o.uow,
            o.products,
            str(app["loan_id"]),
            amount,
            o.clock.today(),
            f"orig-{app['id']}-disburse",
        )
        status, detail = "disbursed", {"amount": result["amount"], "loan": result["loan_number"]}
    with o.uow() as uow:
        uow.origination.update_application(app["id"], status=status, updated_at=now)
        uow.origination.audit(app["id"], "disbursement", "pass", detail, now)
    return application_view(o, app["id"])


# -- views ------------------------------------------------------------------------------------------


def application_view_in(uow: OriginationUnitOfWork, app_ref: str) -> dict[str, Any]:
    app = uow.origination.get_application(app_ref)
    offer = uow.origination.offer_for(app["id"])
    sig = uow.origination.signature(offer["id"]) if offer else None
    return {
        "id": app["id"],
        "number": app["number"],
        "subject": app["subject"],
        "household": app["household"],
        "product_code": app["product_code"],
        "amount": format_yuan(app["requested"]),
        "term": app["term"],
        "method": app["method"],
        "status": app["status"],
        "outcome": app["outcome"],
        "grade": app["grade"],
        "decision": app["decision"],
        "offer": None
        if offer is None
        else {
            "id": offer["id"],
            "status": offer["status"],
            "terms": offer["terms"],
            "terms_sha256": offer["terms_sha256"],
            "expires_at": offer["expires_at"].isoformat(),
        },
        "signature": None
        if sig is None
        else {
            "signer": sig["signer"],
            "method": sig["method"],
            "signed_at": sig["signed_at"].isoformat(),
        },
        "loan_id": app["loan_id"],
        "created_at": app["created_at"].isoformat(),
    }


def application_view(o: Origination, app_ref: str) -> dict[str, Any]:
    with o.uow() as uow:
        return application_view_in(uow, app_ref)


def audit_trail(o: Origination, app_ref: str) -> list[dict[str, Any]]:
    with o.uow() as uow:
        app = uow.origination.get_application(app_ref)
        return uow.origination.audit_trail(app["id"])


# -- adapters: the real-time risk engine and a credit-model artefact on the decision path ----------


@dataclass(frozen=True, slots=True)
class Verdict:
    action: str
    level: int
    decision_id: str | None = None
    rules: tuple[str, ...] = ()
    reasons_zh: tuple[str, ...] = ()
    reasons_en: tuple[str, ...] = ()


class EngineFraudCheck:
    """``FraudCheck`` over a ``RiskEngine`` instance (in-process; its state is the engine's)."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine

    def assess(self, event: Event) -> Verdict:
        d = self.engine.process(event)
        if d is None:  # a duplicate or too-late event: the engine already judged it
            return Verdict("allow", self.level_of(event.subject))
        reasons_zh, reasons_en = d.reasons_zh, d.reasons_en
        if d.listed and not reasons_en:
            reasons_zh, reasons_en = (f"名单命中 {d.listed}",), (f"listed {d.listed}",)
        return Verdict(
            d.action.value,
            d.level_after,
            d.decision_id,
            tuple(h.rule_id for h in d.hits),
            tuple(reasons_zh),
            tuple(reasons_en),
        )

    def level_of(self, subject: str) -> int:
        return self.engine.level_of(subject)


class ModelScorer:
    """``CreditScorer`` over a saved model artefact (``scoring.Scorer``: no pandas per call)."""

    def __init__(self, name: str, loaded: LoadedModel) -> None:
        self.name = name
        self._scorer = Scorer(loaded)
        self.feature_categories: Mapping[str, str] = {
            f.name: f.category.value for f in loaded.model.spec.features
        }

    def score(
        self, features: Mapping[str, object], *, consent_sensitive: bool
    ) -> tuple[float, float, list[dict[str, Any]]]:
        d = self._scorer.score(features, consent_sensitive=consent_sensitive)
        return d.pd, d.score, [r.to_dict() for r in d.reasons]


def notifications(o: Origination, subject: str | None = None) -> list[dict[str, Any]]:
    """The notification outbox (limit changes, frozen draws), oldest first."""
    with o.uow() as uow:
        return uow.origination.notifications(subject)
