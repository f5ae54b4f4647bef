"""Browser web chat: an HTML page plus a small JSON API over the same engine and database.

The participant gets an anonymous random session id in a cookie. Every POST carries a
client-made message id (the dedupe key, so a retried POST is handled once) and ``ack``, the
highest outbox id the page has shown; the server marks those delivered and returns every
later queued message. A reply that was committed but never reached the page is therefore
returned again on the next request, and the page shows each outbox id once.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.engine import EngineConfig, handle
from bot.engine.messages import Inbound, Outbound
from surveys import service

log = logging.getLogger(__name__)
CHANNEL = "web"
COOKIE = "jeugdstem_chat"
_SESSION_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STATIC = {"chat.js": "text/javascript", "chat.css": "text/css"}


class ChatPost(BaseModel):
    """One message from the page."""

    id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    text: Annotated[str | None, Field(max_length=8000)] = None
    choice: Annotated[str | None, Field(max_length=200)] = None
    ack: Annotated[int, Field(ge=0)] = 0


class ChatMessage(BaseModel):
    """One bot message for the page."""

    id: int
    text: str
    choices: list[dict[str, str]]
    multiple: bool
    style: str
    free_text: bool


class ChatReply(BaseModel):
    """The page's view after a request: every undelivered message after its ``ack``."""

    messages: list[ChatMessage]


@dataclass(frozen=True)
class WebChat:
    """Dependencies of the web chat routes."""

    sessionmaker: async_sessionmaker[AsyncSession]
    config: EngineConfig
    cookie_secure: bool = False
    max_body_bytes: int = 16_384


def _static(name: str) -> str:
    return (resources.files("bot.channels") / "webchat_static" / name).read_text("utf-8")


def _message(row_id: int, payload: dict[str, Any]) -> ChatMessage:
    out = Outbound.from_payload(payload)
    return ChatMessage(
        id=row_id,
        text=out.text,
        choices=[{"value": c.value, "label": c.label} for c in out.choices],
        multiple=out.multiple,
        style=out.style,
        free_text=out.free_text,
    )


def build_router(chat: WebChat) -> APIRouter:
    """Return the web chat routes (page, static files, JSON API) bound to ``chat``."""
    router = APIRouter(prefix="/chat", tags=["webchat"])

    async def _pending(session_id: str, after: int) -> ChatReply:
        async with chat.sessionmaker() as session:
            rows = await service.pending_messages(
                session, channel=CHANNEL, address=session_id, after=after
            )
        return ChatReply(messages=[_message(r.id, r.payload) for r in rows])

    def _require_session(value: str | None) -> str:
        if value is None or not _SESSION_SHAPE.match(value):
            raise HTTPException(
                status_code=400,
                detail="Je chat is verlopen. Laad de pagina opnieuw. / Reload the page.",
            )
        return value

    @router.get("", response_class=HTMLResponse, include_in_schema=False)
    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    @router.get("/{code}", response_class=HTMLResponse, include_in_schema=False)
    async def page(
        response: Response,
        code: str | None = None,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> HTMLResponse:
        """The chat page; a start code in the path starts that round."""
        if code is not None and not _CODE_SHAPE.match(code):
            code = None
        body = _static("chat.html").replace("{{code}}", html.escape(code or "", quote=True))
        page_response = HTMLResponse(body)
        if session_id is None or not _SESSION_SHAPE.match(session_id):
            page_response.set_cookie(
                COOKIE,
                secrets.token_urlsafe(32),
                max_age=60 * 60 * 24 * 30,
                httponly=True,
                samesite="strict",
                secure=chat.cookie_secure,
                path="/chat",
            )
        page_response.headers["Cache-Control"] = "no-store"
        return page_response

    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        """The page's own CSS and JavaScript (no CDN)."""
        if name not in _STATIC:
            raise HTTPException(status_code=404)
        return Response(_static(name), media_type=_STATIC[name])

    @router.get("/api/messages", response_model=ChatReply)
    async def poll(
        after: Annotated[int, Query(ge=0)] = 0,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> ChatReply:
        """Messages queued for this chat after ``after`` (used on reload and for retries)."""
        return await _pending(_require_session(session_id), after)

    @router.post("/api/messages", response_model=ChatReply)
    async def post(
        request: Request,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> ChatReply:
        """Handle one participant message, commit, then return the queued replies."""
        sid = _require_session(session_id)
        body = await request.body()
        if len(body) > chat.max_body_bytes:
            raise HTTPException(status_code=413, detail="Je bericht is te lang.")
        try:
            data = ChatPost.model_validate_json(body)
        except ValidationError as exc:
            raise HTTPException(
                status_code=422, detail="Dat bericht kon ik niet lezen. Probeer het opnieuw."
            ) from exc
        inbound = Inbound(
            channel=CHANNEL,
            address=sid,
            event_id=f"{sid}:{data.id}",
            text=data.text,
            choice=data.choice,
        )
        async with chat.sessionmaker() as session, session.begin():
            if data.ack:
                await service.mark_delivered(session, channel=CHANNEL, address=sid, up_to=data.ack)
            await handle(session, inbound, config=chat.config)
        # Committed: only now deliver (here: return everything still queued for this page).
        return await _pending(sid, data.ack)

    return router
