"""Throughput of the pure engine and of the full web-chat HTTP path, each beside a baseline.

    python bench/engine_bench.py [--seconds 8] [--users 20] [--skip-http]

1. Pure engine: steps/s on one core over a full bouwsteen 1 jongeren round, next to a trivial
   baseline (the same loop calling a function that only copies the progress).
2. Web chat: a uvicorn server (one worker) serving the real app; an aiohttp driver plays N
   participants who each open the chat and complete the survey. Messages/s and p50/p95
   latency with SQLite and with PostgreSQL, next to a trivial baseline on the same server
   (GET of the chat's static CSS: same app, middleware and HTTP stack, no engine, no DB).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine.catalogue import default_catalogue  # noqa: E402
from bot.engine.flow import CONSENT_YES, Progress, RoundContext, step  # noqa: E402
from bot.engine.messages import Inbound  # noqa: E402
from surveys.definitions import load_templates  # noqa: E402
from tests.servers import start_uvicorn  # noqa: E402

ROUND = [
    ("/start", None),
    (None, CONSENT_YES),
    ("2", None),
    ("Noord", None),
    ("4", None),
    ("Te veel huiswerk en weinig te doen in de buurt", None),
    ("overslaan", None),
    ("9", None),  # invalid: re-ask
    ("3", None),
    ("1, 4", None),
    ("nee", None),
    ("Iemand die echt luistert", None),
]
HTTP_ROUND = [
    {"choice": CONSENT_YES},
    {"choice": "16-17"},
    {"choice": "noord"},
    {"choice": "4"},
    {"text": "Te veel huiswerk en weinig te doen in de buurt"},
    {"text": "overslaan"},
    {"choice": "3"},
    {"choice": "sport,online"},
    {"choice": "nee"},
    {"text": "Iemand die echt luistert"},
]


def bench_pure(seconds: float) -> tuple[float, float]:
    definition = load_templates()["bouwsteen1-jongeren"]
    catalogue = default_catalogue()
    context = RoundContext(places={"wijk": ["Centrum", "Noord", "Oost", "Zuid", "West"]})
    inbounds = [Inbound("bench", "a", str(i), text=t, choice=c) for i, (t, c) in enumerate(ROUND)]

    def run(fn) -> float:  # type: ignore[no-untyped-def]
        steps = 0
        start = time.perf_counter()
        deadline = start + seconds / 2
        while time.perf_counter() < deadline:
            progress = Progress()
            for inbound in inbounds:
                progress = fn(progress, inbound)
            steps += len(inbounds)
        return steps / (time.perf_counter() - start)

    def real(progress: Progress, inbound: Inbound) -> Progress:
        return step(definition, progress, inbound, context=context, catalogue=catalogue).progress

    def trivial(progress: Progress, inbound: Inbound) -> Progress:
        return replace(progress, current=inbound.event_id)

    return run(real), run(trivial)


async def _seed(url: str) -> str:
    from surveys import db
    from surveys.demo import seed_demo

    await db.upgrade_async(url)
    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session, session.begin():
        links, _ = await seed_demo(session)
    await engine.dispose()
    return links.jongeren


async def _wait_up(port: int) -> None:
    import aiohttp

    for _ in range(100):
        try:
            async with (
                aiohttp.ClientSession() as s,
                s.get(f"http://127.0.0.1:{port}/chat/static/chat.css") as r,
            ):
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def _drive(
    port: int, code: str, users: int, seconds: float, baseline: bool
) -> tuple[float, list[float], int]:
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=users)

    async def user(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            if baseline:
                t0 = time.perf_counter()
                async with http.get(f"{base}/chat/static/chat.css") as r:
                    await r.read()
                latencies.append(time.perf_counter() - t0)
                continue
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(
                connector=connector, connector_owner=False, cookie_jar=jar
            ) as me:
                async with me.get(f"{base}/chat/{code}") as r:
                    await r.read()
                ack = 0
                for body in [{"text": f"/start {code}"}, *HTTP_ROUND]:
                    if time.perf_counter() >= deadline:
                        return
                    payload = {"id": uuid.uuid4().hex, "ack": ack, **body}
                    t0 = time.perf_counter()
                    async with me.post(f"{base}/chat/api/messages", json=payload) as r:
                        data = await r.json()
                        if r.status != 200:
                            errors += 1
                            continue
                    latencies.append(time.perf_counter() - t0)
                    for m in data["messages"]:
                        ack = max(ack, m["id"])

    async with aiohttp.ClientSession(connector=connector, connector_owner=False) as http:
        start = time.perf_counter()
        await asyncio.gather(*(user(http) for _ in range(users)))
        elapsed = time.perf_counter() - start
    await connector.close()
    return len(latencies) / elapsed, latencies, errors


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def bench_http(backend: str, users: int, seconds: float, port: int) -> None:
    import asyncpg

    cleanup = None
    if backend == "sqlite":
        tmp = tempfile.mkdtemp()
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    else:
        name = f"jeugdstem_bench_{os.getpid()}"
        admin = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = admin.rsplit("/", 1)[0] + f"/{name}"

        async def drop() -> None:
            c = await asyncpg.connect(admin)
            await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await c.close()

        cleanup = drop
    code = await _seed(url)
    env = dict(os.environ, DATABASE_URL=url, JEUGDSTEM_ENV="development")
    proc = start_uvicorn(port, env, "--no-access-log")
    try:
        await _wait_up(port)
        await _drive(port, code, users, 1.0, baseline=False)  # warm-up
        rate, lat, errors = await _drive(port, code, users, seconds, baseline=False)
        base_rate, base_lat, _ = await _drive(port, code, users, seconds / 2, baseline=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if cleanup:
            await cleanup()
    print(
        f"web chat [{backend:10}] {users:3d} users: {rate:8.0f} msg/s  p50 {_pct(lat, 0.5):6.1f} ms"
        f"  p95 {_pct(lat, 0.95):6.1f} ms  errors {errors}"
    )
    print(
        f"  baseline (static GET, same server):  {base_rate:8.0f} req/s"
        f"  p50 {_pct(base_lat, 0.5):6.1f} ms"
        f"  p95 {_pct(base_lat, 0.95):6.1f} ms   ratio {rate / base_rate:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    engine_rate, trivial_rate = bench_pure(args.seconds)
    print(f"pure engine (1 core):  {engine_rate:10.0f} steps/s   target >= 20,000")
    print(
        f"  baseline (trivial step): {trivial_rate:10.0f} steps/s"
        f"   ratio {engine_rate / trivial_rate:.3f}"
    )
    if args.skip_http:
        return
    for backend in ("sqlite", "postgresql"):
        asyncio.run(bench_http(backend, args.users, args.seconds, args.port))


if __name__ == "__main__":
    main()
