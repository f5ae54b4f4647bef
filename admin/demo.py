"""Demo staff accounts for ``jeugdstem demo`` (fictional municipality only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys import accounts, service
from surveys.demo import DEMO_SLUG
from surveys.models import Round, StaffRole, User

DEMO_PASSWORD = "demo-wachtwoord-2024"


async def seed_demo_users(session: AsyncSession) -> list[tuple[str, str, str]]:
    """Create one demo user per role in the demo municipality (idempotent).

    The jongerenwerker owns the demo exit-ticket round. Returns ``(email, password, role)`` for
    the demo command to print; the password is a fixed, public demo value.
    """
    town = await service.get_municipality(session, DEMO_SLUG)
    created: list[tuple[str, str, str]] = []
    for role in StaffRole:
        email = f"{role.value}@demostad.example"
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = await accounts.create_user(
                session,
                municipality_id=town.id,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                name=f"Demo {role.value}",
                actor="demo",
            )
            if role == StaffRole.jongerenwerker:
                exit_round = await session.scalar(
                    service.scoped(select(Round), town.id).where(Round.start_code == "demo-exit")
                )
                if exit_round is not None:
                    await accounts.add_round_owner(
                        session, municipality_id=town.id, round_id=exit_round.id, user_id=user.id
                    )
        created.append((email, DEMO_PASSWORD, role.value))
    return created
