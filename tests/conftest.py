"""Shared fixtures: databases (SQLite and PostgreSQL, migrated once per run) and sessions."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from surveys import db
from surveys.models import Base

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole run (migrations run here)."""
    sqlite_path = Path(tmp_path_factory.mktemp("db")) / "test.db"
    pg_name = f"jeugdstem_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
    urls = {"sqlite": f"sqlite+aiosqlite:///{sqlite_path}", "postgresql": _pg_url(pg_name)}
    for url in urls.values():
        db.upgrade(url)
    yield urls
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def engines(database_urls: dict[str, str]) -> AsyncIterator[dict[str, AsyncEngine]]:
    made = {name: db.create_engine(url) for name, url in database_urls.items()}
    yield made
    for engine in made.values():
        await engine.dispose()


@pytest.fixture
def engine(engines: dict[str, AsyncEngine], backend: str) -> AsyncEngine:
    return engines[backend]


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        maker = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        async with maker() as s:
            yield s
        await outer.rollback()


@pytest.fixture
async def sessionmaker(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A real session factory (commits are real); every table is emptied afterwards."""
    yield db.create_sessionmaker(engine)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


# --- SEC-13: a log capture over the whole run holds no answer text, token or secret ----------

LOG_SECRETS = [
    "test-pepper-0123456789abcdef",  # the pepper the tests use
    "42:TEST",  # the fake bot token
    "ik wil niet meer leven",  # answer texts the tests send
    "bel me 06-12345678",
    "Weinig te doen in de avond",
    "Te veel toetsen tegelijk",
]


class _LogRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is still worth scanning
            text = str(record.msg)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS}
        exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.lines.append(f"{record.name} {text} {extras} {exc}")


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}
_RECORDER = _LogRecorder()


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_RECORDER)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)  # what production logs; DEBUG would be a choice to review


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = [
        (secret, line[:200]) for line in _RECORDER.lines for secret in LOG_SECRETS if secret in line
    ]
    if leaks:
        print("\nSEC-13: secrets or answer text found in logs:")
        for secret, line in leaks[:20]:
            print(f"  {secret!r} in: {line}")
        session.exitstatus = 1
