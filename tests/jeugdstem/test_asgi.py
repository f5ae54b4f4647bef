"""The composition root: web chat always, Telegram webhook and sender when a token is set."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest

from bot.runtime import YOUNG_THRESHOLD
from bot.settings import get_settings as bot_settings
from jeugdstem.asgi import create_app
from surveys import db
from surveys.settings import get_settings as surveys_settings


@pytest.fixture
def env(tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path}/app.db"
    db.upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    bot_settings.cache_clear()
    surveys_settings.cache_clear()
    yield monkeypatch
    bot_settings.cache_clear()
    surveys_settings.cache_clear()


@pytest.fixture
def gc_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def _status(app, method: str, path: str) -> int:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return (await client.request(method, path, json={})).status_code


class TestCreateApp:
    async def test_without_telegram(self, env) -> None:  # type: ignore[no-untyped-def]
        app = create_app()
        assert await _status(app, "GET", "/chat/demo-code") == 200
        assert await _status(app, "POST", "/webhooks/telegram") in (404, 405)

    async def test_with_telegram_runs_sender_in_lifespan(self, env) -> None:  # type: ignore[no-untyped-def]
        env.setenv("BOT_TELEGRAM_TOKEN", "42:TEST")
        env.setenv("BOT_TELEGRAM_WEBHOOK_SECRET", "s" * 40)
        env.setenv("BOT_TELEGRAM_API_BASE", "http://127.0.0.1:9")
        bot_settings.cache_clear()
        app = create_app()
        assert await _status(app, "POST", "/webhooks/telegram") in (401, 403)  # no secret
        async with app.router.lifespan_context(app):
            pass  # starts and stops the sender cleanly

    def test_short_webhook_secret_is_refused(self, env) -> None:  # type: ignore[no-untyped-def]
        env.setenv("BOT_TELEGRAM_TOKEN", "42:TEST")
        env.setenv("BOT_TELEGRAM_WEBHOOK_SECRET", "short")
        bot_settings.cache_clear()
        with pytest.raises(Exception, match="32"):
            create_app()

    async def test_gc_is_tuned_once_started(self, env, gc_restored) -> None:  # type: ignore[no-untyped-def]
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)
        app = create_app()
        assert gc.get_threshold()[0] == 700  # building the app changes nothing yet
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
            assert gc.get_freeze_count() > 10_000  # start-up objects moved out of the way

    async def test_sender_can_be_left_to_the_bot_process(self, env) -> None:  # type: ignore[no-untyped-def]
        from bot.channels.telegram import TelegramApp

        started: list[bool] = []
        env.setattr(TelegramApp, "start_sender", lambda self: started.append(True))
        env.setenv("BOT_TELEGRAM_TOKEN", "42:TEST")
        env.setenv("BOT_TELEGRAM_WEBHOOK_SECRET", "s" * 40)
        env.setenv("BOT_TELEGRAM_API_BASE", "http://127.0.0.1:9")
        for in_web, expected in (("true", [True]), ("false", [])):
            env.setenv("BOT_TELEGRAM_SENDER_IN_WEB", in_web)
            bot_settings.cache_clear()
            started.clear()
            app = create_app()
            async with app.router.lifespan_context(app):
                assert started == expected
            assert await _status(app, "POST", "/webhooks/telegram") in (401, 403)  # route is there
