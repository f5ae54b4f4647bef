"""Request dependencies: the session (the request owns its transaction) and who is acting.

Authentication is a session cookie (dashboard) or a bearer API token (scripts). Every
state-changing request authenticated by cookie must carry the session's CSRF token, in the
``X-CSRF-Token`` header or a ``csrf_token`` form field.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.permissions import OWN_ROUNDS_ONLY, Permission, allowed
from surveys import accounts, service
from surveys.accounts import AuthError, Principal
from surveys.exceptions import NotFound
from surveys.models import Municipality, Round
from surveys.privacy.disclosure import MIN_ALLOWED_K

SESSION_COOKIE = "jeugdstem_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit on success, roll back on error."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


Session = Annotated[AsyncSession, Depends(get_session)]


def is_api(request: Request) -> bool:
    """Whether the request is for the JSON API (401) rather than a page (redirect to login)."""
    path = request.url.path
    return path.startswith("/admin/api/") or path in ("/openapi.json",)


def _unauthenticated(request: Request) -> HTTPException:
    if is_api(request):
        return HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    return HTTPException(303, "login required", headers={"Location": "/admin/login"})


async def _csrf_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def get_principal(request: Request, session: Session) -> Principal:
    """Resolve the acting user from the bearer token or session cookie; check CSRF."""
    auth = request.headers.get("authorization", "")
    try:
        if auth.lower().startswith("bearer "):
            principal = await accounts.resolve_api_token(session, auth[7:].strip())
        else:
            raw = request.cookies.get(SESSION_COOKIE)
            if not raw:
                raise AuthError("not logged in")
            principal = await accounts.resolve_session(session, raw)
    except AuthError as exc:
        raise _unauthenticated(request) from exc
    if request.method not in SAFE_METHODS and not accounts.check_csrf(
        principal, await _csrf_token(request)
    ):
        raise HTTPException(403, "CSRF token missing or invalid")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only roles with ``permission`` (403 otherwise)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not allowed(principal.role, permission):
            raise HTTPException(403, "your role may not do this")
        return principal

    return check


ManageUsers = Annotated[Principal, Depends(require(Permission.manage_users))]
ReadRounds = Annotated[Principal, Depends(require(Permission.read_rounds))]
ManageRounds = Annotated[Principal, Depends(require(Permission.manage_rounds))]
ReadThemes = Annotated[Principal, Depends(require(Permission.read_themes))]
RunClustering = Annotated[Principal, Depends(require(Permission.run_clustering))]
EditThemes = Annotated[Principal, Depends(require(Permission.edit_themes))]
ReviewQuotes = Annotated[Principal, Depends(require(Permission.review_quotes))]
DuidingAccess = Annotated[Principal, Depends(require(Permission.duiding))]
ExportAccess = Annotated[Principal, Depends(require(Permission.export))]
ReadQuarantine = Annotated[Principal, Depends(require(Permission.read_quarantine))]
UseTokens = Annotated[Principal, Depends(require(Permission.use_api_tokens))]


async def visible_round_ids(session: AsyncSession, principal: Principal) -> set[uuid.UUID] | None:
    """The rounds a principal may see, or ``None`` for every round of the municipality."""
    if principal.role in OWN_ROUNDS_ONLY:
        return await accounts.owned_round_ids(
            session, municipality_id=principal.municipality_id, user_id=principal.user_id
        )
    return None


async def load_round(session: AsyncSession, principal: Principal, ref: str) -> Round:
    """A round of the principal's municipality they may see (404 for anything else)."""
    round_ = await service.find_round(session, ref, principal.municipality_id)
    visible = await visible_round_ids(session, principal)
    if visible is not None and round_.id not in visible:
        raise NotFound(f"round '{ref}' not found")
    return round_


async def k_min_for(session: AsyncSession, request: Request, municipality_id: uuid.UUID) -> int:
    """The suppression threshold: the larger of the app's and the municipality's setting."""
    town = await session.get(Municipality, municipality_id)
    configured = int((town.settings or {}).get("k_min", 0)) if town is not None else 0
    return max(int(request.app.state.settings.k_min), configured, MIN_ALLOWED_K)
