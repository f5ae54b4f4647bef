"""The webhook route: check the secret in constant time, parse, hand the update to aiogram.

Status codes (Telegram re-delivers on anything but 2xx):

* 401 without the secret header, 403 with a wrong one: nothing parsed, nothing stored.
* 413 for a body over ``max_body_bytes``.
* 200 for updates that cannot be parsed (logged without content; a retry would not help),
  for duplicates and for everything handled.
* 500 when the database fails before the commit, so Telegram delivers the update again
  (the engine's event de-duplication makes that safe).
"""

from __future__ import annotations

import hmac
import logging

from aiogram.types import Update
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from bot.channels.telegram.app import TelegramApp

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram"


def secret_matches(supplied: str, expected: str) -> bool:
    """Compare the webhook secret in constant time (bytes, so any header value is safe)."""
    return hmac.compare_digest(
        supplied.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def build_webhook_router(app: TelegramApp, *, max_body_bytes: int = 1_048_576) -> APIRouter:
    """Return the ``POST /webhooks/telegram`` route bound to ``app``."""
    router = APIRouter(tags=["telegram"])

    async def telegram_webhook(request: Request) -> Response:
        """Receive one update from Telegram."""
        supplied = request.headers.get(SECRET_HEADER)
        if supplied is None:
            return Response(status_code=401)
        if app.webhook_secret is None or not secret_matches(supplied, app.webhook_secret):
            return Response(status_code=403)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body_bytes:
            return Response(status_code=413)
        body = await request.body()
        if len(body) > max_body_bytes:
            return Response(status_code=413)
        try:
            update = Update.model_validate_json(body, context={"bot": app.bot})
        except (ValidationError, ValueError):
            log.warning("telegram webhook: unparseable update ignored (%d bytes)", len(body))
            return Response(status_code=200)
        await app.feed(update)
        return Response(status_code=200)

    # A plain Starlette route: the endpoint reads the raw body itself, so FastAPI's request
    # validation and dependency layer would only add work to the busiest route.
    router.add_route(WEBHOOK_PATH, telegram_webhook, methods=["POST"], include_in_schema=False)
    return router
