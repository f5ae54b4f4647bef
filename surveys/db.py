"""Engine and session factories; migrations.

The edge (a web request, an inbound message, a job) owns the session and its transaction;
nothing in here commits on its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Map plain ``postgresql://`` and ``sqlite://`` URLs to their async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg2://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    """Tell whether ``url`` points at SQLite."""
    return normalise_url(url).startswith("sqlite")


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """Enable foreign keys and WAL, and make every transaction ``BEGIN IMMEDIATE``.

    SQLite's deferred transactions let two writers read the same conversation and then fail
    (or overwrite) on write; taking the write lock at BEGIN serialises units of work instead,
    the SQLite equivalent of the row lock used on PostgreSQL.
    """
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(sync, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file (``var/`` on a fresh clone)."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """Create the process's async engine for ``url`` (SQLite or PostgreSQL)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        # One connection, handed out in FIFO order: SQLite has one writer anyway, and queueing
        # in the pool is fairer and faster than its busy-wait back-off under concurrency.
        engine = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60)
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def _run_alembic(action: str, url: str, revision: str) -> None:
    from alembic import command

    if is_sqlite(url):
        _ensure_sqlite_folder(normalise_url(url))
    cfg = _alembic_config(url)
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (synchronous; call from a thread in async code)."""
    _run_alembic("upgrade", url, revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    _run_alembic("downgrade", url, revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Apply migrations from async code (Alembic runs its own event loop in a thread)."""
    await asyncio.to_thread(upgrade, url, revision)
