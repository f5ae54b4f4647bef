"""Template rendering shared by the dashboard pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from admin.permissions import Permission, allowed
from surveys.accounts import Principal

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page; ``can`` tells the template which menu items and forms to show."""
    can = {p.value: principal is not None and allowed(principal.role, p) for p in Permission}
    return templates.TemplateResponse(
        request,
        name,
        {"me": principal, "can": can, **context},
        status_code=status_code,
    )


def describe(exc: Exception) -> str:
    """A short, safe message for a failed form post."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"Controleer het veld '{where}': {first.get('msg', 'ongeldig')}"
    return str(exc)


def form_list(value: str | None) -> list[str]:
    """Split a comma-separated form field."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]
