"""The web chat end to end over HTTP (httpx.ASGITransport), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.channels import webchat
from bot.channels.webchat import COOKIE, WebChat, build_router
from bot.engine.engine import EngineConfig
from surveys import service
from surveys.models import Answer, Conversation
from tests.factories import create_round

CFG = EngineConfig(pepper="test-pepper-0123456789abcdef")


class Browser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.ack = 0
        self.shown: list[dict] = []

    async def open(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def post(
        self, *, text: str | None = None, choice: str | None = None, msg_id: str | None = None
    ) -> httpx.Response:
        body: dict = {"id": msg_id or uuid.uuid4().hex, "ack": self.ack}
        if text is not None:
            body["text"] = text
        if choice is not None:
            body["choice"] = choice
        res = await self.client.post("/chat/api/messages", json=body)
        if res.status_code == 200:
            for m in res.json()["messages"]:
                if m["id"] > self.ack:
                    self.shown.append(m)
                    self.ack = m["id"]
        return res

    @property
    def last(self) -> dict:
        return self.shown[-1]


@pytest.fixture
async def browser(sessionmaker) -> AsyncIterator[Browser]:
    app = FastAPI()
    app.include_router(build_router(WebChat(sessionmaker=sessionmaker, config=CFG)))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Browser(client)


async def answers(sessionmaker) -> int:
    async with sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Answer)) or 0)


class TestWebChat:
    async def test_page_sets_anonymous_cookie_and_escapes_code(self, browser: Browser) -> None:
        res = await browser.open('/chat/"><script>')
        assert res.status_code == 200
        assert '<script>"' not in res.text and 'data-code=""' in res.text
        cookie = res.cookies.get(COOKIE)
        assert cookie and len(cookie) >= 32
        assert "httponly" in res.headers["set-cookie"].lower()

    async def test_static_assets_are_local(self, browser: Browser) -> None:
        res = await browser.open("/chat/static/chat.js")
        assert res.status_code == 200 and "fetch(" in res.text
        page = (await browser.open("/chat/demo")).text
        assert "http://" not in page and "https://" not in page  # no CDN
        assert (await browser.open("/chat/static/webchat.py")).status_code == 404

    async def test_complete_bouwsteen1_survey(self, browser: Browser, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await browser.open(f"/chat/{r.start_code}")
        await browser.post(text=f"/start {r.start_code}")
        assert browser.last["choices"][0]["value"] == "cmd:consent-yes"
        await browser.post(choice="cmd:consent-yes")
        for kw in [
            {"choice": "12-15"},
            {"choice": "oost"},
            {"choice": "5"},
            {"text": "Weinig te doen in de avond"},
            {"text": "Een plek om te chillen"},
            {"text": "4"},
            {"choice": "sport,muziek"},
            {"choice": "ja"},
        ]:
            res = await browser.post(**kw)
            assert res.status_code == 200
        assert "Bedankt" in browser.last["text"]
        assert await answers(sessionmaker) == 8
        async with sessionmaker() as s:
            counts = await service.list_rounds(s)
        assert counts[0].completed == 1

    async def test_retried_post_is_handled_once(self, browser: Browser, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await browser.open("/chat")
        await browser.post(text=f"/start {r.start_code}")
        await browser.post(choice="cmd:consent-yes")
        shown = len(browser.shown)
        first = await browser.post(choice="12-15", msg_id="retry-me-1")
        second = await browser.post(choice="12-15", msg_id="retry-me-1")
        assert first.status_code == second.status_code == 200
        assert len(browser.shown) == shown + 1  # one reply shown
        assert second.json()["messages"] == []
        assert await answers(sessionmaker) == 1

    async def test_failure_between_commit_and_delivery_loses_nothing(
        self, browser: Browser, sessionmaker, monkeypatch
    ) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await browser.open("/chat")
        await browser.post(text=f"/start {r.start_code}")
        await browser.post(choice="cmd:consent-yes")
        shown = len(browser.shown)
        real = service.pending_messages
        calls = {"n": 0}

        async def crash_once(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                raise ConnectionResetError("delivery failed after commit")
            return await real(*args, **kwargs)

        monkeypatch.setattr(webchat.service, "pending_messages", crash_once)
        failed = await browser.post(choice="16-17", msg_id="crash-then-retry")
        assert failed.status_code == 500
        assert await answers(sessionmaker) == 1  # the answer was committed
        retried = await browser.post(choice="16-17", msg_id="crash-then-retry")
        assert retried.status_code == 200
        assert [m["text"].split("\n")[0] for m in retried.json()["messages"]] == [
            "In welke wijk woon je?"
        ]
        assert len(browser.shown) == shown + 1
        assert await answers(sessionmaker) == 1
        again = await browser.post(choice="16-17", msg_id="crash-then-retry")
        assert again.json()["messages"] == []  # acknowledged: never shown twice

    async def test_reload_shows_undelivered_messages(self, browser: Browser, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await browser.open("/chat")
        await browser.post(text=f"/start {r.start_code}")
        res = await browser.client.get("/chat/api/messages", params={"after": 0})
        assert [m["id"] for m in res.json()["messages"]] == [browser.last["id"]]

    async def test_without_cookie(self, browser: Browser) -> None:
        res = await browser.client.post("/chat/api/messages", json={"id": "abcdefgh"})
        assert res.status_code == 400 and "pagina opnieuw" in res.json()["detail"]

    async def test_too_large_and_malformed_bodies(self, browser: Browser, sessionmaker) -> None:
        await browser.open("/chat")
        big = await browser.client.post(
            "/chat/api/messages",
            content=b'{"id":"abcdefgh","text":"' + b"x" * 20000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert big.status_code == 413
        bad = await browser.client.post(
            "/chat/api/messages",
            content=b"\x00{not json",
            headers={"content-type": "application/json"},
        )
        assert bad.status_code == 422 and "niet lezen" in bad.json()["detail"]
        async with sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Conversation)) == 0

    async def test_long_answer_refused_politely(self, browser: Browser, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await browser.open("/chat")
        await browser.post(text=f"/start {r.start_code}")
        await browser.post(choice="cmd:consent-yes")
        for kw in [{"choice": "12-15"}, {"choice": "oost"}, {"choice": "5"}]:
            await browser.post(**kw)
        await browser.post(text="a" * 2500)
        assert "korter" in browser.last["text"]
        assert await answers(sessionmaker) == 3
