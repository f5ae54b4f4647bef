"""One ASGI app: the admin dashboard and API plus the channel endpoints (web chat, Telegram)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from admin.app import create_app as create_admin_app
from admin.settings import get_settings as admin_settings
from bot.app import build_telegram, engine_config
from bot.channels.telegram import TelegramApp, build_webhook_router, quiet_loggers
from bot.channels.webchat import WebChat, build_router
from bot.runtime import tune_gc
from bot.settings import get_settings as bot_settings
from surveys import db
from surveys.settings import get_settings as surveys_settings


def create_app() -> FastAPI:
    """Build the whole application (called by uvicorn as a factory, never at import)."""
    # httpx logs full request URLs (with bot tokens) at INFO; aiogram logs every update.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bots, surveys = bot_settings(), surveys_settings()
    engine = db.create_engine(surveys.database_url)
    sessionmaker = db.create_sessionmaker(engine)
    webchat = WebChat(
        sessionmaker=sessionmaker,
        config=engine_config(bots, surveys),
        cookie_secure=bots.webchat_cookie_secure,
        max_body_bytes=bots.webchat_max_body_bytes,
    )
    routers: list[APIRouter] = [build_router(webchat)]
    telegram: TelegramApp | None = None
    if bots.telegram_token is not None:
        quiet_loggers()
        telegram = build_telegram(bots, surveys, sessionmaker, with_webhook=True)
        routers.append(build_webhook_router(telegram))
    app = create_admin_app(
        engine=engine,
        sessionmaker=sessionmaker,
        settings=admin_settings(),
        routers=routers,
        quarantine_key=surveys.quarantine_key.get_secret_value(),
    )
    if telegram is not None and bots.telegram_sender_in_web:
        _run_sender_with(app, telegram)
    _tune_gc_after_startup(app)
    return app


def _tune_gc_after_startup(app: FastAPI) -> None:
    """Freeze what start-up allocated and collect less often (see :mod:`bot.runtime`)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            tune_gc()
            yield

    app.router.lifespan_context = lifespan


def _run_sender_with(app: FastAPI, telegram: TelegramApp) -> None:
    """Run the Telegram outbox sender for the app's lifetime (another process may run one too)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            telegram.start_sender()
            try:
                yield
            finally:
                await telegram.close()

    app.router.lifespan_context = lifespan
