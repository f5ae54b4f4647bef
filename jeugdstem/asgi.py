"""One ASGI app: the admin dashboard and API plus the channel endpoints (web chat)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import FastAPI

from admin.app import create_app as create_admin_app
from admin.settings import get_settings as admin_settings
from bot.channels.webchat import WebChat, build_router
from bot.engine.engine import EngineConfig
from bot.settings import get_settings as bot_settings
from surveys import db
from surveys.privacy.pii import scrub
from surveys.settings import get_settings as surveys_settings


def scrub_text(text: str, schools: Sequence[str]) -> str:
    """Scrub personal data (and the round's school names) from free text before storage."""
    return scrub(text, schools=schools).text


def engine_config() -> EngineConfig:
    """The engine shell's configuration from settings."""
    return EngineConfig(
        pepper=bot_settings().pepper.get_secret_value(),
        quarantine_key=surveys_settings().quarantine_key.get_secret_value(),
        scrub=scrub_text,
    )


def create_app() -> FastAPI:
    """Build the whole application (called by uvicorn as a factory, never at import)."""
    # httpx logs full request URLs (with bot tokens) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    engine = db.create_engine(surveys_settings().database_url)
    sessionmaker = db.create_sessionmaker(engine)
    bots = bot_settings()
    webchat = WebChat(
        sessionmaker=sessionmaker,
        config=engine_config(),
        cookie_secure=bots.webchat_cookie_secure,
        max_body_bytes=bots.webchat_max_body_bytes,
    )
    return create_admin_app(
        engine=engine,
        sessionmaker=sessionmaker,
        settings=admin_settings(),
        routers=[build_router(webchat)],
    )
