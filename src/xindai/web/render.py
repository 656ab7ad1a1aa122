"""Rendering shared by every page group: the Jinja2 environment, the language switch, filters.

Invariant: a page never shows a raw text key — ``t(key)`` reads ``i18n.TEXTS``, which a test checks
holds every key in both languages.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from xindai.bootstrap import Platform
from xindai.web import i18n

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

Lang = Annotated[str | None, Query(description="en for English; zh-CN by default")]


def percent(fraction: object) -> str:
    """``"0.1268"`` → ``"12.68%"``, exactly (Decimal, half-up), for rates shown to borrowers."""
    value = (Decimal(str(fraction)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value}%"


templates.env.filters["pct"] = percent


def when(iso: object) -> str:
    """``"2026-11-27T02:05:00+00:00"`` → ``"2026-11-27 02:05 UTC"`` (server times are UTC)."""
    text = str(iso)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 and text[10] == "T" else text


templates.env.filters["when"] = when

#: every page: never framed (the sign button cannot be clickjacked), never cached (offers and
#: consents are personal), no MIME sniffing, no full URLs leaked to other sites
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(
    request: Request, name: str, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``name`` in ``lang`` with the texts, the language switch and the enum labels."""

    def t(key: str) -> str:
        return i18n.TEXTS[key][lang]

    def pick(item: Any, zh: str = "zh", en: str = "en") -> str:
        """The borrower's language from a bilingual mapping (``{"zh": …, "en": …}``)."""
        value = item.get(zh if lang == "zh-CN" else en) or item.get(zh) or ""
        return str(value)

    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": t,
            "pick": pick,
            # Switching language keeps the page and its query (a computed quote stays on screen).
            "switch_url": str(
                request.url.include_query_params(lang="zh-CN" if lang == "en" else "en")
            ),
            "status_label": lambda v: i18n.label(i18n.STATUS, v, lang),
            "method_label": lambda v: i18n.label(i18n.METHODS, v, lang),
            "balance_label": lambda v: i18n.label(i18n.BALANCES, v, lang),
            "purpose_label": lambda v: i18n.label(i18n.PURPOSES, v, lang),
            "segment_label": lambda v: i18n.label(i18n.SEGMENTS, v, lang),
            "outcome_label": lambda v: i18n.label(i18n.OUTCOMES, v, lang),
            "step_label": lambda v: i18n.label(i18n.PIPELINE_STEPS, v, lang),
            **context,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform
