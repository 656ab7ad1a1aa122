"""The borrower's application journey for a scenario product, server-rendered:

product page → apply → consent → education lesson → decision (with "why?" and human review) →
offer → sign → loan page; plus "my data" (the demo identity and its consents, each withdrawable).

Every step calls the origination use cases the API calls (``xindai.app.origination``), so the
reasons, the offer's 年化利率 and every figure are the API's. The pages add no rule of their own:
the consent page only maps ticked boxes to consents (a sensitive source has its own, separate
checkbox and is recorded as a separate consent); the lesson page shows the remaining time, but
``finish_lesson`` decides by the server's clock; the decision runs the real pipeline.

Invariants: an application is shown only to the demo identity that made it (404 otherwise); every
POST is CSRF-checked (403 before anything runs); bad input re-renders the form naming the field
with status 422 and changes nothing; a refused, declined or referred application says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xindai.app import origination as orig
from xindai.app.demo import APPLICANT_TEMPLATES, DEMO_CHANNEL, application_for, feature_pool
from xindai.app.origination import Origination
from xindai.app.servicing import OpenLoan, offer_quote, show_loan
from xindai.kernel.errors import ConflictError, NotFoundError, ValidationError
from xindai.money.money import format_yuan
from xindai.products.catalogue import ScenarioProduct
from xindai.web import i18n
from xindai.web.render import Lang, percent, platform_of, render
from xindai.web.security import (
    PROFILES,
    Checked,
    DemoIdentity,
    Form,
    csrf_token,
    current_identity,
    first,
    remember,
)

router = APIRouter(prefix="/web", include_in_schema=False)
T = TypeVar("T")

#: the application form's fields, in the order a bad one is reported
APPLY_FIELDS = ("amount", "term", "method", "age", "region", "monthly_income", "monthly_debt")


class PageError(Exception):
    """Rendered as an HTML error page with this status (404 unknown, 409 wrong state)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def guarded(call: Callable[[], T]) -> T:
    """Run a use case; unknown → 404 page, wrong state → 409 page (never the API's JSON)."""
    try:
        return call()
    except NotFoundError as exc:
        raise PageError(404, str(exc)) from None
    except ConflictError as exc:
        raise PageError(409, str(exc)) from None


def _lang(form: Form) -> str:
    """The language a form was filled in (its hidden ``lang`` field)."""
    return i18n.pick_lang(first(form, "lang"))


def _see(path: str, lang: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?lang={lang}", status_code=303)


def _origination(request: Request) -> Origination:
    return platform_of(request).origination()


def _page(
    request: Request, name: str, lang: str, ident: DemoIdentity, new: bool, **context: Any
) -> Response:
    """Render a page of ``ident`` (forms get its CSRF token); a new identity's cookie is set."""
    response = render(
        request, name, lang, identity=ident, csrf=csrf_token(request, ident), **context
    )
    return remember(request, response, ident) if new else response


# -- product page and application ------------------------------------------------------------------


def _product(o: Origination, code: str) -> ScenarioProduct:
    if code not in o.catalogue:
        raise PageError(404, f"unknown scenario product {code!r}")
    return o.catalogue.get(code)


def _apr_range(request: Request, p: ScenarioProduct) -> tuple[str, str]:
    """The lowest and highest 年化利率（单利）over the product's grid, terms and methods, priced by
    the servicing core's offer quote (fees included) — the function every offer uses."""
    lp = platform_of(request).products[p.loan_product]
    principal = min(max(1_000_000, lp.min_principal), lp.max_principal)
    aprs: list[Decimal] = []
    for grade in p.grid:
        for term in p.terms:
            low = p.price(grade, term, list(p.discounts)).annual_rate  # every discount applied
            high = p.price(grade, term).annual_rate
            for rate in {low, high}:
                for method in p.methods:
                    cmd = OpenLoan(lp.code, principal, term, method, rate, _today(request))
                    aprs.append(offer_quote(cmd, lp).apr.apr_simple)
    return percent(min(aprs)), percent(max(aprs))


def _today(request: Request) -> date:
    return _origination(request).clock.today()


def _product_context(request: Request, p: ScenarioProduct) -> dict[str, Any]:
    low, high = _apr_range(request, p)
    e = p.eligibility
    return {
        "p": p,
        "apr_low": low,
        "apr_high": high,
        "min_income": format_yuan(e.min_monthly_income_fen)
        if e.min_monthly_income_fen is not None
        else None,
        "limit_min": format_yuan(p.limit.min_fen),
        "limit_max": format_yuan(p.limit.max_fen),
        "lesson_minutes": max(1, round(p.education.min_watch_seconds / 60)),
        "channel": _channel(request),
    }


def _channel(request: Request) -> dict[str, str]:
    """The licensed credit-reporting channel the platform fetches third-party data through."""
    c = _origination(request).config.channels[DEMO_CHANNEL]
    return {"name": c.name, "zh": c.label_zh, "en": c.label_en}


def _default_form(p: ScenarioProduct) -> dict[str, str]:
    request_defaults = APPLICANT_TEMPLATES.get(p.code, ({}, {}))[0]
    return {
        "amount": str(request_defaults.get("amount", "")),
        "term": str(request_defaults.get("term", p.terms[0])),
        "method": str(request_defaults.get("method", p.methods[0])),
        "age": "",
        "region": "",
        "monthly_income": "",
        "monthly_debt": "0",
        "human_review": "",
    }


@router.get("/products/{code}", response_class=HTMLResponse)
def product_page(request: Request, code: str, lang: Lang = None) -> Response:
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    p = _product(_origination(request), code)
    return _page(
        request,
        "product.html",
        lng,
        ident,
        new,
        form=_default_form(p),
        error=None,
        **_product_context(request, p),
    )


#: the feature pools per credit model (computing one scores the whole public dataset once)
_POOL: dict[int, tuple[object, dict[str, list[dict[str, object]]]]] = {}


def _features(o: Origination, ident: DemoIdentity) -> dict[str, object]:
    """The demo identity's synthetic bureau features: a row of the public German-credit data from
    the champion model's pool for the identity's profile (chosen by a hash of its reference)."""
    scorer = o.scorers[o.config.default_model]
    cached = _POOL.get(id(scorer))
    if cached is None or cached[0] is not scorer:  # an id can be reused by another model
        cached = _POOL[id(scorer)] = (scorer, feature_pool(scorer))
    pool = cached[1]
    rows = pool[ident.profile] or pool["good"]
    digest = hashlib.sha256(ident.subject.encode("utf-8")).digest()
    return dict(rows[int.from_bytes(digest[:8], "big") % len(rows)])


@router.post("/products/{code}/apply", response_class=HTMLResponse)
def apply(request: Request, code: str, checked: Checked) -> Response:
    ident, form = checked
    lng = _lang(form)
    o = _origination(request)
    p = _product(o, code)
    if p.code not in APPLICANT_TEMPLATES:  # the demo has no synthetic signals for it yet
        raise PageError(409, f"{p.code} cannot be applied for on the demo site yet")
    given = {k: first(form, k) for k in (*APPLY_FIELDS, "human_review")}
    overrides: dict[str, object] = {k: v for k, v in given.items() if k != "human_review"}
    for optional in ("region", "monthly_income", "monthly_debt"):
        if not overrides[optional]:
            overrides[optional] = None
    overrides["human_review"] = given["human_review"] == "yes"
    body = application_for(p.code, ident.subject, _features(o, ident), **overrides)
    if body.get("region") is None:
        body.pop("region")
    try:
        view = orig.submit_application(o, body)
    except ValidationError as exc:
        field = exc.field if exc.field in APPLY_FIELDS else "amount"
        return _page(
            request,
            "product.html",
            lng,
            ident,
            False,
            status=422,
            form=given,
            error={"field": field, "label": i18n.TEXTS[f"f_{field}"][lng], "reason": exc.reason},
            **_product_context(request, p),
        )
    return _see(f"/web/applications/{view['number']}/consent", lng)


# -- the application's pages -----------------------------------------------------------------------


def _posted(
    request: Request, ref: str, checked: tuple[DemoIdentity, Form]
) -> tuple[DemoIdentity, Form, str, Origination, dict[str, Any]]:
    """A checked form posted about the borrower's own application: identity, form, language,
    the origination services and the application."""
    ident, form = checked
    o = _origination(request)
    return ident, form, _lang(form), o, _own(o, ref, ident)


def _own(o: Origination, ref: str, ident: DemoIdentity) -> dict[str, Any]:
    """The application, only for the identity that made it (anyone else: 404, nothing leaked)."""
    view = guarded(lambda: orig.application_view(o, ref))
    if view["subject"] != ident.subject:
        raise PageError(404, f"no application {ref}")
    return view


def _consent_context(o: Origination, request: Request, app: dict[str, Any]) -> dict[str, Any]:
    p = o.catalogue.get(app["product_code"])
    return {
        "app": app,
        "p": p,
        "ordinary": [s for s in p.data_sources if s.category != "sensitive"],
        "sensitive": [s for s in p.data_sources if s.category == "sensitive"],
        "channel": _channel(request),
    }


@router.get("/applications/{ref}/consent", response_class=HTMLResponse)
def consent_page(request: Request, ref: str, lang: Lang = None) -> Response:
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    o = _origination(request)
    app = _own(o, ref, ident)
    return _page(
        request, "consent.html", lng, ident, new, missing=[], **_consent_context(o, request, app)
    )


@router.post("/applications/{ref}/consent", response_class=HTMLResponse)
def give_consents(request: Request, ref: str, checked: Checked) -> Response:
    """Record one consent per ticked source; a sensitive source counts only from its own,
    separate box. Any source left unticked: the page names it (422) and nothing is recorded."""
    ident, form, lng, o, app = _posted(request, ref, checked)
    ctx = _consent_context(o, request, app)
    bundled = set(form.get("consent", []))
    separate = set(form.get("sensitive", []))
    missing = [s for s in ctx["ordinary"] if s.name not in bundled]
    missing += [s for s in ctx["sensitive"] if s.name not in separate]
    if missing:
        return _page(request, "consent.html", lng, ident, False, status=422, missing=missing, **ctx)
    for s in ctx["p"].data_sources:
        orig.give_consent(
            o,
            ident.subject,
            s.name,
            purpose=s.purpose,
            separate=s.category == "sensitive",
            channel=DEMO_CHANNEL if s.third_party else None,
        )
    return _see(f"/web/applications/{app['number']}/lesson", lng)


def _lesson_state(o: Origination, app: dict[str, Any]) -> dict[str, Any]:
    """Where the borrower is in the lesson, from the server's own audit trail: the last start,
    and whether a finish after it passed. The remaining time is the server's clock's."""
    trail = orig.audit_trail(o, app["id"])
    started: datetime | None = None
    passed = False
    for row in trail:
        if row["step"] == "lesson-start":
            started, passed = datetime.fromisoformat(row["at"]), False
        elif row["step"] == "lesson-finish" and started is not None:
            passed = row["outcome"] == "pass"
    lesson = o.catalogue.get(app["product_code"]).education
    remaining = lesson.min_watch_seconds
    if started is not None:
        elapsed = (o.clock.now() - started).total_seconds()
        remaining = max(0, int(lesson.min_watch_seconds - elapsed + 0.999))
    return {"started": started is not None, "passed": passed, "remaining": remaining}


def _lesson_page(
    request: Request,
    lng: str,
    ident: DemoIdentity,
    new: bool,
    app: dict[str, Any],
    status: int = 200,
    **extra: Any,
) -> Response:
    o = _origination(request)
    lesson = o.catalogue.get(app["product_code"]).education
    context: dict[str, Any] = {
        "app": app,
        "lesson": lesson,
        "state": _lesson_state(o, app),
        "result": None,
        "missing_answer": None,
        "answers": {},
        **extra,
    }
    return _page(request, "lesson.html", lng, ident, new, status=status, **context)


@router.get("/applications/{ref}/lesson", response_class=HTMLResponse)
def lesson_page(request: Request, ref: str, lang: Lang = None) -> Response:
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    app = _own(_origination(request), ref, ident)
    return _lesson_page(request, lng, ident, new, app)


def _act(
    request: Request,
    ref: str,
    checked: tuple[DemoIdentity, Form],
    action: Callable[[Origination, str, Form], object],
    then: str,
) -> Response:
    """A borrower's one-button step: check the form, run ``action`` on the borrower's own
    application, then show ``/web/applications/{number}{then}``."""
    _, form, lng, o, app = _posted(request, ref, checked)
    guarded(lambda: action(o, app["id"], form))
    return _see(f"/web/applications/{app['number']}{then}", lng)


@router.post("/applications/{ref}/lesson/start")
def lesson_start(request: Request, ref: str, checked: Checked) -> Response:
    """(Re)start the lesson: the server notes the time; a restart resets it."""
    return _act(request, ref, checked, lambda o, app_id, _: orig.start_lesson(o, app_id), "/lesson")


@router.post("/applications/{ref}/lesson/finish", response_class=HTMLResponse)
def lesson_finish(request: Request, ref: str, checked: Checked) -> Response:
    """Grade the quiz; the server's clock decides whether the lesson was watched long enough."""
    ident, form, lng, o, app = _posted(request, ref, checked)
    lesson = o.catalogue.get(app["product_code"]).education
    given = {n: first(form, f"q{n}") for n in range(len(lesson.quiz))}
    answers: list[int] = []
    for n, value in given.items():
        if not value.isdigit():
            return _lesson_page(
                request, lng, ident, False, app, status=422, missing_answer=n, answers=given
            )
        answers.append(int(value))
    try:
        result = guarded(lambda: orig.finish_lesson(o, app["id"], answers))
    except ValidationError as exc:  # a choice outside the question's: name the question
        n = int(exc.field.split("[")[1].rstrip("]")) if "[" in exc.field else 0
        return _lesson_page(
            request, lng, ident, False, app, status=422, missing_answer=n, answers=given
        )
    if not result["passed"]:
        return _lesson_page(request, lng, ident, False, app, status=422, result=result)
    return _see(f"/web/applications/{app['number']}/lesson", lng)


@router.post("/applications/{ref}/decision")
def decision(request: Request, ref: str, checked: Checked) -> Response:
    """Run the real pipeline (consent → education → anti-fraud → score → policy → decision)."""
    return _act(request, ref, checked, lambda o, app_id, _: orig.decide(o, app_id), "")


@router.get("/applications/{ref}", response_class=HTMLResponse)
def application_page(request: Request, ref: str, lang: Lang = None) -> Response:
    """The decision page: the outcome and every reason in the borrower's language."""
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    o = _origination(request)
    app = _own(o, ref, ident)
    loan_number = None
    if app["loan_id"] is not None:
        loan_number = show_loan(platform_of(request).uow, str(app["loan_id"]))["number"]
    p = o.catalogue.get(app["product_code"])
    return _page(
        request,
        "application.html",
        lng,
        ident,
        new,
        app=app,
        p=p,
        decision=app["decision"] or {},
        loan_number=loan_number,
        lesson=_lesson_state(o, app),
    )


@router.get("/applications/{ref}/why", response_class=HTMLResponse)
def why_page(request: Request, ref: str, lang: Lang = None) -> Response:
    """The explanation of the decision (PIPL Art. 24): reasons, score factors, limit, steps."""
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    o = _origination(request)
    app = _own(o, ref, ident)
    why = guarded(lambda: orig.explain(o, app["id"]))
    return _page(request, "why.html", lng, ident, new, app=app, why=why)


@router.post("/applications/{ref}/review")
def ask_review(request: Request, ref: str, checked: Checked) -> Response:
    """The borrower refuses the automated decision: a person reviews it."""

    def review(o: Origination, app_id: str, form: Form) -> object:
        return orig.request_review(o, app_id, first(form, "reason")[:500])

    return _act(request, ref, checked, review, "")


def _offer_page(
    request: Request,
    lng: str,
    ident: DemoIdentity,
    new: bool,
    app: dict[str, Any],
    status: int = 200,
    error: dict[str, str] | None = None,
) -> Response:
    if app["offer"] is None:
        raise PageError(409, f"application {app['number']} has no offer ({app['status']})")
    return _page(
        request,
        "offer.html",
        lng,
        ident,
        new,
        status=status,
        app=app,
        offer=app["offer"],
        terms=app["offer"]["terms"],
        error=error,
    )


@router.get("/applications/{ref}/offer", response_class=HTMLResponse)
def offer_page(request: Request, ref: str, lang: Lang = None) -> Response:
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    app = _own(_origination(request), ref, ident)
    return _offer_page(request, lng, ident, new, app)


@router.post("/applications/{ref}/sign", response_class=HTMLResponse)
def sign(request: Request, ref: str, checked: Checked) -> Response:
    """Sign the offer's terms hash (explicit confirmation required), then pay out."""
    ident, form, lng, o, app = _posted(request, ref, checked)
    if first(form, "confirm") != "yes":
        error = {"field": "confirm", "label": i18n.TEXTS["f_confirm"][lng], "reason": ""}
        return _offer_page(request, lng, ident, False, app, status=422, error=error)
    try:
        guarded(
            lambda: orig.accept_offer(
                o,
                app["id"],
                signer=ident.subject,
                terms_sha256=first(form, "terms_sha256"),
                method="web-click-wrap",
                evidence={"channel": "web", "lang": lng},
            )
        )
    except ValidationError as exc:
        field = exc.field if exc.field == "terms_sha256" else "confirm"
        error = {"field": field, "label": i18n.TEXTS[f"f_{field}"][lng], "reason": exc.reason}
        return _offer_page(request, lng, ident, False, app, status=422, error=error)
    view = guarded(lambda: orig.disburse_application(o, app["id"]))
    if view["loan_id"] is None:
        return _see(f"/web/applications/{app['number']}", lng)
    number = show_loan(platform_of(request).uow, str(view["loan_id"]))["number"]
    return _see(f"/web/loans/{number}", lng)


# -- my data: the demo identity and its consents ---------------------------------------------------


@router.get("/me", response_class=HTMLResponse)
def me_page(request: Request, lang: Lang = None) -> Response:
    lng = i18n.pick_lang(lang)
    ident, new = current_identity(request)
    o = _origination(request)
    consents = orig.list_consents(o, ident.subject)
    # sources are named by the products that read them (the same source, the same label)
    labels = {s.name: {"zh": s.label_zh, "en": s.label_en} for p in o.catalogue.all()
              for s in p.data_sources}  # fmt: skip
    return _page(
        request, "me.html", lng, ident, new, consents=consents, labels=labels, profiles=PROFILES
    )


@router.post("/me")
def change_identity(request: Request, checked: Checked) -> Response:
    """Choose the demo identity's synthetic profile, or start over with a new identity."""
    ident, form = checked
    lng = _lang(form)
    profile = first(form, "profile")
    if first(form, "action") == "new":
        ident = DemoIdentity.new(profile if profile in PROFILES else "good")
    elif profile in PROFILES:
        ident = DemoIdentity(ident.subject, profile)
    response = _see("/web/me", lng)
    remember(request, response, ident)
    return response


@router.post("/me/consents/{consent_id}/withdraw")
def withdraw(request: Request, consent_id: str, checked: Checked) -> Response:
    """Withdrawing is one click, as easy as consenting (PIPL Art. 15); effective immediately."""
    ident, form = checked
    guarded(lambda: orig.withdraw_consent(_origination(request), ident.subject, consent_id))
    return _see("/web/me", _lang(form))
