"""Demo users: one per role, idempotent, and they can log in."""

from __future__ import annotations

from admin.demo import seed_demo_users
from surveys.demo import seed_demo


async def test_demo_users_log_in(client, sessionmaker) -> None:
    async with sessionmaker() as s, s.begin():
        await seed_demo(s)
        users = await seed_demo_users(s)
    async with sessionmaker() as s, s.begin():
        assert await seed_demo_users(s) == users  # idempotent
    assert {role for _, _, role in users} == {
        "admin",
        "jongerenwerker",
        "beleidsmedewerker",
        "safeguarding",
    }
    email, password, _ = users[1]
    res = await client.post("/admin/api/login", json={"email": email, "password": password})
    assert res.status_code == 200
    rounds = (await client.get("/admin/api/rounds")).json()
    assert [r["start_code"] for r in rounds] == ["demo-exit"]  # the jongerenwerker's own round
