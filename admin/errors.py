"""The one mapping from domain errors to HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from surveys.exceptions import Conflict, InvalidDefinition, NotFound, SurveysError

STATUS: dict[type[SurveysError], int] = {NotFound: 404, Conflict: 409, InvalidDefinition: 422}


def _status_for(exc: SurveysError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _handle(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SurveysError)
    return JSONResponse(
        {"error": type(exc).__name__, "detail": str(exc)}, status_code=_status_for(exc)
    )


def install(app: FastAPI) -> None:
    """Register the domain error handler on ``app``."""
    app.add_exception_handler(SurveysError, _handle)
