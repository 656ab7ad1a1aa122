"""The FastAPI application factory (``xindai serve`` runs ``create_app``)."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI

from xindai import __version__
from xindai.api import chain, errors, loans, origination, quotes, risk
from xindai.bootstrap import Platform, bootstrap


def create_app(platform: Platform | None = None) -> FastAPI:
    """Build the app around ``platform`` (default: from the environment)."""
    app = FastAPI(
        title="xindai 信贷 API",
        version=__version__,
        description=(
            "Lending platform API. Amounts are yuan strings with two decimals; rates are decimal "
            "fractions as strings. Money commands take an Idempotency-Key header. APR (年化利率) is "
            "computed by the IRR method from the borrower's real cash flows (PBoC 2021 No. 3)."
        ),
    )
    app.state.platform = platform or bootstrap()
    errors.install(app)
    app.include_router(quotes.router)
    app.include_router(loans.router)
    app.include_router(chain.router)
    app.include_router(origination.router)
    app.include_router(risk.router)

    @app.get("/health", tags=["ops"], summary="Liveness and database reachability")
    def health() -> dict[str, object]:
        with app.state.platform.uow() as uow:
            uow.eod.status(date.today())
        return {"status": "ok", "version": __version__}

    return app
