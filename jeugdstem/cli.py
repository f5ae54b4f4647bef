"""Command line: demo, serve, chat, db, rounds, privacy, safeguarding, cluster."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.demo import seed_demo_users
from aggregation import jobs
from bot.__main__ import main as bot_main
from bot.app import engine_config
from bot.channels.terminal import run_terminal
from bot.settings import get_settings as bot_settings
from jeugdstem.commands.cluster import cluster_app
from jeugdstem.commands.privacy import privacy_app, safeguarding_app
from jeugdstem.commands.users import users_app
from surveys import accounts, db, service
from surveys.demo import DemoLinks, seed_demo
from surveys.exceptions import SurveysError
from surveys.models import RoundStatus, utc_now
from surveys.settings import get_settings as surveys_settings

app = typer.Typer(
    help="Jeugdstem: chat & survey bot for youth participation.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
rounds_app = typer.Typer(help="List, open and close survey rounds.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(rounds_app, name="rounds")
app.add_typer(privacy_app, name="privacy")
app.add_typer(safeguarding_app, name="safeguarding")
app.add_typer(cluster_app, name="cluster")
app.add_typer(users_app, name="users")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides DATABASE_URL.", show_default=False)
]


def _url(override: str | None) -> str:
    return db.normalise_url(override or surveys_settings().database_url)


def _with_session(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = db.create_engine(url)
        try:
            return await work(db.create_sessionmaker(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except SurveysError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(code=1) from exc


@db_app.command("upgrade")
def db_upgrade(database_url: DbOption = None, revision: str = "head") -> None:
    """Apply migrations."""
    db.upgrade(_url(database_url), revision)
    console.print(f"Database at revision {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: str, database_url: DbOption = None) -> None:
    """Revert migrations to REVISION (use 'base' to drop everything)."""
    db.downgrade(_url(database_url), revision)
    console.print(f"Database at revision {revision}.")


@rounds_app.command("list")
def rounds_list(database_url: DbOption = None) -> None:
    """List rounds with live counts."""

    async def work(maker: async_sessionmaker[AsyncSession]) -> list[service.RoundCount]:
        async with maker() as session:
            return await service.list_rounds(session)

    now = utc_now()
    rows = _with_session(_url(database_url), work)
    table = Table()
    width = max((len(rc.round.start_code) for rc in rows), default=4)
    table.add_column("code", no_wrap=True, min_width=width)
    for name in ("municipality", "title", "bs", "status", "started", "completed"):
        table.add_column(name)
    for rc in rows:
        table.add_row(
            rc.round.start_code,
            rc.municipality,
            rc.round.title,
            str(rc.round.bouwsteen),
            service.round_status(rc.round, now),
            str(rc.started),
            str(rc.completed),
        )
    console.print(table)


def _set_status(ref: str, status: RoundStatus, database_url: str | None) -> None:
    async def work(maker: async_sessionmaker[AsyncSession]) -> str:
        async with maker() as session, session.begin():
            round_ = await service.find_round(session, ref)
            await service.set_round_status(session, round_, status, actor="cli")
            return round_.title

    title = _with_session(_url(database_url), work)
    console.print(f"Round '{title}' is now {status.value}.")


@rounds_app.command("open")
def rounds_open(ref: str, database_url: DbOption = None) -> None:
    """Open a round (REF is its id or start code)."""
    _set_status(ref, RoundStatus.open, database_url)


@rounds_app.command("close")
def rounds_close(ref: str, database_url: DbOption = None) -> None:
    """Close a round (REF is its id or start code)."""
    _set_status(ref, RoundStatus.closed, database_url)


telegram_app = typer.Typer(help="Telegram: webhook registration and polling.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register BOT_TELEGRAM_WEBHOOK_URL with the secret, allowed updates and command menu."""
    bot_main(["--set-webhook"])


@telegram_app.command("delete-webhook")
def telegram_delete_webhook() -> None:
    """Remove the webhook (needed before polling)."""
    bot_main(["--delete-webhook"])


@app.command()
def bot(
    polling: Annotated[
        bool, typer.Option("--polling", help="Long polling (no public URL).")
    ] = False,
) -> None:
    """Run the bot process: the Telegram outbox sender, or long polling with --polling."""
    bot_main(["--polling"] if polling else ["--sender-only"])


@app.command()
def retention(database_url: DbOption = None) -> None:
    """Delete data past its retention period (run daily, e.g. from cron)."""
    settings = surveys_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
        async with maker() as session, session.begin():
            counts = await service.purge_expired(
                session,
                utc_now(),
                inbox_days=settings.inbox_retention_days,
                quarantine_days=settings.quarantine_retention_days,
            )
            counts["login_failures"] = await accounts.purge_login_failures(session, utc_now())
            return counts

    counts = _with_session(_url(database_url), work)
    console.print("Deleted: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, database_url: DbOption = None) -> None:
    """Serve the dashboard, API and web chat."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        surveys_settings.cache_clear()
    uvicorn.run("jeugdstem.asgi:create_app", factory=True, host=host, port=port, log_level="info")


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    database_url: Annotated[
        str, typer.Option("--database-url")
    ] = "sqlite+aiosqlite:///var/demo.db",
    serve_app: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Migrate a demo database, load the fictional demo data, serve and print the URLs."""
    url = _url(database_url)
    db.upgrade(url)

    async def work(
        maker: async_sessionmaker[AsyncSession],
    ) -> tuple[DemoLinks, bool, list[tuple[str, str, str]]]:
        async with maker() as session, session.begin():
            links, created = await seed_demo(session)
            users = await seed_demo_users(session)
        if created:  # themes for the dashboard, so a newcomer sees more than empty pages
            for code in (links.jongeren, links.ouders):
                async with maker() as session:
                    round_ = await service.find_round(session, code)
                await jobs.summarise_round(maker, round_.id)
        return links, created, users

    links, created, users = _with_session(url, work)
    base = f"http://{host}:{port}"
    console.print(
        "[bold]Jeugdstem demo[/bold] "
        + ("(demo data loaded, themes clustered)" if created else "(existing demo data)")
    )
    console.print(f"  Admin (log in):              {base}/admin/login")
    console.print(f"  Web chat, jongeren:          {base}/chat/{links.jongeren}")
    console.print(f"  Web chat, ouders:            {base}/chat/{links.ouders}")
    console.print(f"  Exit ticket (bouwsteen 5):   {base}/chat/{links.exit_ticket}")
    console.print(f"  API docs (after login):      {base}/docs")
    console.print("  Demo accounts (fictional municipality 'Demostad'):")
    for email, password, role in users:
        console.print(
            f"    {role:18} {email:36} password: {password}", markup=False, soft_wrap=True
        )
    if serve_app:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("ADMIN_PUBLIC_BASE_URL", base)
        surveys_settings.cache_clear()
        uvicorn.run(
            "jeugdstem.asgi:create_app", factory=True, host=host, port=port, log_level="warning"
        )


@app.command()
def chat(
    code: Annotated[str | None, typer.Argument(help="Start code of a round.")] = None,
    database_url: DbOption = None,
) -> None:
    """Chat with the bot in the terminal (same engine and database as the web chat)."""
    config = engine_config(bot_settings(), surveys_settings())

    def read() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None

    def write(text: str) -> None:
        console.print(text, markup=False, highlight=False)
        console.print()

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        await run_terminal(maker, config, read=read, write=write, code=code)

    _with_session(_url(database_url), work)
