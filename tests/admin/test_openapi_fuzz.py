"""Schemathesis over the app's own OpenAPI schema: no operation answers 5xx, whatever it is sent.

The app is the admin API plus the web chat (as ``jeugdstem.asgi`` builds it) on a fresh SQLite
database holding a themed round, a duiding with an ambitie and an action, and a monitor figure.
Every operation gets schema-valid and schema-invalid inputs, with random path ids and with the
ids of those real objects, as the admin (session cookie + ``X-CSRF-Token``). The quote queue is
called as the beleidsmedewerker and the quarantine as the safeguarding officer (API tokens),
since only those roles get past the permission check there. Re-clustering and logout run last:
they replace the seeded themes and end the admin's session.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from admin.app import create_app
from admin.deps import CSRF_HEADER, SESSION_COOKIE
from bot.channels.webchat import WebChat, build_router
from bot.engine.engine import EngineConfig
from surveys import accounts, db
from surveys.models import StaffRole, User
from tests.admin.conftest import PASSWORD, make_settings
from tests.admin.themedata import seed_themed_round
from tests.factories import create_municipality

EXAMPLES = 8  # per operation and strategy; the whole test stays well under a minute
QUARANTINE_KEY = "test-quarantine-key-0123456789abcdef"


@dataclass
class World:
    """Credentials and the ids of real objects to put into path parameters."""

    cookie: str = ""
    csrf: str = ""
    tokens: dict[StaffRole, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


async def _seed(url: str) -> World:
    engine = db.create_engine(url)
    world = World()
    try:
        async with db.create_sessionmaker(engine)() as s, s.begin():
            town = await create_municipality(s, slug="fuzzdorp", name="Gemeente Fuzzdorp")
            users: dict[StaffRole, User] = {}
            for role in StaffRole:
                users[role] = await accounts.create_user(
                    s,
                    municipality_id=town.id,
                    email=f"{role.value}@fuzzdorp.nl",
                    password=PASSWORD,
                    role=role,
                )
                world.tokens[role], _row = await accounts.create_api_token(
                    s, users[role], name="fuzz"
                )
            world.cookie, row = await accounts.create_session(s, users[StaffRole.admin])
            world.csrf = row.csrf_token
            _raw, spare = await accounts.create_api_token(s, users[StaffRole.admin], name="spare")
            themed = await seed_themed_round(s, town, {"school": 12, "vrije_tijd": 8, "veilig": 2})
            world.ids |= {
                "ref": str(themed.round.id),
                "user_id": str(users[StaffRole.jongerenwerker].id),
                "token_id": str(spare.id),
                "answer_id": str(themed.answers["school"][0]),
            }
    finally:
        await engine.dispose()
    return world


def _build_app(url: str) -> Any:
    engine = db.create_engine(url)
    maker = db.create_sessionmaker(engine)
    chat = WebChat(sessionmaker=maker, config=EngineConfig(pepper="test-pepper-0123456789abcdef"))
    return create_app(
        engine=engine,
        sessionmaker=maker,
        settings=make_settings(),
        routers=[build_router(chat)],
        quarantine_key=QUARANTINE_KEY,
    )


def _objects(schema: Any, world: World) -> None:
    """A duiding with an ambitie and an action, and a monitor figure, made through the API."""

    def post(path: str, body: dict[str, Any]) -> Any:
        case = schema.find_operation_by_label(path).Case(
            path_parameters=world.ids, body=body, media_type="application/json"
        )
        response = case.call(headers=_auth(world, path))
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()

    d = post(
        "POST /admin/api/duidingen", {"title": "Fuzz duiding", "round_ids": [world.ids["ref"]]}
    )
    world.ids["duiding_id"] = d["id"]
    theme = {"text": "Jongeren hebben een eigen plek", "theme_ids": ["school"]}
    world.ids["ambitie_id"] = post("POST /admin/api/duidingen/{duiding_id}/ambities", theme)["id"]
    action = {"description": "Plek zoeken", "owner": "Team Jeugd"}
    world.ids["action_id"] = post("POST /admin/api/duidingen/{duiding_id}/actions", action)["id"]
    csv = (
        "source;indicator;wijk;age_band;value;unit;n;period;method_note\n"
        "GGD;Voelt zich gelukkig;Noord;12-15;81,5;%;240;2023;Gezondheidsmonitor\n"
    )
    post("POST /admin/api/monitor-figures", {"csv": csv})
    listing = schema.find_operation_by_label("GET /admin/api/monitor-figures").Case()
    world.ids["figure_id"] = listing.call(headers=_auth(world, "")).json()[0]["id"]


def _examples(world: World) -> dict[str, dict[str, Any]]:
    """Valid inputs the generator is unlikely to find (templates, theme ids, declared breakdowns),
    so the fuzzing also gets past validation into the handlers."""
    ref = world.ids["ref"]
    json = "application/json"
    csv = (
        "source;indicator;wijk;age_band;value;unit;n;period;method_note\n"
        "CBS;Sport wekelijks;Oost;16-18;55;%;120;2024;Jeugdmonitor\n"
    )
    return {
        "POST /admin/api/login": {
            "body": {"email": "admin@fuzzdorp.nl", "password": PASSWORD},
            "media_type": json,
        },
        "POST /admin/api/users": {
            "body": {"email": "nieuw@fuzzdorp.nl", "role": "jongerenwerker", "password": PASSWORD},
            "media_type": json,
        },
        "POST /admin/api/rounds": {
            "body": {
                "template": "bouwsteen1-jongeren",
                "title": "Voorjaar",
                "audience": ["jongeren"],
            },
            "media_type": json,
        },
        "GET /admin/api/rounds/{ref}/themes/breakdown": {"query": {"by": "wijk"}},
        "GET /admin/api/themes/compare": {"query": {"rounds": [ref]}},
        "POST /admin/api/rounds/{ref}/themes/edits": {
            "body": {"operation": "rename", "theme_id": "school", "label": "School en toetsen"},
            "media_type": json,
        },
        "POST /admin/api/duidingen": {
            "body": {"title": "Tweede duiding", "round_ids": [ref]},
            "media_type": json,
        },
        "POST /admin/api/duidingen/{duiding_id}/ambities": {
            "body": {"text": "Iedereen doet mee", "theme_ids": ["school"]},
            "media_type": json,
        },
        "POST /admin/api/monitor-figures": {"body": {"csv": csv}, "media_type": json},
    }


def _auth(world: World, label: str) -> dict[str, str]:
    if "/quotes" in label:
        return {"Authorization": f"Bearer {world.tokens[StaffRole.beleidsmedewerker]}"}
    if "/quarantine" in label:
        return {"Authorization": f"Bearer {world.tokens[StaffRole.safeguarding]}"}
    return {"Cookie": f"{SESSION_COOKIE}={world.cookie}", CSRF_HEADER: world.csrf}


def _fuzz(strategies: list[Any], headers: dict[str, str]) -> tuple[list[str], Counter[int]]:
    """Call the app with examples of ``strategies``; the 5xx calls and all status codes."""
    failures: list[str] = []
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {case.as_curl_command()}")

    call()
    return failures, statuses


def _order(label: str) -> int:
    """Re-clustering replaces the seeded themes and logout ends the session: those go last."""
    return 2 if label.endswith("/logout") else 1 if label.endswith("/themes/run") else 0


def test_no_operation_answers_5xx(tmp_path: Path) -> None:
    started = time.monotonic()
    url = f"sqlite+aiosqlite:///{tmp_path}/fuzz.db"
    db.upgrade(url)
    world = asyncio.run(_seed(url))
    app = _build_app(url)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, headers={"Authorization": f"Bearer {world.tokens[StaffRole.admin]}"}
    )
    _objects(schema, world)
    results = list(schema.get_all_operations())
    assert all(isinstance(r, Ok) for r in results), "the OpenAPI schema has invalid operations"
    operations = sorted(
        (r.ok() for r in results if isinstance(r, Ok)), key=lambda o: _order(o.label)
    )
    assert len(operations) >= 40
    examples = _examples(world)
    failures: list[str] = []
    statuses: dict[str, Counter[int]] = {}

    for operation in operations:
        names = {p.name for p in operation.iter_parameters() if p.location == "path"}
        real = {k: v for k, v in world.ids.items() if k in names}
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if real and len(real) == len(names):
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
        if operation.label in examples:
            strategies.append(
                operation.as_strategy(
                    GenerationMode.POSITIVE,
                    path_parameters=real or None,
                    **examples[operation.label],
                )
            )
        failed, codes = _fuzz(strategies, _auth(world, operation.label))
        failures += failed
        statuses[operation.label] = codes

    elapsed = time.monotonic() - started
    assert not failures, "\n".join(failures[:20])
    calls = sum(sum(c.values()) for c in statuses.values())
    print(f"{calls} calls in {elapsed:.1f} s")
    for label, codes in statuses.items():
        print(f"  {label}: {dict(sorted(codes.items()))}")
    assert calls >= len(operations) * EXAMPLES
    # Real objects were reached, not only 4xx: most operations succeeded at least once.
    succeeded = [label for label, codes in statuses.items() if any(c < 300 for c in codes)]
    assert len(succeeded) >= len(operations) * 3 // 4, sorted(set(statuses) - set(succeeded))
    assert elapsed < 60, f"the fuzz run took {elapsed:.0f} s"
