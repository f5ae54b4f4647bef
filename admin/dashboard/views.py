"""Server-rendered dashboard pages (Jinja2, own CSS, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from admin.deps import Session
from admin.routes.rounds import read_rounds

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    """Send visitors to the rounds overview."""
    return RedirectResponse("/admin/", status_code=307)


@router.get("/admin/", response_class=HTMLResponse)
async def rounds_page(request: Request, session: Session) -> HTMLResponse:
    """Rounds with live answer counts and their chat links."""
    rounds = await read_rounds(session)
    base = request.app.state.public_base_url.rstrip("/")
    return templates.TemplateResponse(
        request,
        "rounds.html",
        {"rounds": rounds, "base": base, "refresh": request.app.state.refresh_seconds},
    )
