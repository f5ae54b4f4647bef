"""Rounds page and API: live counts, create/open/close, links, QR; headers and escaping."""

from __future__ import annotations

import pytest

from bot.engine.engine import EngineConfig, handle
from bot.engine.flow import CONSENT_YES
from bot.engine.messages import Inbound
from surveys.models import Municipality, StaffRole
from tests.factories import create_round


class TestRounds:
    async def test_counts_rise_when_someone_answers(self, client, sessionmaker, tenants) -> None:
        staff = tenants["noorddorp"].users[StaffRole.beleidsmedewerker]
        async with sessionmaker() as s, s.begin():
            town = await s.get(Municipality, staff.municipality_id)
            r = await create_round(s, municipality=town)
        before = (await client.get("/admin/api/rounds", headers=staff.headers)).json()
        assert before[0]["started"] == 0 and before[0]["status"] == "open"
        cfg = EngineConfig(pepper="test-pepper-0123456789abcdef")
        for i, kw in enumerate(
            [{"text": f"/start {r.start_code}"}, {"choice": CONSENT_YES}, {"text": "1"}]
        ):
            async with sessionmaker() as s, s.begin():
                await handle(s, Inbound("web", "u", f"e{i}", **kw), config=cfg)
        after = (await client.get("/admin/api/rounds", headers=staff.headers)).json()
        assert after[0]["started"] == 1 and after[0]["answers"] == 1 and after[0]["completed"] == 0
        page = await client.get("/admin/", headers=staff.headers)
        assert page.status_code == 200
        assert f'data-testid="started-{r.start_code}">1<' in page.text
        assert f"/chat/{r.start_code}" in page.text

    async def test_security_headers(self, client, tenants) -> None:
        staff = tenants["noorddorp"].users[StaffRole.admin]
        res = await client.get("/admin/", headers=staff.headers)
        csp = res.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "default-src 'self'" in csp
        assert res.headers["x-content-type-options"] == "nosniff"

    async def test_titles_are_escaped(self, client, sessionmaker, tenants) -> None:
        staff = tenants["noorddorp"].users[StaffRole.admin]
        res = await client.post(
            "/admin/api/rounds",
            headers=staff.headers,
            json={
                "template": "bouwsteen1-jongeren",
                "title": "<script>alert(1)</script>",
                "audience": ["jongeren"],
            },
        )
        assert res.status_code == 201
        page = await client.get("/admin/", headers=staff.headers)
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
        detail = await client.get(f"/admin/rounds/{res.json()['id']}", headers=staff.headers)
        assert "<script>alert(1)</script>" not in detail.text


class TestRoundLifecycle:
    async def test_create_open_share_close(self, client, tenants) -> None:
        worker = tenants["noorddorp"].users[StaffRole.jongerenwerker]
        res = await client.post(
            "/admin/api/rounds",
            headers=worker.headers,
            json={
                "template": "bouwsteen5-exit-ticket",
                "title": "Exit tickets zomer",
                "audience": ["jongeren"],
                "scope": {"wijk": ["Noord"], "age_bands": ["12-15"], "under16": "parent_consent"},
            },
        )
        assert res.status_code == 201, res.text
        body = res.json()
        assert body["status"] == "not_open" and body["scope"]["under16"] == "parent_consent"
        assert body["links"]["chat"].endswith(f"/chat/{body['start_code']}")
        rid = body["id"]
        opened = await client.post(f"/admin/api/rounds/{rid}/open", headers=worker.headers)
        assert opened.json()["status"] == "open"
        act = await client.post(
            f"/admin/api/rounds/{rid}/activities", headers=worker.headers, json={"name": "Voetbal"}
        )
        assert act.status_code == 201
        svg = await client.get(
            f"/admin/api/rounds/{rid}/qr.svg?activity={act.json()['id']}", headers=worker.headers
        )
        assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
        png = await client.get(f"/admin/api/rounds/{rid}/qr.png", headers=worker.headers)
        assert png.content.startswith(b"\x89PNG")
        poster = await client.get(f"/admin/rounds/{rid}/poster", headers=worker.headers)
        assert poster.status_code == 200 and "<svg" in poster.text
        closed = await client.post(f"/admin/api/rounds/{rid}/close", headers=worker.headers)
        assert closed.json()["status"] == "closed"
        again = await client.post(f"/admin/api/rounds/{rid}/open", headers=worker.headers)
        assert again.status_code == 409

    async def test_telegram_link_when_configured(self, engine, sessionmaker, tenants) -> None:
        import httpx

        from admin.app import create_app
        from tests.admin.conftest import make_settings

        app = create_app(
            engine=engine,
            sessionmaker=sessionmaker,
            settings=make_settings(telegram_bot_username="JeugdstemBot"),
        )
        worker = tenants["noorddorp"].users[StaffRole.admin]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            res = await c.post(
                "/admin/api/rounds",
                headers=worker.headers,
                json={"template": "bouwsteen1-ouders", "title": "Ouders", "audience": ["ouders"]},
            )
        code = res.json()["start_code"]
        assert res.json()["links"]["telegram"] == f"https://t.me/JeugdstemBot?start={code}"

    async def test_jongerenwerker_sees_only_own_rounds(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        async with sessionmaker() as s, s.begin():
            from surveys.models import Municipality

            other = await create_round(s, municipality=await s.get(Municipality, t.id))
        worker = t.users[StaffRole.jongerenwerker]
        assert (await client.get("/admin/api/rounds", headers=worker.headers)).json() == []
        res = await client.get(f"/admin/api/rounds/{other.id}", headers=worker.headers)
        assert res.status_code == 404
        policy = t.users[StaffRole.beleidsmedewerker]
        assert len((await client.get("/admin/api/rounds", headers=policy.headers)).json()) == 1

    @pytest.mark.parametrize("audience", [["ouders"], []])
    async def test_audience_must_fit_template(self, client, tenants, audience) -> None:
        admin = tenants["noorddorp"].users[StaffRole.admin]
        res = await client.post(
            "/admin/api/rounds",
            headers=admin.headers,
            json={"template": "bouwsteen1-jongeren", "title": "Fout", "audience": audience},
        )
        assert res.status_code in (409, 422)

    async def test_form_flow_creates_round(self, client, tenants) -> None:
        admin = tenants["noorddorp"].users[StaffRole.admin]
        res = await client.post(
            "/admin/rounds",
            headers={"Cookie": admin.headers["Cookie"]},
            data={
                "csrf_token": admin.csrf,
                "template": "bouwsteen1-jongeren",
                "title": "Via formulier",
                "audience": "jongeren",
                "wijk": "Noord, Zuid",
                "under16": "allowed",
                "opens_at": "2030-01-01T09:00",
            },
        )
        assert res.status_code == 303, res.text
        listing = (await client.get("/admin/api/rounds", headers=admin.headers)).json()
        assert listing[0]["scope"]["wijk"] == ["Noord", "Zuid"]
        assert listing[0]["opens_at"].startswith("2030-01-01T08:00")
