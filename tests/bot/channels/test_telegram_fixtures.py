"""Telegram fixtures: the fake Bot API, the real aiogram Bot on it, the webhook over ASGI.

Imported by the Telegram test modules (not a conftest, so other channels' tests are unaffected).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.channels.sender import SenderConfig
from bot.channels.telegram import SECRET_HEADER, TelegramApp, build_webhook_router, create_bot
from bot.engine.engine import EngineConfig
from tests.bot.channels.fake_telegram import Call, FakeTelegram, serve

TOKEN = "42:TEST"
SECRET = "webhook-secret_for-tests-0123456789"
PEPPER = "test-pepper-0123456789abcdef"
CFG = EngineConfig(pepper=PEPPER)
PAYLOADS = Path(__file__).resolve().parents[4] / "shared" / "reference" / "payloads"
FAST = SenderConfig(
    rate_per_second=0,
    per_address_interval=0,
    backoff_base=0.01,
    flush_interval=0,
    poll_interval=0.05,
)
_update_ids = itertools.count(500_000)


def next_update_id() -> int:
    return next(_update_ids)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTelegram, str]]:
    state = FakeTelegram()
    runner, port = await serve(state)
    yield state, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def tg(fake, sessionmaker) -> AsyncIterator[TelegramApp]:
    app = TelegramApp(
        bot=create_bot(TOKEN, api_base=fake[1]),
        sessionmaker=sessionmaker,
        config=CFG,
        webhook_secret=SECRET,
        sender_config=FAST,
    )
    yield app
    await app.close()


@pytest.fixture
async def client(tg: TelegramApp) -> AsyncIterator[httpx.AsyncClient]:
    api = FastAPI()
    api.include_router(build_webhook_router(tg))
    transport = httpx.ASGITransport(app=api, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class Participant:
    """A Telegram user in a private chat, talking to the webhook and reading the fake."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        fake: FakeTelegram,
        tg: TelegramApp,
        chat_id: int = 111111111,
    ) -> None:
        self.client = client
        self.fake = fake
        self.tg = tg
        self.chat_id = chat_id
        self._message_id = 10

    def user(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": "Sanne",
            "last_name": "de Vries",
            "username": "sanne_dv",
            "language_code": "nl",
        }

    def chat(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "first_name": "Sanne",
            "last_name": "de Vries",
            "username": "sanne_dv",
            "type": "private",
        }

    def message_update(self, text: str | None = None, **content: Any) -> dict[str, Any]:
        self._message_id += 1
        message = {
            "message_id": self._message_id,
            "from": self.user(),
            "chat": self.chat(),
            "date": 1709659308,
            **content,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [
                    {"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}
                ]
        return {"update_id": next_update_id(), "message": message}

    def callback_update(
        self, sent: Call, data: str, markup: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = sent.result
        message = {
            "message_id": result["message_id"],
            "from": result["from"],
            "chat": self.chat(),
            "date": result["date"],
            "text": result["text"],
        }
        markup = markup if markup is not None else sent.params.get("reply_markup")
        if markup:
            message["reply_markup"] = markup
        return {
            "update_id": next_update_id(),
            "callback_query": {
                "id": f"cb{next_update_id()}",
                "from": self.user(),
                "chat_instance": "-362401720342961",
                "data": data,
                "message": message,
            },
        }

    async def post(
        self, update: dict[str, Any] | bytes, *, secret: str | bytes | None = SECRET
    ) -> httpx.Response:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers: dict[str, Any] = {"content-type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        return await self.client.post("/webhooks/telegram", content=body, headers=headers)

    async def send(self, text: str | None = None, **content: Any) -> httpx.Response:
        res = await self.post(self.message_update(text, **content))
        await self.tg.sender.drain()
        return res

    async def press(self, data: str, sent: Call | None = None) -> httpx.Response:
        sent = sent or self.last
        res = await self.post(self.callback_update(sent, data))
        await self.tg.sender.drain()
        return res

    @property
    def sent(self) -> list[Call]:
        return [
            c
            for c in self.fake.of("sendMessage")
            if c.status == 200 and int(c.params["chat_id"]) == self.chat_id
        ]

    @property
    def last(self) -> Call:
        return self.sent[-1]

    def buttons(self, call: Call | None = None) -> list[dict[str, str]]:
        markup = (call or self.last).params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@pytest.fixture
def participant(client, fake, tg) -> Participant:
    return Participant(client, fake[0], tg)
