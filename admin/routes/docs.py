"""API reference: the OpenAPI schema and a server-rendered list, behind login outside dev."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from admin.dashboard.render import render
from admin.deps import get_principal
from surveys.accounts import Principal

router = APIRouter(include_in_schema=False)


async def docs_viewer(request: Request) -> Principal | None:
    """Anyone in development; a logged-in user elsewhere."""
    if request.app.state.settings.environment == "development":
        return None
    session_maker = request.app.state.sessionmaker
    async with session_maker() as session:
        return await get_principal(request, session)


DocsViewer = Annotated[Principal | None, Depends(docs_viewer)]


@router.get("/openapi.json")
async def openapi(request: Request, who: DocsViewer) -> JSONResponse:
    """The OpenAPI schema."""
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request, who: DocsViewer) -> HTMLResponse:
    """A readable list of the API's endpoints (no external scripts)."""
    schema: dict[str, Any] = request.app.openapi()
    endpoints = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
            "tags": ", ".join(op.get("tags", [])),
        }
        for path, ops in schema.get("paths", {}).items()
        for method, op in ops.items()
    ]
    return render(request, "docs.html", who, endpoints=endpoints)
