"""Admin fixtures: an app per test, two municipalities with a user of every role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from admin.app import create_app
from admin.deps import SESSION_COOKIE
from admin.settings import AdminSettings
from surveys import accounts
from surveys.models import StaffRole
from tests.factories import create_municipality

PASSWORD = "correct horse battery"


@dataclass
class Staff:
    id: uuid.UUID
    email: str
    role: StaffRole
    municipality_id: uuid.UUID
    cookie: str = ""
    csrf: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf}


@dataclass
class Tenant:
    id: uuid.UUID
    slug: str
    users: dict[StaffRole, Staff] = field(default_factory=dict)


def make_settings(**overrides: object) -> AdminSettings:
    values: dict[str, object] = {"JEUGDSTEM_ENV": "test", "cookie_secure": False, "k_min": 5}
    if "environment" in overrides:
        overrides["JEUGDSTEM_ENV"] = overrides.pop("environment")
    values.update(overrides)
    return AdminSettings.model_validate(values)


@pytest.fixture
def settings() -> AdminSettings:
    return make_settings()


@pytest.fixture
async def client(engine, sessionmaker, settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        engine=engine,
        sessionmaker=sessionmaker,
        settings=settings,
        quarantine_key="test-quarantine-key-0123456789abcdef",
    )
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def seed_tenant(sessionmaker, slug: str) -> Tenant:
    async with sessionmaker() as s, s.begin():
        town = await create_municipality(s, slug=slug, name=f"Gemeente {slug.title()}")
        tenant = Tenant(town.id, slug)
        for role in StaffRole:
            user = await accounts.create_user(
                s,
                municipality_id=town.id,
                email=f"{role.value}@{slug}.nl",
                password=PASSWORD,
                role=role,
            )
            raw, row = await accounts.create_session(s, user)
            tenant.users[role] = Staff(user.id, user.email, role, town.id, raw, row.csrf_token)
    return tenant


@pytest.fixture
async def tenants(sessionmaker) -> dict[str, Tenant]:
    """Two municipalities, each with one logged-in user per role."""
    return {slug: await seed_tenant(sessionmaker, slug) for slug in ("noorddorp", "zuidstad")}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~50 ms per hash; the tests create many users."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))
