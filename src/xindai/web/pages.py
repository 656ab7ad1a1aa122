"""The borrower's pages: home (products), the loan calculator with APR disclosure, a loan's page;
and ``mount``, which adds every page group (journey, fund flow, staff console) to the site.

These pages are GET-only and hold no state of their own: the calculator is a form that submits to
itself (bookmarkable, no CSRF surface) and calls the same quoting use case as ``POST /v1/quotes``, so
the 年化利率 a borrower reads here is the figure the API and the contract carry. Bad input re-renders
the form with the field named; nothing is written. The state-changing journey lives in
``journey.py`` (CSRF-checked POST forms, demo identity from ``security.py``).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xindai.app.quoting import build_quote, ensure_within_cap, parse_quote_request, quote_to_dict
from xindai.app.servicing import show_loan
from xindai.kernel.errors import NotFoundError, ValidationError
from xindai.money.money import format_yuan
from xindai.products.catalogue import Catalogue, load_catalogue
from xindai.web import flow, i18n, journey, ops, security
from xindai.web.render import Lang, percent, platform_of, render

router = APIRouter(prefix="/web", include_in_schema=False)

QUOTE_FIELDS = ("principal", "term", "method", "annual_rate", "monthly_fee_rate", "start_date")


@router.get("", response_class=HTMLResponse)
def home(request: Request, lang: Lang = None) -> HTMLResponse:
    lng = i18n.pick_lang(lang)
    products = [
        {
            "code": p.code,
            "name": p.name_zh if lng == "zh-CN" else p.name_en,
            "rates": f"{percent(p.min_rate)} – {percent(p.max_rate)}",
            "terms": ", ".join(str(t) for t in p.terms),
            "amounts": f"{format_yuan(p.min_principal)} – {format_yuan(p.max_principal)}",
        }
        for p in sorted(platform_of(request).products.values(), key=lambda p: p.code)
    ]
    scenarios = [
        {"code": p.code, "name": p.name_zh if lng == "zh-CN" else p.name_en, "sandbox": p.sandbox}
        for p in _scenarios().all()
    ]
    return render(request, "home.html", lng, products=products, scenarios=scenarios)


@cache
def _scenarios() -> Catalogue:
    """The shipped scenario catalogue, for the home page (loading it needs no credit model)."""
    return load_catalogue()


@router.get("/quote", response_class=HTMLResponse)
def quote(
    request: Request,
    lang: Lang = None,
    principal: str | None = None,
    term: str | None = None,
    method: str | None = None,
    annual_rate: str | None = None,
    monthly_fee_rate: str | None = None,
    start_date: str | None = None,
) -> HTMLResponse:
    lng = i18n.pick_lang(lang)
    given = {
        "principal": principal,
        "term": term,
        "method": method,
        "annual_rate": annual_rate,
        "monthly_fee_rate": monthly_fee_rate,
        "start_date": start_date,
    }
    form = {
        "principal": principal or "10000",
        "term": term or "12",
        "method": method or "equal-installment",
        "annual_rate": annual_rate or "0.12",
        "monthly_fee_rate": monthly_fee_rate or "0",
        "start_date": start_date or date.today().isoformat(),
    }
    result: dict[str, object] | None = None
    error: dict[str, str] | None = None
    if principal is not None:  # the form was submitted
        raw = {k: v for k, v in given.items() if v not in (None, "")}
        try:
            q = build_quote(parse_quote_request(raw))
            result = quote_to_dict(q)
            ensure_within_cap(q)
        except ValidationError as exc:
            field = exc.field if exc.field in QUOTE_FIELDS else "annual_rate"
            error = {"field": field, "label": i18n.TEXTS[field][lng], "reason": exc.reason}
    return render(
        request,
        "quote.html",
        lng,
        status=422 if error else 200,
        form=form,
        methods=list(i18n.METHODS),
        result=result,
        error=error,
    )


@router.get("/loans", response_class=HTMLResponse, response_model=None)
def find_loan(request: Request, ref: str | None = None, lang: Lang = None) -> Any:
    lng = i18n.pick_lang(lang)
    if ref:
        return RedirectResponse(f"/web/loans/{ref.strip()}?lang={lng}", status_code=303)
    return render(request, "find_loan.html", lng)


@router.get("/loans/{ref}", response_class=HTMLResponse)
def loan_page(request: Request, ref: str, lang: Lang = None) -> HTMLResponse:
    lng = i18n.pick_lang(lang)
    try:
        # Borrowers look a loan up by its number or UUID, never by the guessable internal id.
        if ref.isdigit():
            raise NotFoundError(ref)
        view = show_loan(platform_of(request).uow, ref)
    except (NotFoundError, ValidationError):
        return render(request, "find_loan.html", lng, status=404, missing=ref)
    return render(request, "loan.html", lng, loan=view)


def _error_page(request: Request, status: int, message: str) -> Response:
    lang = i18n.pick_lang(request.query_params.get("lang"))
    return render(request, "error.html", lang, status=status, code=status, message=message)


def mount(app: FastAPI) -> None:
    """Add the pages to ``app`` and make them the site's front door."""
    app.state.web_secret = security.make_secret()
    app.include_router(router)
    app.include_router(journey.router)
    app.include_router(flow.router)
    app.include_router(ops.router)

    @app.exception_handler(journey.PageError)
    async def _page_error(request: Request, exc: journey.PageError) -> Response:
        return _error_page(request, exc.status, exc.message)

    @app.exception_handler(security.Forbidden)
    async def _forbidden(request: Request, exc: security.Forbidden) -> Response:
        return _error_page(request, 403, str(exc))

    @app.exception_handler(security.BadForm)
    async def _bad_form(request: Request, exc: security.BadForm) -> Response:
        return _error_page(request, 400, str(exc))

    @app.get("/", include_in_schema=False)
    def front_door() -> RedirectResponse:
        return RedirectResponse("/web")
