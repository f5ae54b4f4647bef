"""Themes dashboard: suppression in every response (AGG-01..07), breakdowns, quotes, edits."""

from __future__ import annotations

import re

from surveys import service
from surveys.models import Answer, Municipality, StaffRole
from tests.admin.themedata import seed_themed_round

K = 5  # the tests' k_min (the app's minimum)


def _numbers(obj) -> list[int]:
    """Every integer count in a JSON structure (not shares, not ids)."""
    found: list[int] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in (
                "k_min",
                "bouwsteen",
                "id",
                "answer_id",
                "share",
                "previous_share",
                "delta_points",
                "respondent_shares",
            ):
                continue
            found += _numbers(value)
    elif isinstance(obj, list):
        for value in obj:
            found += _numbers(value)
    elif isinstance(obj, int) and not isinstance(obj, bool):
        found.append(obj)
    return found


async def _seed(sessionmaker, tenant, sizes=None, **kw):
    async with sessionmaker() as s, s.begin():
        town = await s.get(Municipality, tenant.id)
        return await seed_themed_round(
            s, town, sizes or {"school": 14, "vrije_tijd": 8, "veilig": 3}, **kw
        )


class TestOverview:
    async def test_small_themes_suppressed_and_counts_rounded(
        self, client, sessionmaker, tenants
    ) -> None:
        t = tenants["noorddorp"]
        themed = await _seed(sessionmaker, t)
        res = await client.get(
            f"/admin/api/rounds/{themed.round.id}/themes",
            headers=t.users[StaffRole.beleidsmedewerker].headers,
        )
        assert res.status_code == 200
        body = res.json()
        sizes = {th["theme_id"]: th["size"] for th in body["themes"]}
        assert sizes["veilig"] is None  # 3 < k_min
        assert sizes["school"] == 15  # 14 rounded to 5
        for n in _numbers(body):  # AGG-01/02: nothing small, everything a multiple of 5
            assert n == 0 or (n >= K and n % 5 == 0), body
        assert re.fullmatch(r"\d{4}-W\d{2}", body["run_week"])  # AGG-07

    async def test_cached_overview_follows_erasure(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        themed = await _seed(sessionmaker, t, sizes={"school": 7, "vrije_tijd": 8, "veilig": 9})
        url = f"/admin/api/rounds/{themed.round.id}/themes"
        headers = t.users[StaffRole.beleidsmedewerker].headers

        async def school_size() -> int | None:
            body = (await client.get(url, headers=headers)).json()
            return next(th["size"] for th in body["themes"] if th["theme_id"] == "school")

        assert await school_size() == 5  # 7 rounded to 5
        assert await school_size() == 5  # served from the cache
        async with sessionmaker() as s, s.begin():  # three participants use /verwijder
            for answer_id in themed.answers["school"][:3]:
                answer = await s.get(Answer, answer_id)
                await service.erase_participant(s, answer.participant_id)
        assert await school_size() is None  # 4 < k_min: the cache did not hide the erasure

    async def test_breakdowns_declared_only(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        themed = await _seed(sessionmaker, t, {"school": 30, "vrije_tijd": 12})
        h = t.users[StaffRole.beleidsmedewerker].headers
        url = f"/admin/api/rounds/{themed.round.id}/themes/breakdown"
        for by in ("wijk", "age_band"):
            res = await client.get(url, params={"by": by}, headers=h)
            assert res.status_code == 200, res.text
            body = res.json()
            for n in _numbers(body):
                assert n == 0 or (n >= K and n % 5 == 0)
            # AGG-03: no line has exactly one hidden cell
            for row in body["rows"]:
                hidden = [v for v in row["cells"].values() if v is None]
                assert len(hidden) != 1 or row["total"] is None
        for by in ("school", "gender", "participant_id", "wijk,age_band"):
            assert (await client.get(url, params={"by": by}, headers=h)).status_code == 422

    async def test_quotes_only_approved_and_from_big_themes(
        self, client, sessionmaker, tenants
    ) -> None:
        t = tenants["noorddorp"]
        themed = await _seed(sessionmaker, t)
        policy = t.users[StaffRole.beleidsmedewerker].headers
        base = f"/admin/api/rounds/{themed.round.id}"
        queue = (await client.get(f"{base}/quotes", headers=policy)).json()
        assert queue and {q["theme_id"] for q in queue} <= {"school", "vrije_tijd"}
        overview = (await client.get(f"{base}/themes", headers=policy)).json()
        assert all(th["quotes"] == [] for th in overview["themes"])  # none approved yet
        small = str(themed.answers["veilig"][0])
        assert (
            await client.post(f"{base}/quotes/{small}", json={"approved": True}, headers=policy)
        ).status_code == 404
        first = queue[0]
        res = await client.post(
            f"{base}/quotes/{first['answer_id']}", json={"approved": True}, headers=policy
        )
        assert res.status_code == 200
        overview = (await client.get(f"{base}/themes", headers=policy)).json()
        quotes = [q for th in overview["themes"] for q in th["quotes"]]
        assert quotes == [first["text"]]
        # other roles never see the queue
        for role in (StaffRole.admin, StaffRole.jongerenwerker, StaffRole.safeguarding):
            assert (
                await client.get(f"{base}/quotes", headers=t.users[role].headers)
            ).status_code == 403

    async def test_rename_merge_split(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        themed = await _seed(sessionmaker, t, {"school": 20, "vrije_tijd": 8, "veilig": 3})
        h = t.users[StaffRole.beleidsmedewerker].headers
        base = f"/admin/api/rounds/{themed.round.id}"
        ok = await client.post(
            f"{base}/themes/edits",
            headers=h,
            json={"operation": "rename", "theme_id": "school", "label": "Druk op school"},
        )
        assert ok.status_code == 201
        ok = await client.post(
            f"{base}/themes/edits",
            headers=h,
            json={"operation": "merge", "into": "vrije_tijd", "theme_ids": ["veilig"]},
        )
        assert ok.status_code == 201
        split = [str(a) for a in themed.answers["school"][:10]]
        ok = await client.post(
            f"{base}/themes/edits",
            headers=h,
            json={
                "operation": "split",
                "theme_id": "school",
                "label": "Toetsen",
                "answer_ids": split,
            },
        )
        assert ok.status_code == 201, ok.text
        body = (await client.get(f"{base}/themes", headers=h)).json()
        labels = {th["label"]: th["size"] for th in body["themes"]}
        assert labels["Druk op school"] == 10 and labels["Toetsen"] == 10
        assert labels["Vrije Tijd"] == 10  # 8 + 3 merged = 11 -> 10
        assert "Veilig" not in labels
        worker = t.users[StaffRole.jongerenwerker].headers
        denied = await client.post(
            f"{base}/themes/edits",
            headers=worker,
            json={"operation": "rename", "theme_id": "school", "label": "x y"},
        )
        assert denied.status_code == 403

    async def test_compare_jongeren_and_ouders(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        young = await _seed(sessionmaker, t, {"school": 12, "vrije_tijd": 6})
        parents = await _seed(
            sessionmaker,
            t,
            {"school": 9, "vrije_tijd": 15},
            title="Ouders",
            template="bouwsteen1-ouders",
            audience=["ouders"],
        )
        h = t.users[StaffRole.beleidsmedewerker].headers
        res = await client.get(
            "/admin/api/themes/compare",
            params=[("rounds", str(young.round.id)), ("rounds", str(parents.round.id))],
            headers=h,
        )
        body = res.json()
        assert [r["role"] for r in body["rounds"]] == ["jongere", "ouder"]
        for n in _numbers(body):
            assert n == 0 or (n >= K and n % 5 == 0)
        # the themes page of either round shows both side by side, jongeren first
        page = await client.get(f"/admin/rounds/{parents.round.id}/themes", headers=h)
        section = page.text.split("Jongeren en ouders naast elkaar", 1)[1].split("</table>")[0]
        assert section.index("Jongeren") < section.index("Ouders")
        assert ">10 (" in section  # school: 12 jongeren shown as 10, with a share

    async def test_trend_against_previous_round(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        await _seed(sessionmaker, t, {"school": 10, "vrije_tijd": 10}, title="Voorjaar")
        later = await _seed(sessionmaker, t, {"school": 20, "vrije_tijd": 10}, title="Najaar")
        h = t.users[StaffRole.beleidsmedewerker].headers
        body = (await client.get(f"/admin/api/rounds/{later.round.id}/themes", headers=h)).json()
        school = next(th for th in body["themes"] if th["theme_id"] == "school")
        assert school["trend"]["direction"] == "up" and school["trend"]["previous_size"] == 10
        history = (
            await client.get(f"/admin/api/rounds/{later.round.id}/themes/history", headers=h)
        ).json()
        assert len(history["rounds"]) == 2

    async def test_page_renders_chart_and_escapes(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        themed = await _seed(sessionmaker, t, {"school": 12})
        h = t.users[StaffRole.beleidsmedewerker].headers
        await client.post(
            f"/admin/api/rounds/{themed.round.id}/themes/edits",
            headers=h,
            json={
                "operation": "rename",
                "theme_id": "school",
                "label": "<img src=x onerror=alert(1)>",
            },
        )
        page = await client.get(f"/admin/rounds/{themed.round.id}/themes", headers=h)
        assert page.status_code == 200
        assert "<svg" in page.text and "<title" in page.text and "<desc" in page.text
        assert "<img src=x" not in page.text and "&lt;img src=x" in page.text


class TestClustering:
    async def test_run_in_background(self, client, sessionmaker, tenants) -> None:
        t = tenants["noorddorp"]
        texts = {
            "school": "Te veel toetsen en huiswerk op school, ik heb stress van school",
            "vrije_tijd": "Er is weinig te doen in de avond voor jongeren in de wijk",
        }
        themed = await _seed(sessionmaker, t, {"school": 8, "vrije_tijd": 8}, texts=texts)
        h = t.users[StaffRole.jongerenwerker].headers
        # the jongerenwerker does not own this round
        denied = await client.post(
            f"/admin/api/rounds/{themed.round.id}/themes/run", headers=h, json={}
        )
        assert denied.status_code == 404
        h = t.users[StaffRole.beleidsmedewerker].headers
        res = await client.post(
            f"/admin/api/rounds/{themed.round.id}/themes/run", headers=h, json={}
        )
        assert res.status_code == 202, res.text
        body = (await client.get(f"/admin/api/rounds/{themed.round.id}/themes", headers=h)).json()
        assert body["run_id"] != str(themed.run_id) and not body["running"]
        for n in _numbers(body):
            assert n == 0 or (n >= K and n % 5 == 0)
