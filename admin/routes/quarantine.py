"""The safeguarding quarantine: readable by the safeguarding role only, every read audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from admin.deps import ReadQuarantine, Session
from surveys import service
from surveys.accounts import Principal

router = APIRouter(prefix="/admin/api", tags=["safeguarding"])


class QuarantineRead(BaseModel):
    """Why the quarantine is opened (stored in the audit log)."""

    reason: Annotated[str, Field(min_length=5, max_length=500)]


class QuarantineItemRead(BaseModel):
    """One quarantined text."""

    id: str
    round_id: str | None
    category: str
    subtype: str | None
    text: str
    created_at: datetime


async def read_items(
    request: Request, session: AsyncSession, who: Principal, reason: str
) -> list[QuarantineItemRead]:
    """Decrypt the municipality's quarantine (audited with the reason)."""
    key = request.app.state.quarantine_key
    if not key:
        raise HTTPException(503, "the quarantine key is not configured")
    items = await service.read_quarantine(
        session, key=key, municipality_id=who.municipality_id, actor=who.actor, reason=reason
    )
    return [
        QuarantineItemRead(
            id=str(i.id),
            round_id=str(i.round_id) if i.round_id else None,
            category=i.category,
            subtype=i.subtype,
            text=i.text,
            created_at=i.created_at,
        )
        for i in items
    ]


@router.post("/quarantine/read", response_model=list[QuarantineItemRead])
async def read_quarantine(
    request: Request, data: QuarantineRead, session: Session, who: ReadQuarantine
) -> list[QuarantineItemRead]:
    """Read the safeguarding quarantine of your municipality; the reason is audited."""
    return await read_items(request, session, who, data.reason)
