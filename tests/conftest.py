"""Shared fixtures: databases (SQLite and PostgreSQL, migrated once per run) and sessions."""

from __future__ import annotations

import asyncio
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
