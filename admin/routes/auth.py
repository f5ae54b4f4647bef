"""Login, logout, the current user, users (admin) and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from admin.deps import SESSION_COOKIE, CurrentPrincipal, ManageUsers, Session, UseTokens
from admin.security import client_address
from surveys import accounts
from surveys.accounts import AuthError, Principal
from surveys.models import StaffRole, User

router = APIRouter(prefix="/admin/api", tags=["auth"])


class LoginRequest(BaseModel):
    """E-mail and password."""

    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=1000)]


class Me(BaseModel):
    """The logged-in user; ``csrf_token`` goes into ``X-CSRF-Token`` on state changes."""

    id: str
    email: str
    role: StaffRole
    municipality_id: str
    csrf_token: str | None


class UserRead(BaseModel):
    """A staff account (never its password hash)."""

    id: str
    email: str
    name: str
    role: StaffRole
    active: bool
    last_login_at: datetime | None


class UserCreate(BaseModel):
    """A new staff account in the admin's municipality."""

    email: Annotated[str, Field(max_length=254)]
    name: Annotated[str, Field(max_length=200)] = ""
    role: StaffRole
    password: Annotated[str, Field(min_length=12, max_length=1000)]


class UserUpdate(BaseModel):
    """Role, active flag or a new password; any change ends the user's sessions."""

    role: StaffRole | None = None
    active: bool | None = None
    password: Annotated[str | None, Field(min_length=12, max_length=1000)] = None


class TokenCreate(BaseModel):
    """A new API token."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    days: Annotated[int, Field(ge=1, le=365)] = 90


class TokenRead(BaseModel):
    """An API token (the secret itself is shown only once, at creation)."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    token: str | None = None


def user_read(user: User) -> UserRead:
    """The public view of a user."""
    return UserRead(
        id=str(user.id),
        email=user.email,
        name=user.name,
        role=StaffRole(user.role),
        active=user.active,
        last_login_at=user.last_login_at,
    )


def me(principal: Principal) -> Me:
    """The public view of the acting user."""
    return Me(
        id=str(principal.user_id),
        email=principal.email,
        role=principal.role,
        municipality_id=str(principal.municipality_id),
        csrf_token=principal.csrf_token,
    )


async def log_in(
    request: Request, response: Response, session: AsyncSession, email: str, password: str
) -> Principal:
    """Check the password (with back-off), start a session and set the cookie."""
    settings = request.app.state.settings
    try:
        user = await accounts.authenticate(
            session,
            email=email,
            password=password,
            address=client_address(request, settings.trusted_proxies),
        )
    except AuthError:
        await session.commit()  # keep the recorded failure for the back-off
        raise
    raw, row = await accounts.create_session(
        session, user, lifetime=timedelta(hours=settings.session_hours)
    )
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )
    return Principal(
        user.id,
        user.municipality_id,
        StaffRole(user.role),
        user.email,
        csrf_token=row.csrf_token,
        session_id=row.id,
    )


@router.post("/login", response_model=Me)
async def login(data: LoginRequest, request: Request, response: Response, session: Session) -> Me:
    """Log in with e-mail and password; sets an HttpOnly session cookie."""
    return me(await log_in(request, response, session, data.email, data.password))


@router.post("/logout", status_code=204)
async def logout(
    request: Request, response: Response, session: Session, who: CurrentPrincipal
) -> None:
    """End the current session."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        await accounts.end_session(session, raw)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
async def get_me(who: CurrentPrincipal) -> Me:
    """The logged-in user and the CSRF token for state changes."""
    return me(who)


@router.get("/users", response_model=list[UserRead])
async def list_users(session: Session, who: ManageUsers) -> list[UserRead]:
    """Users of the admin's municipality."""
    return [user_read(u) for u in await accounts.list_users(session, who.municipality_id)]


@router.post("/users", response_model=UserRead, status_code=201)
async def create_user(data: UserCreate, session: Session, who: ManageUsers) -> UserRead:
    """Create a user in the admin's municipality."""
    user = await accounts.create_user(
        session,
        municipality_id=who.municipality_id,
        email=data.email,
        password=data.password,
        role=data.role,
        name=data.name,
        actor=who.actor,
    )
    return user_read(user)


@router.patch("/users/{user_id}", response_model=UserRead)
async def update_user(
    user_id: uuid.UUID, data: UserUpdate, session: Session, who: ManageUsers
) -> UserRead:
    """Change a user's role, active flag or password (ends their sessions at once)."""
    if user_id == who.user_id and (data.active is False or data.role not in (None, who.role)):
        raise HTTPException(409, "you cannot deactivate yourself or change your own role")
    user = await accounts.get_user(session, user_id, who.municipality_id)
    await accounts.update_user(
        session, user, actor=who.actor, role=data.role, active=data.active, password=data.password
    )
    return user_read(user)


@router.get("/tokens", response_model=list[TokenRead])
async def list_tokens(session: Session, who: UseTokens) -> list[TokenRead]:
    """Your API tokens."""
    return [
        TokenRead(
            id=str(t.id),
            name=t.name,
            prefix=t.prefix,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
        )
        for t in await accounts.list_api_tokens(session, who.user_id)
    ]


@router.post("/tokens", response_model=TokenRead, status_code=201)
async def create_token(data: TokenCreate, session: Session, who: UseTokens) -> TokenRead:
    """Create an API token for scripts; the secret is returned only now."""
    user = await accounts.get_user(session, who.user_id, who.municipality_id)
    raw, t = await accounts.create_api_token(
        session, user, name=data.name, lifetime=timedelta(days=data.days)
    )
    return TokenRead(
        id=str(t.id),
        name=t.name,
        prefix=t.prefix,
        created_at=t.created_at,
        expires_at=t.expires_at,
        last_used_at=None,
        token=raw,
    )


@router.delete("/tokens/{token_id}", status_code=204)
async def delete_token(token_id: uuid.UUID, session: Session, who: UseTokens) -> None:
    """Revoke one of your API tokens."""
    await accounts.delete_api_token(session, who.user_id, token_id)
