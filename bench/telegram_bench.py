"""Telegram webhook path vs a bare aiogram echo bot, same harness, same run, PostgreSQL.

    python bench/telegram_bench.py [--users 150 300] [--concurrency 10 40] [--repeat N]
                                   [--workers N] [--split] [--no-scrub]

Processes (all on this machine's cores, next to PostgreSQL):

* the fake Bot API (``tests/bot/channels/fake_telegram.py``, aiohttp, 127.0.0.1);
* uvicorn (one worker) serving the **survey app**: FastAPI + ``/webhooks/telegram`` (secret
  check, aiogram parse and dispatch, engine, PostgreSQL commit) with the outbox sender in its
  lifespan delivering to the fake (``--split``: the sender runs as its own process instead,
  claiming from the table, as ``jeugdstem bot`` does);
* uvicorn (one worker) serving the **echo bot**: FastAPI + the same secret check, aiogram
  parse and dispatch, and a handler that answers in the request (``message.answer(text)``);
* an aiohttp load driver: N concurrent senders, each playing participants one at a time
  (12 updates per participant: /start with a deep link, a consent button, typed answers,
  free text, /hulp).

Both apps get the same process tuning (``bot.runtime.tune_gc`` after start-up). Reported per
app and concurrency: webhook acks/s, end-to-end updates/s (until the last reply reached the
fake Bot API; for the survey app that includes the outbox sender), p50/p95 ack latency, Bot
API calls and errors, CPU milliseconds per update of each process (app, sender, fake,
PostgreSQL, driver), updates per commit and time in garbage collection. The sender runs
without Telegram's 30 msg/s cap here (the fake is not Telegram); with the cap, delivery is
bound at 30 messages/s per bot, not by us. The script creates and drops its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime import tune_gc  # noqa: E402 - after the path set-up
from tests.servers import start_uvicorn  # noqa: E402

TOKEN = "42:TEST"
SECRET = "bench-secret-0123456789abcdefghijklmnop"
PEPPER = "bench-pepper-0123456789abcdef"
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


# --- the two apps (uvicorn factories) ----------------------------------------------------------


def _telegram() -> Any:
    """The survey bot's :class:`TelegramApp` from BENCH_* variables (webhook or sender side)."""
    from bot.channels.sender import SenderConfig
    from bot.channels.telegram import TelegramApp, create_bot
    from bot.engine.engine import EngineConfig
    from surveys import db
    from surveys.privacy.pii import scrub

    engine = db.create_engine(os.environ["BENCH_DB_URL"], pool_size=20)
    maker = db.create_sessionmaker(engine)

    def scrubber(text: str, schools: Any = ()) -> str:
        return scrub(text, schools=schools).text

    config = EngineConfig(pepper=PEPPER)
    if os.environ.get("BENCH_SCRUB", "1") == "1":
        config = EngineConfig(pepper=PEPPER, scrub=scrubber)
    telegram = TelegramApp(
        bot=create_bot(TOKEN, api_base=os.environ["BENCH_API_BASE"]),
        sessionmaker=maker,
        config=config,
        webhook_secret=SECRET,
        sender_config=SenderConfig(
            rate_per_second=0,
            per_address_interval=0,
            batch_size=200,
            max_in_flight=2000,
        ),
    )
    return telegram, engine


def survey_app() -> FastAPI:
    """The real webhook path, with the outbox sender in-process unless BENCH_SPLIT=1."""
    from bot.channels.telegram import build_webhook_router

    telegram, engine = _telegram()
    split = os.environ.get("BENCH_SPLIT") == "1"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not split:
            telegram.start_sender()
        tune_gc()  # what jeugdstem's processes do after start-up (bot.runtime)
        yield
        await telegram.close()
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(build_webhook_router(telegram))

    gc_time = [0.0, 0.0]  # total seconds in collections, start of the current one

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_time[1]

    gc.callbacks.append(on_gc)

    @app.get("/_batches")
    def batches() -> dict[str, float]:
        batcher = telegram.deps.batcher
        return {"batches": batcher.batches, "messages": batcher.messages, "gc_s": gc_time[0]}

    return app


def run_sender() -> None:
    """The outbox sender as its own process (``jeugdstem bot`` in production)."""
    import signal

    async def main() -> None:
        telegram, engine = _telegram()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        tune_gc()
        telegram.start_sender()
        await stop.wait()
        await telegram.close()
        await engine.dispose()

    asyncio.run(main())


def echo_app() -> FastAPI:
    """A bare aiogram echo bot behind the same FastAPI + secret check."""
    import hmac

    from aiogram import Dispatcher, Router
    from aiogram.types import CallbackQuery, Message, Update

    from bot.channels.telegram import SECRET_HEADER, create_bot, quiet_loggers

    quiet_loggers()
    bot = create_bot(TOKEN, api_base=os.environ["BENCH_API_BASE"])
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    @router.callback_query()
    async def button(cb: CallbackQuery) -> None:
        await cb.answer()

    dp = Dispatcher()
    dp.include_router(router)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tune_gc()  # what jeugdstem's processes do after start-up (bot.runtime)
        yield
        await bot.session.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/telegram")
    async def webhook(request: Request) -> Response:
        supplied = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(supplied.encode(), SECRET.encode()):
            return Response(status_code=403)
        update = Update.model_validate_json(await request.body(), context={"bot": bot})
        await dp.feed_update(bot, update)
        return Response(status_code=200)

    return app


# --- harness ---------------------------------------------------------------------------------


async def create_database() -> tuple[str, str]:
    import asyncpg

    from surveys import db, service
    from surveys.definitions import load_templates
    from surveys.models import RoundStatus

    name = f"jeugdstem_tgbench_{os.getpid()}"
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    await db.upgrade_async(url)
    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as s, s.begin():
        town = await service.create_municipality(s, slug="bench", name="Benchdorp")
        definition = await service.register_definition(s, load_templates()["bouwsteen1-jongeren"])
        round_ = await service.create_round(
            s,
            municipality_id=town.id,
            definition=definition,
            title="bench",
            audience=["jongeren"],
            scope={"wijk": ["Noord", "Zuid", "Oost", "West"]},
        )
        await service.set_round_status(s, round_, RoundStatus.open)
        code = round_.start_code
    await engine.dispose()
    return url, code


async def drop_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env)


def uvicorn(factory: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    return start_uvicorn(
        port,
        env,
        "--workers",
        str(workers),
        "--no-access-log",
        factory=f"bench.telegram_bench:{factory}",
    )


async def wait_up(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url) as res:
                    if res.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def fake_stats(http: Any, port: int) -> dict[str, Any]:
    async with http.get(f"http://127.0.0.1:{port}/_stats") as res:
        data: dict[str, Any] = await res.json()
        return data


async def batch_stats(http: Any, port: int) -> dict[str, float]:
    async with http.get(f"http://127.0.0.1:{port}/_batches") as res:
        data: dict[str, float] = await res.json()
        return data


_ids = iter(range(1_000_000, 10**9))


def updates_for(chat_id: int, code: str) -> list[bytes]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "nl"}
    chat = {"id": chat_id, "first_name": "Bench", "type": "private"}

    def message(text: str) -> bytes:
        msg = {
            "message_id": next(_ids),
            "from": user,
            "chat": chat,
            "date": 1709659308,
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return json.dumps({"update_id": next(_ids), "message": msg}).encode()

    def button(data: str) -> bytes:
        msg = {
            "message_id": next(_ids),
            "from": {"id": 42, "is_bot": True, "first_name": "Bot"},
            "chat": chat,
            "date": 1709659308,
            "text": "Doe je mee?",
            "reply_markup": {"inline_keyboard": [[{"text": "Ja", "callback_data": data}]]},
        }
        cb = {
            "id": str(next(_ids)),
            "from": user,
            "chat_instance": "1",
            "data": data,
            "message": msg,
        }
        return json.dumps({"update_id": next(_ids), "callback_query": cb}).encode()

    return [
        message(f"/start {code}"),
        button("c:cmd:consent-yes"),
        message("2"),
        message("Noord"),
        message("4"),
        message("Te veel huiswerk en weinig te doen in de buurt"),
        message("overslaan"),
        message("3"),
        message("1, 4"),
        message("nee"),
        message("Iemand die echt luistert"),
        message("/hulp"),
    ]


async def drive(
    port: int, code: str, users: int, concurrency: int, first_chat: int
) -> dict[str, Any]:
    import aiohttp

    queue: asyncio.Queue[list[bytes]] = asyncio.Queue()
    for n in range(users):
        queue.put_nowait(updates_for(first_chat + n, code))
    latencies: list[float] = []
    errors = 0
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def sender(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            for body in queue.get_nowait():
                t0 = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as res:
                    await res.read()
                    if res.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(sender(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed, "updates": len(latencies)}


async def pending_rows(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'"))
    finally:
        await conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def cpu_seconds(groups: dict[str, list[int]]) -> dict[str, float]:
    """User+system CPU seconds so far per process group (an app's worker processes included,
    the driver's own children, which are the servers, not)."""
    import psutil

    totals: dict[str, float] = {}
    for group, pids in groups.items():
        total = 0.0
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                children = [] if group == "driver" else proc.children(recursive=True)
                for p in [proc, *children]:
                    t = p.cpu_times()
                    total += t.user + t.system
            except psutil.NoSuchProcess:
                continue
        totals[group] = total
    return totals


def postgres_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


async def measure(
    name: str,
    port: int,
    fake_port: int,
    db_url: str | None,
    code: str,
    users: int,
    conc: int,
    pids: dict[str, list[int]],
    workers: int = 1,
) -> dict[str, Any]:
    import aiohttp

    groups = {**pids, "postgres": postgres_pids(), "driver": [os.getpid()]}
    async with aiohttp.ClientSession() as http:
        await drive(port, code, 20, conc, first_chat=next(_ids))  # warm-up
        if db_url:
            while await pending_rows(db_url):
                await asyncio.sleep(0.05)
        before = await fake_stats(http, fake_port)
        per_worker = db_url is not None and workers == 1  # stats live in one process
        batches_before = await batch_stats(http, port) if per_worker else None
        cpu_before = cpu_seconds(groups)
        t0 = time.perf_counter()
        result = await drive(port, code, users, conc, first_chat=next(_ids))
        if db_url:  # until the outbox sender has delivered everything
            while await pending_rows(db_url):
                await asyncio.sleep(0.01)
        e2e = time.perf_counter() - t0
        cpu_after = cpu_seconds(groups)
        batches_after = await batch_stats(http, port) if per_worker else None
        after = await fake_stats(http, fake_port)
    calls = {
        k: after["by_method"].get(k, 0) - before["by_method"].get(k, 0) for k in after["by_method"]
    }
    row = {
        "app": name,
        "concurrency": conc,
        "updates": result["updates"],
        "ack_per_s": result["updates"] / result["elapsed"],
        "e2e_per_s": result["updates"] / e2e,
        "p50_ms": pct(result["latencies"], 0.5),
        "p95_ms": pct(result["latencies"], 0.95),
        "errors": result["errors"],
        "bot_api_calls": {k: v for k, v in calls.items() if v},
        "gc_ms_per_update": (
            round((batches_after["gc_s"] - batches_before["gc_s"]) * 1000 / result["updates"], 3)
            if batches_before and batches_after
            else None
        ),
        "per_commit": (
            round(
                (batches_after["messages"] - batches_before["messages"])
                / max(1, batches_after["batches"] - batches_before["batches"]),
                1,
            )
            if batches_before and batches_after
            else None
        ),
        "cpu_ms_per_update": {
            g: round((cpu_after[g] - cpu_before[g]) * 1000 / result["updates"], 3) for g in groups
        },
    }
    print(
        f"{name:7} c={conc:<3d} {row['updates']:5d} updates  ack {row['ack_per_s']:7.0f}/s"
        f"  e2e {row['e2e_per_s']:7.0f}/s  p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms"
        f"  errors {row['errors']}  calls {row['bot_api_calls']}",
        f"\n        CPU ms/update {row['cpu_ms_per_update']}"
        f"  updates per commit {row['per_commit']}  GC ms/update {row['gc_ms_per_update']}",
        flush=True,
    )
    return row


async def main_async(args: argparse.Namespace) -> None:
    import psutil

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()}, free RAM {psutil.virtual_memory().available // 2**20} MiB, "
        f"python {platform.python_version()}",
        flush=True,
    )
    db_url, code = await create_database()
    fake_port, survey_port, echo_port = 18181, 18182, 18183
    env = dict(
        os.environ,
        BENCH_DB_URL=db_url,
        BENCH_API_BASE=f"http://127.0.0.1:{fake_port}",
        BENCH_SCRUB="0" if args.no_scrub else "1",
        BENCH_SPLIT="1" if args.split else "0",
        JEUGDSTEM_ENV="development",
    )
    procs = [start(["-m", "tests.bot.channels.fake_telegram", "--port", str(fake_port)], env)]
    procs.append(uvicorn("survey_app", survey_port, env, args.workers))
    procs.append(uvicorn("echo_app", echo_port, env, args.workers))
    if args.split:
        procs.append(start(["bench/telegram_bench.py", "--run-sender"], env))
    rows = []

    def app_pids(index: int) -> dict[str, list[int]]:
        pids = {"app": [procs[index].pid], "fake": [procs[0].pid]}
        if args.split and index == 1:
            pids["sender"] = [procs[3].pid]
        return pids

    try:
        await wait_up(f"http://127.0.0.1:{fake_port}/_stats")
        await wait_up(f"http://127.0.0.1:{survey_port}/docs")
        await wait_up(f"http://127.0.0.1:{echo_port}/docs")
        for users, conc in zip(args.users, args.concurrency, strict=True):
            for _ in range(args.repeat):
                rows.append(
                    await measure(
                        "survey",
                        survey_port,
                        fake_port,
                        db_url,
                        code,
                        users,
                        conc,
                        app_pids(1),
                        args.workers,
                    )
                )
                rows.append(
                    await measure(
                        "echo", echo_port, fake_port, None, code, users, conc, app_pids(2)
                    )
                )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
        await drop_database(db_url)
    print("\nsummary (best and median of runs per app and concurrency; CPU = app processes):")
    for conc in args.concurrency:
        runs = {
            app: sorted(
                (r for r in rows if r["app"] == app and r["concurrency"] == conc),
                key=lambda r: r["e2e_per_s"],
            )
            for app in ("survey", "echo")
        }
        s, e = runs["survey"][-1], runs["echo"][-1]
        s_med = statistics.median(r["e2e_per_s"] for r in runs["survey"])
        e_med = statistics.median(r["e2e_per_s"] for r in runs["echo"])
        cpu = {
            app: statistics.median(
                sum(v for k, v in r["cpu_ms_per_update"].items() if k in ("app", "sender"))
                for r in runs[app]
            )
            for app in runs
        }
        print(
            f"  c={conc}: survey best {s['e2e_per_s']:.0f} updates/s"
            f" (p50 {s['p50_ms']:.1f} / p95 {s['p95_ms']:.1f} ms), median {s_med:.0f}"
            f"  echo best {e['e2e_per_s']:.0f} updates/s"
            f" (p50 {e['p50_ms']:.1f} / p95 {e['p95_ms']:.1f} ms), median {e_med:.0f}"
            f"\n         ratio best/best {s['e2e_per_s'] / e['e2e_per_s']:.2f},"
            f" median/median {s_med / e_med:.2f};"
            f" CPU ms/update survey {cpu['survey']:.2f}, echo {cpu['echo']:.2f}"
        )
    print(f"load after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes per app (same for both)"
    )
    parser.add_argument("--no-scrub", action="store_true", help="skip the PII scrubber")
    parser.add_argument(
        "--split", action="store_true", help="run the outbox sender as its own process"
    )
    parser.add_argument("--run-sender", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_sender:
        run_sender()
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
