"""The one place where domain errors become HTTP statuses.

ValidationError → 422 with the field and reason; NotFoundError → 404; ConflictError → 409;
InvariantViolation → 500 (a severity-one bug: logged loudly, never hidden).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from xindai.kernel.errors import (
    ConflictError,
    DomainError,
    InvariantViolation,
    NotFoundError,
    ValidationError,
)

log = logging.getLogger("xindai.api")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        if isinstance(exc, ValidationError):
            return JSONResponse(
                status_code=422,
                content={
                    "error": "invalid",
                    "field": exc.field,
                    "reason": exc.reason,
                    "detail": str(exc),
                },
            )
        if isinstance(exc, NotFoundError):
            return JSONResponse(status_code=404, content={"error": "not_found", "detail": str(exc)})
        if isinstance(exc, ConflictError):
            return JSONResponse(status_code=409, content={"error": exc.code, "detail": str(exc)})
        if isinstance(exc, InvariantViolation):
            log.critical("invariant violated: %s", exc)
        return JSONResponse(status_code=500, content={"error": exc.code, "detail": str(exc)})
