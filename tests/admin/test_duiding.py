"""Duiding workspace: questions with evidence, ambities, actions, sign-off, packs, exports."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from surveys.models import AuditLog, Municipality, StaffRole
from tests.admin.themedata import seed_themed_round

CSV = (
    "source;indicator;wijk;age_band;value;unit;n;period;method_note\n"
    "GGD;Voelt zich gelukkig;Noord;12-15;81,5;%;240;2023;Gezondheidsmonitor, klas 2 en 4\n"
)


async def _setup(client, sessionmaker, tenant):
    async with sessionmaker() as s, s.begin():
        town = await s.get(Municipality, tenant.id)
        themed = await seed_themed_round(s, town, {"school": 14, "vrije_tijd": 9, "veilig": 2})
    h = tenant.users[StaffRole.beleidsmedewerker].headers
    res = await client.post(
        "/admin/api/duidingen",
        headers=h,
        json={"title": "Najaar 2024", "round_ids": [str(themed.round.id)]},
    )
    assert res.status_code == 201, res.text
    return themed, res.json()["id"], h


class TestDuiding:
    async def test_full_flow_to_signed_pack(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        themed, did, h = await _setup(client, sessionmaker, t)
        assert (
            await client.post("/admin/api/monitor-figures", headers=h, json={"csv": CSV})
        ).status_code == 201
        ws = (await client.get(f"/admin/api/duidingen/{did}", headers=h)).json()
        assert list(ws["questions"]) == ["herkennen", "verklaren", "waarderen", "verbeteren"]
        assert "Herkennen wij het beeld" in ws["questions"]["herkennen"]["sub"]["beeld"]
        assert ws["rounds"][0]["themes"][0]["size"] == 15
        assert ws["monitor"][0]["n"] == 240 and ws["monitor"][0]["method_note"]
        put = await client.put(
            f"/admin/api/duidingen/{did}/content",
            headers=h,
            json={
                "question": "herkennen",
                "notes": {"beeld": "Ja, <b>herkenbaar</b>"},
                "sources": "CJG",
            },
        )
        assert put.status_code == 200
        for text in (
            "Alle jongeren hebben een plek om na school te sporten",
            "Meer jongeren voelen zich veilig op straat",
            "Scholen en jongerenwerk werken samen aan rust in de klas",
        ):
            r = await client.post(
                f"/admin/api/duidingen/{did}/ambities",
                headers=h,
                json={"text": text, "theme_ids": ["school"]},
            )
            assert r.status_code == 201, r.text
        fourth = await client.post(
            f"/admin/api/duidingen/{did}/ambities",
            headers=h,
            json={"text": "Nog een ambitie erbij", "theme_ids": ["school"]},
        )
        assert fourth.status_code == 409
        act = await client.post(
            f"/admin/api/duidingen/{did}/actions",
            headers=h,
            json={
                "description": "Avondopenstelling jongerencentrum",
                "owner": "Team jongerenwerk",
                "due": "2025-03-01",
            },
        )
        assert act.status_code == 201
        signed = await client.post(
            f"/admin/api/duidingen/{did}/sign-off",
            headers=h,
            json={"signed_by": "A. de Vries, wethouder"},
        )
        assert signed.json() == {"status": "signed_off", "version": 1}
        page = await client.get(f"/admin/duidingen/{did}", headers=h)
        assert page.status_code == 200 and 'data-testid="signed"' in page.text
        assert "<b>herkenbaar</b>" not in page.text and "&lt;b&gt;herkenbaar" in page.text
        md = await client.get(f"/admin/api/duidingen/{did}/pack.md", headers=h)
        assert "# Duiding: Najaar 2024" in md.text and "<b>" not in md.text
        pdf = await client.get(f"/admin/api/duidingen/{did}/pack.pdf", headers=h)
        assert pdf.content.startswith(b"%PDF")
        html = await client.get(f"/admin/duidingen/{did}/pack", headers=h)
        assert html.status_code == 200 and "Ambities" in html.text
        # editing after sign-off starts version 2; the signed version stays
        await client.put(
            f"/admin/api/duidingen/{did}/content",
            headers=h,
            json={"question": "waarderen", "notes": {"vinden": "Zorgelijk"}},
        )
        ws = (await client.get(f"/admin/api/duidingen/{did}", headers=h)).json()
        assert ws["version"] == 2 and ws["status"] == "draft" and ws["versions"][0]["version"] == 1

    async def test_ambities_positive_and_linked(self, client, sessionmaker, tenants) -> None:
        _, did, h = await _setup(client, sessionmaker, tenants["noorddorp"])
        neg = await client.post(
            f"/admin/api/duidingen/{did}/ambities",
            headers=h,
            json={"text": "Geen jongeren meer op straat", "theme_ids": ["school"]},
        )
        assert neg.status_code == 409
        unknown = await client.post(
            f"/admin/api/duidingen/{did}/ambities",
            headers=h,
            json={"text": "Meer plekken om te sporten", "theme_ids": ["onbekend"]},
        )
        assert unknown.status_code == 409

    async def test_earlier_actions_shown(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        themed, first, h = await _setup(client, sessionmaker, t)
        act = await client.post(
            f"/admin/api/duidingen/{first}/actions",
            headers=h,
            json={"description": "Buurtsportcoach", "owner": "Sport"},
        )
        await client.patch(
            f"/admin/api/actions/{act.json()['id']}", headers=h, json={"status": "klaar"}
        )
        second = await client.post(
            "/admin/api/duidingen",
            headers=h,
            json={"title": "Voorjaar", "round_ids": [str(themed.round.id)]},
        )
        ws = (await client.get(f"/admin/api/duidingen/{second.json()['id']}", headers=h)).json()
        assert ws["earlier_actions"][0]["status"] == "klaar"


class TestExports:
    async def test_xlsx_and_csv_are_suppressed_and_audited(
        self, client, sessionmaker, tenants
    ) -> None:
        t = tenants["noorddorp"]
        async with sessionmaker() as s, s.begin():
            town = await s.get(Municipality, t.id)
            themed = await seed_themed_round(s, town, {"school": 14, "vrije_tijd": 9, "veilig": 3})
        h = t.users[StaffRole.beleidsmedewerker].headers
        res = await client.get(f"/admin/api/rounds/{themed.round.id}/export.xlsx", headers=h)
        assert res.status_code == 200
        book = load_workbook(io.BytesIO(res.content))
        rows = list(book["themes"].iter_rows(values_only=True))
        sizes = {r[0]: r[2] for r in rows[1:]}
        # veilig is too small; vrije_tijd is hidden too, or total minus the rest would reveal it
        assert sizes == {"school": 15, "vrije_tijd": "<k", "veilig": "<k"}
        csv = await client.get(f"/admin/api/rounds/{themed.round.id}/export.csv", headers=h)
        assert "Antwoord over" not in csv.text  # no answer text in exports
        async with sessionmaker() as s:
            from sqlalchemy import select

            actions = (await s.scalars(select(AuditLog.action))).all()
        assert actions.count("export.themes") == 2
