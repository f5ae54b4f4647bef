"""The one mapping from domain errors to HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aggregation.exceptions import AggregationError, EmptyCorpusError
from surveys.accounts import AuthError, LoginThrottled
from surveys.exceptions import Conflict, InvalidDefinition, NotFound, PrivacyError, SurveysError

STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidDefinition: 422,
    PrivacyError: 422,
    AuthError: 401,
    LoginThrottled: 429,
    EmptyCorpusError: 409,
}


def status_for(exc: Exception) -> int:
    """The HTTP status of a domain error (400 when unmapped)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _handle(_request: Request, exc: Exception) -> JSONResponse:
    headers = {}
    if isinstance(exc, LoginThrottled):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        {"error": type(exc).__name__, "detail": str(exc)},
        status_code=status_for(exc),
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Register the domain error handler on ``app``."""
    app.add_exception_handler(SurveysError, _handle)
    app.add_exception_handler(AggregationError, _handle)
