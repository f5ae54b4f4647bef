"""The minimal admin page and API: rounds with live counts; security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from admin.app import create_app
from admin.settings import AdminSettings
from bot.engine.engine import EngineConfig, handle
from bot.engine.flow import CONSENT_YES
from bot.engine.messages import Inbound
from tests.factories import create_round


@pytest.fixture
async def client(engine, sessionmaker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(engine=engine, sessionmaker=sessionmaker, settings=AdminSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


class TestRounds:
    async def test_counts_rise_when_someone_answers(self, client, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        before = (await client.get("/admin/api/rounds")).json()
        assert before[0]["started"] == 0 and before[0]["status"] == "open"
        cfg = EngineConfig(pepper="test-pepper-0123456789abcdef")
        for i, kw in enumerate(
            [{"text": f"/start {r.start_code}"}, {"choice": CONSENT_YES}, {"text": "1"}]
        ):
            async with sessionmaker() as s, s.begin():
                await handle(s, Inbound("web", "u", f"e{i}", **kw), config=cfg)
        after = (await client.get("/admin/api/rounds")).json()
        assert after[0]["started"] == 1 and after[0]["answers"] == 1 and after[0]["completed"] == 0
        page = await client.get("/admin/")
        assert page.status_code == 200
        assert f'data-testid="started-{r.start_code}">1<' in page.text
        assert f"/chat/{r.start_code}" in page.text

    async def test_security_headers(self, client) -> None:
        res = await client.get("/admin/")
        csp = res.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "default-src 'self'" in csp
        assert res.headers["x-content-type-options"] == "nosniff"

    async def test_titles_are_escaped(self, client, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            await create_round(s, title="<script>alert(1)</script>")
        page = await client.get("/admin/")
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
