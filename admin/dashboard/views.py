"""Server-rendered dashboard pages (Jinja2, own CSS/JS, no CDN): login, rounds, users, tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from admin.dashboard import analysis
from admin.dashboard.render import describe, form_list, render
from admin.deps import (
    SESSION_COOKIE,
    CurrentPrincipal,
    ManageRounds,
    ManageUsers,
    ReadQuarantine,
    ReadRounds,
    Session,
    UseTokens,
)
from admin.links import qr_svg
from admin.routes import auth, quarantine, rounds
from surveys import accounts
from surveys.accounts import AuthError, LoginThrottled
from surveys.exceptions import SurveysError
from surveys.models import RoundStatus, StaffRole

router = APIRouter(include_in_schema=False)
router.include_router(analysis.router)
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")


def _local(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=LOCAL_TZ)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/")
async def root() -> RedirectResponse:
    """Send visitors to the rounds overview."""
    return RedirectResponse("/admin/", status_code=307)


@router.get("/admin/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    """The login form."""
    return render(request, "login.html", None, email="")


@router.post("/admin/login")
async def login_post(request: Request, session: Session) -> Response:
    """Log in from the form; on success go to the rounds overview."""
    form = await request.form()
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:1000]
    response = _see_other("/admin/")
    try:
        await auth.log_in(request, response, session, email, password)
    except LoginThrottled as exc:
        page = render(
            request,
            "login.html",
            None,
            429,
            email=email,
            failure="throttled",
            retry_after=exc.retry_after,
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except AuthError:
        return render(
            request,
            "login.html",
            None,
            401,
            email=email,
            failure="invalid",
        )
    return response


@router.post("/admin/logout")
async def logout_post(request: Request, session: Session, who: CurrentPrincipal) -> Response:
    """End the session and go back to the login form."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        await accounts.end_session(session, raw)
    response = _see_other("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/", response_class=HTMLResponse)
async def rounds_page(request: Request, session: Session, who: CurrentPrincipal) -> Response:
    """Rounds with live answer counts and their chat links."""
    if who.role == StaffRole.safeguarding:
        return _see_other("/admin/quarantine")
    return await _rounds_page(request, session, who)


async def _rounds_page(
    request: Request,
    session: Session,
    who: CurrentPrincipal,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "rounds.html",
        who,
        status_code,
        rounds=await rounds.read_rounds(session, who, request),
        templates=await rounds.list_templates(who),
        refresh=request.app.state.refresh_seconds,
        error=error,
    )


@router.post("/admin/rounds")
async def create_round_post(request: Request, session: Session, who: ManageRounds) -> Response:
    """Create a round from the form."""
    form = await request.form()
    try:
        data = rounds.RoundCreate.model_validate(
            {
                "template": form.get("template"),
                "title": form.get("title"),
                "audience": form.getlist("audience"),
                "scope": {
                    "wijk": form_list(str(form.get("wijk", ""))),
                    "school": form_list(str(form.get("school", ""))),
                    "age_bands": form_list(str(form.get("age_bands", ""))),
                    "under16": form.get("under16") or "anonymous",
                },
                "opens_at": _local(str(form.get("opens_at") or "")),
                "closes_at": _local(str(form.get("closes_at") or "")),
            }
        )
        round_ = await rounds.create_round(session, who, data)
    except (ValidationError, SurveysError, ValueError) as exc:
        await session.rollback()
        return await _rounds_page(request, session, who, 422, describe(exc))
    return _see_other(f"/admin/rounds/{round_.id}")


@router.get("/admin/rounds/{ref}", response_class=HTMLResponse)
async def round_page(request: Request, ref: str, session: Session, who: ReadRounds) -> Response:
    """One round: live counts, links, QR code, activities."""
    detail = await rounds.read_round(session, who, request, ref)
    return render(
        request,
        "round.html",
        who,
        r=detail,
        qr=qr_svg(detail.links.chat, title=f"QR-code naar {detail.links.chat}"),
    )


@router.post("/admin/rounds/{ref}/{action}")
async def round_action(
    request: Request, ref: str, action: str, session: Session, who: ManageRounds
) -> Response:
    """Open or close a round, or add an activity, from the round page."""
    if action in ("open", "close"):
        status = RoundStatus.open if action == "open" else RoundStatus.closed
        await rounds.change_status(session, who, ref, status)
    elif action == "activities":
        form = await request.form()
        data = rounds.ActivityCreate(
            name=str(form.get("name", "")), description=str(form.get("description", ""))
        )
        await rounds.add_activity(session, who, ref, data)
    else:
        raise HTTPException(404)
    return _see_other(f"/admin/rounds/{ref}")


@router.get("/admin/rounds/{ref}/poster", response_class=HTMLResponse)
async def poster_page(
    request: Request, ref: str, session: Session, who: ReadRounds, activity: str | None = None
) -> HTMLResponse:
    """A printable poster with the QR code."""
    detail = await rounds.read_round(session, who, request, ref)
    title, links = detail.title, detail.links
    if activity is not None:
        match = [a for a in detail.activities if a.id == activity]
        if not match:
            raise HTTPException(404)
        title, links = f"{detail.title}: {match[0].name}", match[0].links
    return render(
        request,
        "poster.html",
        who,
        title=title,
        links=links,
        qr=qr_svg(links.chat, title=f"QR-code naar {links.chat}", scale=8),
    )


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(
    request: Request, session: Session, who: ManageUsers, error: str | None = None
) -> HTMLResponse:
    """Users of the municipality."""
    users = await accounts.list_users(session, who.municipality_id)
    return render(
        request,
        "users.html",
        who,
        users=[auth.user_read(u) for u in users],
        roles=[r.value for r in StaffRole],
    )


@router.post("/admin/users")
async def create_user_post(request: Request, session: Session, who: ManageUsers) -> Response:
    """Create a user from the form."""
    form = await request.form()
    try:
        data = auth.UserCreate.model_validate(
            {k: form.get(k) for k in ("email", "name", "role", "password")}
        )
        await auth.create_user(data, session, who)
    except (ValidationError, SurveysError) as exc:
        await session.rollback()
        users = await accounts.list_users(session, who.municipality_id)
        return render(
            request,
            "users.html",
            who,
            422,
            users=[auth.user_read(u) for u in users],
            roles=[r.value for r in StaffRole],
            error=describe(exc),
        )
    return _see_other("/admin/users")


@router.post("/admin/users/{user_id}")
async def update_user_post(
    request: Request, user_id: uuid.UUID, session: Session, who: ManageUsers
) -> Response:
    """Change a user's role or active flag from the form."""
    form = await request.form()
    data = auth.UserUpdate(role=StaffRole(str(form.get("role"))), active=form.get("active") == "1")
    await auth.update_user(user_id, data, session, who)
    return _see_other("/admin/users")


@router.get("/admin/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, session: Session, who: UseTokens) -> HTMLResponse:
    """Your API tokens."""
    return render(request, "tokens.html", who, tokens=await auth.list_tokens(session, who))


@router.post("/admin/tokens")
async def create_token_post(request: Request, session: Session, who: UseTokens) -> HTMLResponse:
    """Create a token and show it once."""
    form = await request.form()
    created = await auth.create_token(
        auth.TokenCreate(name=str(form.get("name", "token"))[:100] or "token"), session, who
    )
    return render(
        request,
        "tokens.html",
        who,
        tokens=await auth.list_tokens(session, who),
        new_token=created.token,
    )


@router.post("/admin/tokens/{token_id}/delete")
async def delete_token_post(token_id: uuid.UUID, session: Session, who: UseTokens) -> Response:
    """Revoke a token."""
    await accounts.delete_api_token(session, who.user_id, token_id)
    return _see_other("/admin/tokens")


@router.get("/admin/quarantine", response_class=HTMLResponse)
async def quarantine_page(request: Request, who: ReadQuarantine) -> HTMLResponse:
    """Ask for a reason before showing the quarantine."""
    return render(request, "quarantine.html", who, items=None)


@router.post("/admin/quarantine", response_class=HTMLResponse)
async def quarantine_post(request: Request, session: Session, who: ReadQuarantine) -> HTMLResponse:
    """Show the quarantine after a reason was given (audited)."""
    form = await request.form()
    try:
        data = quarantine.QuarantineRead(reason=str(form.get("reason", "")))
    except ValidationError as exc:
        return render(request, "quarantine.html", who, 422, items=None, error=describe(exc))
    items = await quarantine.read_items(request, session, who, data.reason)
    return render(request, "quarantine.html", who, items=items)
