"""The borrower's pages: home (products), the loan calculator with APR disclosure, a loan's page.

Pages are GET-only and hold no state of their own: the calculator is a form that submits to itself
(bookmarkable, no CSRF surface) and calls the same quoting use case as ``POST /v1/quotes``, so the
年化利率 a borrower reads here is the figure the API and the contract carry. Bad input re-renders the
form with the field named; nothing is written.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from xindai.app.quoting import build_quote, ensure_within_cap, parse_quote_request, quote_to_dict
from xindai.app.servicing import show_loan
from xindai.bootstrap import Platform
from xindai.kernel.errors import NotFoundError, ValidationError
from xindai.money.money import format_yuan
from xindai.web import i18n

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def percent(fraction: object) -> str:
    """``"0.1268"`` → ``"12.68%"``, exactly (Decimal, half-up), for rates shown to borrowers."""
    value = (Decimal(str(fraction)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value}%"


templates.env.filters["pct"] = percent
router = APIRouter(prefix="/web", include_in_schema=False)

Lang = Annotated[str | None, Query(description="en for English; zh-CN by default")]

QUOTE_FIELDS = ("principal", "term", "method", "annual_rate", "monthly_fee_rate", "start_date")


def _render(
    request: Request, name: str, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    def t(key: str) -> str:
        return i18n.TEXTS[key][lang]

    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": t,
            # Switching language keeps the page and its query (a computed quote stays on screen).
            "switch_url": str(
                request.url.include_query_params(lang="zh-CN" if lang == "en" else "en")
            ),
            "status_label": lambda v: i18n.label(i18n.STATUS, v, lang),
            "method_label": lambda v: i18n.label(i18n.METHODS, v, lang),
            "balance_label": lambda v: i18n.label(i18n.BALANCES, v, lang),
            **context,
        },
        status_code=status,
    )


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


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
        for p in sorted(_platform(request).products.values(), key=lambda p: p.code)
    ]
    return _render(request, "home.html", lng, products=products)


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
    return _render(
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
    return _render(request, "find_loan.html", lng)


@router.get("/loans/{ref}", response_class=HTMLResponse)
def loan_page(request: Request, ref: str, lang: Lang = None) -> HTMLResponse:
    lng = i18n.pick_lang(lang)
    try:
        # Borrowers look a loan up by its number or UUID, never by the guessable internal id.
        if ref.isdigit():
            raise NotFoundError(ref)
        view = show_loan(_platform(request).uow, ref)
    except (NotFoundError, ValidationError):
        return _render(request, "find_loan.html", lng, status=404, missing=ref)
    return _render(request, "loan.html", lng, loan=view)


def mount(app: FastAPI) -> None:
    """Add the pages to ``app`` and make them the site's front door."""
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def front_door() -> RedirectResponse:
        return RedirectResponse("/web")
