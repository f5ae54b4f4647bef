"""Rounds: live response counts (JSON)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from admin.deps import Session
from surveys import service
from surveys.models import utc_now

router = APIRouter(prefix="/admin/api", tags=["rounds"])


class RoundRead(BaseModel):
    """A round with its live counts."""

    id: str
    municipality: str
    title: str
    bouwsteen: int
    audience: list[str]
    status: str
    start_code: str
    opens_at: datetime | None
    closes_at: datetime | None
    started: int
    completed: int
    answers: int


async def read_rounds(session: Session) -> list[RoundRead]:
    """Load every round with its counts."""
    return [
        RoundRead(
            id=str(rc.round.id),
            municipality=rc.municipality,
            title=rc.round.title,
            bouwsteen=rc.round.bouwsteen,
            audience=list(rc.round.audience),
            status=service.round_status(rc.round, utc_now()),
            start_code=rc.round.start_code,
            opens_at=rc.round.opens_at,
            closes_at=rc.round.closes_at,
            started=rc.started,
            completed=rc.completed,
            answers=rc.answers,
        )
        for rc in await service.list_rounds(session)
    ]


@router.get("/rounds", response_model=list[RoundRead])
async def list_rounds(session: Session) -> list[RoundRead]:
    """List rounds with started and completed conversations and stored answers."""
    return await read_rounds(session)
