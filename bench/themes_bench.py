"""Latency of the themes summary endpoint with 1,000,000 stored answers in PostgreSQL.

    python bench/themes_bench.py [--answers 1000000] [--round-size 2500] [--requests 300]
                                 [--explain] [--keep]

Creates its own database next to ``TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``), migrates it and seeds it with COPY (asyncpg,
not through the chat engine): municipalities with five rounds each of the bouwsteen 1 jongeren
survey, participants, conversations, 8 answers per participant (two of them free text),
and for every round an older and a latest ThemeRun with ``answer_themes`` rows for the text
answers. Then one uvicorn worker serves the real app and a client sends sequential requests:

* ``GET /admin/api/rounds/{id}/themes`` for the latest round of one municipality (its previous
  round exists, so the trend is computed too), authenticated with an API token;
* baseline: ``GET /admin/static/admin.css`` on the same server (same app, middleware and HTTP
  stack, no database).

Prints the seeding time, p50/p95/p99 of both and the machine load. ``--explain`` prints
EXPLAIN (ANALYZE, BUFFERS) of the endpoint's queries on the round. The database is dropped
at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveys import accounts, db, service  # noqa: E402
from surveys.definitions import load_templates  # noqa: E402
from surveys.models import Municipality, StaffRole  # noqa: E402
from tests.servers import free_port, start_uvicorn  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROUNDS_PER_TOWN = 5
WIJKEN = ["Centrum", "Noord", "Oost", "Zuid", "West"]
AGES = ["12-13", "14-15", "16-17", "18-23"]
THEMES = [
    "school",
    "mentaal",
    "veiligheid",
    "vrije_tijd",
    "geld",
    "openbare_ruimte",
    "middelen",
    "online",
    "toekomst",
    "pesten",
    "wonen",
    "relaties",
]
# (question key, kind); the free-text ones get answer_themes rows.
QUESTIONS = [
    ("leeftijd", None),
    ("wijk", None),
    ("welbevinden", None),
    ("zorg", "zorg"),
    ("kans", "kans"),
    ("veilig", None),
    ("vrije_tijd", None),
    ("vertrouwen", None),
]


def _url(database: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{database}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _setup_objects(url: str, towns: int) -> tuple[list[list[uuid.UUID]], uuid.UUID, str]:
    """Municipalities, the definition, rounds and a beleidsmedewerker token (via the models)."""
    engine = db.create_engine(url)
    rounds: list[list[uuid.UUID]] = []
    try:
        async with db.create_sessionmaker(engine)() as s, s.begin():
            definition = await service.register_definition(
                s, load_templates()["bouwsteen1-jongeren"]
            )
            token = ""
            for t in range(towns):
                town = Municipality(slug=f"bench-{t}", name=f"Benchdorp {t}", settings={})
                s.add(town)
                await s.flush()
                ids = []
                for r in range(ROUNDS_PER_TOWN):
                    round_ = await service.create_round(
                        s,
                        municipality_id=town.id,
                        definition=definition,
                        title=f"Jongeren {2020 + r}",
                        audience=["jongeren"],
                        scope={"wijk": WIJKEN},
                    )
                    round_.created_at = datetime(2020 + r, 10, 1, tzinfo=UTC)
                    ids.append(round_.id)
                rounds.append(ids)
                if t == 0:
                    user = await accounts.create_user(
                        s,
                        municipality_id=town.id,
                        email="bench@benchdorp.nl",
                        password="bench-wachtwoord-123",
                        role=StaffRole.beleidsmedewerker,
                    )
                    token, _row = await accounts.create_api_token(s, user, name="bench")
            return rounds, definition.id, token
    finally:
        await engine.dispose()


async def _seed(
    url: str, rounds: list[list[uuid.UUID]], definition_id: uuid.UUID, round_size: int
) -> dict[str, int]:
    """COPY participants, conversations, answers, theme runs and answer_themes."""
    rng = random.Random(7)
    conn = await asyncpg.connect(url)
    counts = dict.fromkeys(
        ("participants", "conversations", "answers", "theme_runs", "answer_themes"), 0
    )
    now = datetime(2025, 11, 1, tzinfo=UTC)
    theme_id_seq = 0
    try:
        town_ids = {
            r["slug"]: r["id"] for r in await conn.fetch("SELECT id, slug FROM municipalities")
        }
        for t, round_ids in enumerate(rounds):
            town_id = town_ids[f"bench-{t}"]
            for round_id in round_ids:
                participants, conversations, answers, texts = [], [], [], []
                for _ in range(round_size):
                    pid, cid = uuid.uuid4(), uuid.uuid4()
                    participants.append((pid, now))
                    conversations.append(
                        (cid, pid, round_id, "", definition_id, "done", "{}", now, now, now)
                    )
                    values = {
                        "leeftijd": json.dumps(rng.choice(AGES)),
                        "wijk": json.dumps(rng.choice(WIJKEN).lower()),
                        "welbevinden": json.dumps(rng.randint(1, 5)),
                        "zorg": json.dumps("[tekst]"),
                        "kans": json.dumps("[tekst]"),
                        "veilig": json.dumps(rng.randint(1, 5)),
                        "vrije_tijd": json.dumps(["sport", "online"]),
                        "vertrouwen": json.dumps(rng.choice(["ja", "nee"])),
                    }
                    for key, kind in QUESTIONS:
                        aid = uuid.uuid4()
                        text = f"synthetisch antwoord {key} {rng.randint(0, 999)}" if kind else None
                        answers.append(
                            (aid, cid, pid, round_id, key, values[key], text, kind, now, now)
                        )
                        if kind:
                            texts.append(aid)
                await conn.copy_records_to_table(
                    "participants", records=participants, columns=["id", "created_at"]
                )
                await conn.copy_records_to_table(
                    "conversations",
                    records=conversations,
                    columns=[
                        "id",
                        "participant_id",
                        "round_id",
                        "subject",
                        "definition_id",
                        "state",
                        "progress",
                        "started_at",
                        "updated_at",
                        "completed_at",
                    ],
                )
                await conn.copy_records_to_table(
                    "answers",
                    records=answers,
                    columns=[
                        "id",
                        "conversation_id",
                        "participant_id",
                        "round_id",
                        "question_key",
                        "value",
                        "text",
                        "kind",
                        "created_at",
                        "updated_at",
                    ],
                )
                # An older and the latest run of this round, each with memberships.
                memberships = []
                runs = []
                for age in (timedelta(days=30), timedelta(0)):
                    run_id = uuid.uuid4()
                    quotes: dict[str, list[str]] = {th: [] for th in THEMES}
                    for aid in texts:
                        theme = THEMES[min(int(rng.expovariate(0.35)), len(THEMES) - 1)]
                        theme_id_seq += 1
                        memberships.append((theme_id_seq, run_id, aid, theme, 0.5, True))
                        if len(quotes[theme]) < 3:
                            quotes[theme].append(str(aid))
                    summary = {
                        "model_version": "bench-1",
                        "k_min": 10,
                        "themes": [
                            {
                                "theme_id": th,
                                "label": th.replace("_", " ").title(),
                                "origin": "seed",
                                "terms": [th],
                                "quote_answer_ids": quotes[th],
                            }
                            for th in THEMES
                        ],
                    }
                    runs.append(
                        (
                            run_id,
                            round_id,
                            town_id,
                            "guided",
                            "bench-1",
                            10,
                            round_size,
                            json.dumps(summary),
                            now - age,
                        )
                    )
                await conn.copy_records_to_table(
                    "theme_runs",
                    records=runs,
                    columns=[
                        "id",
                        "round_id",
                        "municipality_id",
                        "mode",
                        "model_version",
                        "k_min",
                        "total_respondents",
                        "summary",
                        "created_at",
                    ],
                )
                await conn.copy_records_to_table(
                    "answer_themes",
                    records=memberships,
                    columns=["id", "run_id", "answer_id", "theme_id", "score", "primary"],
                )
                counts["participants"] += len(participants)
                counts["conversations"] += len(conversations)
                counts["answers"] += len(answers)
                counts["theme_runs"] += len(runs)
                counts["answer_themes"] += len(memberships)
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('answer_themes', 'id'), $1)", theme_id_seq
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return counts


EXPLAIN_QUERIES = {
    "respondents (distinct participants of the round)": (
        "SELECT DISTINCT answers.participant_id FROM answers WHERE answers.round_id = $1"
    ),
    "latest run": (
        "SELECT id FROM theme_runs WHERE municipality_id = $2 AND round_id = $1 "
        "ORDER BY created_at DESC LIMIT 1"
    ),
    "memberships of the latest run": (
        "SELECT answer_themes.answer_id, answer_themes.theme_id, answers.participant_id, "
        "answers.kind FROM answer_themes JOIN answers ON answers.id = answer_themes.answer_id "
        'WHERE answer_themes.run_id = $3 AND answer_themes."primary" IS true '
        "AND answers.round_id = $1"
    ),
    "theme edits": (
        "SELECT * FROM theme_edits WHERE municipality_id = $2 AND round_id = $1 AND run_id = $3 "
        "ORDER BY id"
    ),
    "quote reviews": "SELECT * FROM quote_reviews WHERE municipality_id = $2 AND round_id = $1",
}


async def _explain(url: str, round_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(url)
    try:
        town_id = await conn.fetchval("SELECT municipality_id FROM rounds WHERE id = $1", round_id)
        run_id = await conn.fetchval(
            "SELECT id FROM theme_runs WHERE round_id = $1 ORDER BY created_at DESC LIMIT 1",
            round_id,
        )
        args = {1: round_id, 2: town_id, 3: run_id}
        for name, sql in EXPLAIN_QUERIES.items():
            used = sorted({int(p) for p in "123" if f"${p}" in sql})
            renumbered = sql
            for new, old in enumerate(used, start=1):
                renumbered = renumbered.replace(f"${old}", f"$__{new}")
            renumbered = renumbered.replace("$__", "$")
            rows = await conn.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS) {renumbered}", *[args[i] for i in used]
            )
            print(f"\n-- {name}")
            for row in rows:
                print("   ", row[0])
    finally:
        await conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _measure(client: httpx.Client, url: str, n: int, headers: dict[str, str]) -> list[float]:
    for _ in range(10):  # warm-up
        client.get(url, headers=headers).raise_for_status()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return times


def _report(name: str, times: list[float]) -> None:
    print(
        f"  {name:44} p50 {statistics.median(times):7.1f} ms   p95 {_percentile(times, 0.95):7.1f}"
        f" ms   p99 {_percentile(times, 0.99):7.1f} ms   (n={len(times)})"
    )


def _serve_and_measure(url: str, round_id: uuid.UUID, token: str, requests: int) -> list[float]:
    port = free_port()
    proc = start_uvicorn(port, dict(os.environ, DATABASE_URL=url, JEUGDSTEM_ENV="development"))
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    if client.get("/admin/static/admin.css").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            auth = {"Authorization": f"Bearer {token}"}
            body = client.get(f"/admin/api/rounds/{round_id}/themes", headers=auth).json()
            assert body["run_id"], body
            assert body["themes"], body
            print(
                f"  round: {body['respondents']} respondents, {len(body['themes'])} themes,"
                f" trend {'yes' if body['themes'][0]['trend'] else 'no'}"
            )
            themes = _measure(client, f"/admin/api/rounds/{round_id}/themes", requests, auth)
            baseline = _measure(client, "/admin/static/admin.css", requests, {})
            _report("GET /admin/api/rounds/{id}/themes", themes)
            _report("baseline GET /admin/static/admin.css", baseline)
            return themes
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--round-size", type=int, default=2500, help="participants per round")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)

    per_round = args.round_size * len(QUESTIONS)
    towns = max(1, -(-args.answers // (per_round * ROUNDS_PER_TOWN)))
    name = f"jeugdstem_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = _url(name)
    print(f"Themes summary bench ({platform.python_version()}, {os.cpu_count()} CPUs)")
    print(f"  load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        db.upgrade(url)
        start = time.perf_counter()
        rounds, definition_id, token = asyncio.run(_setup_objects(url, towns))
        counts = asyncio.run(_seed(url, rounds, definition_id, args.round_size))
        seeded = time.perf_counter() - start
        print(
            f"  seeded in {seeded:.1f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            + f" ({towns} municipalities x {ROUNDS_PER_TOWN} rounds)"
        )
        target = rounds[0][-1]  # latest round of the first town: trend against the one before
        if args.explain:
            asyncio.run(_explain(url, target))
            print()
        themes = _serve_and_measure(url, target, token, args.requests)
        print(f"  load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        p95 = _percentile(themes, 0.95)
        print(f"  goal p95 < 100 ms: {'met' if p95 < 100 else 'NOT met'} ({p95:.1f} ms)")
    finally:
        if args.keep:
            print(f"  kept database {url}")
        else:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
