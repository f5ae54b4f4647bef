"""Plain async helpers that create test data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from surveys import service
from surveys.definitions import load_templates
from surveys.models import Activity, Municipality, Round, RoundStatus

WIJKEN = ["Centrum", "Noord", "Oost", "Zuid", "West"]


async def create_municipality(session: AsyncSession, **overrides: Any) -> Municipality:
    values: dict[str, Any] = {"slug": "testdorp", "name": "Gemeente Testdorp"}
    values.update(overrides)
    return await service.create_municipality(session, **values)


async def create_round(
    session: AsyncSession,
    *,
    municipality: Municipality | None = None,
    template: str = "bouwsteen1-jongeren",
    status: RoundStatus = RoundStatus.open,
    **overrides: Any,
) -> Round:
    municipality = municipality or await create_municipality(session)
    definition = await service.register_definition(session, load_templates()[template])
    values: dict[str, Any] = {
        "title": f"Test {template}",
        "audience": ["jongeren"],
        "scope": {"wijk": WIJKEN},
    }
    values.update(overrides)
    round_ = await service.create_round(
        session, municipality_id=municipality.id, definition=definition, **values
    )
    if status != RoundStatus.draft:
        await service.set_round_status(session, round_, RoundStatus.open)
    if status == RoundStatus.closed:
        await service.set_round_status(session, round_, RoundStatus.closed)
    return round_


async def create_activity(session: AsyncSession, round_: Round, **overrides: Any) -> Activity:
    values: dict[str, Any] = {"name": "Voetbaltoernooi"}
    values.update(overrides)
    return await service.create_activity(session, round_=round_, **values)
