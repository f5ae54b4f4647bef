"""Migrations go up and down on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from surveys import db
from surveys.models import Base
from tests.conftest import PG_ADMIN_URL, _pg_url


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = db.create_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(run())


def _diff(url: str) -> list[object]:
    async def run() -> list[object]:
        engine = db.create_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(run())


def _roundtrip(url: str) -> None:
    db.upgrade(url)
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= _tables(url)
    assert _diff(url) == []  # the migrations create exactly what the models describe
    db.downgrade(url, "base")
    assert _tables(url) <= {"alembic_version"}
    db.upgrade(url)
    assert expected <= _tables(url)


class TestMigrations:
    def test_sqlite_up_down_up(self, tmp_path) -> None:
        _roundtrip(f"sqlite+aiosqlite:///{tmp_path}/m.db")

    def test_postgresql_up_down_up(self) -> None:
        name = f"jeugdstem_mig_{uuid.uuid4().hex[:8]}"

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect(PG_ADMIN_URL)
            await conn.execute(sql)
            await conn.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        try:
            _roundtrip(_pg_url(name))
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_upgrade_creates_the_sqlite_folder(tmp_path) -> None:
    """A fresh clone has no var/ folder; `jeugdstem demo` must still work."""
    url = f"sqlite+aiosqlite:///{tmp_path}/not/yet/there/x.db"
    db.upgrade(url)
    assert (tmp_path / "not" / "yet" / "there" / "x.db").exists()
