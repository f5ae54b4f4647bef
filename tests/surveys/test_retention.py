"""Retention: data past its period is deleted (PRIV-07), with a fixed clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.engine.engine import EngineConfig, handle
from bot.engine.flow import CONSENT_YES
from bot.engine.messages import Inbound
from surveys import service
from surveys.models import (
    Answer,
    Conversation,
    OutboxMessage,
    Participant,
    ProcessedEvent,
    RoundStatus,
    SafeguardingSignal,
    utc_now,
)
from surveys.privacy.quarantine import generate_key
from tests.factories import create_round

CFG = EngineConfig(pepper="test-pepper-0123456789abcdef", quarantine_key=generate_key())


async def _count(maker, model) -> int:  # type: ignore[no-untyped-def]
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


class TestPurgeExpired:
    async def test_everything_past_retention_is_gone(self, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s, retention_days=30)
        for i, kw in enumerate(
            [
                {"text": f"/start {r.start_code}"},
                {"choice": CONSENT_YES},
                {"text": "1"},
                {"text": "ik wil niet meer leven"},
            ]
        ):
            async with sessionmaker() as s, s.begin():
                await handle(s, Inbound("web", "p1", f"e{i}", **kw), config=CFG)
        async with sessionmaker() as s, s.begin():
            await service.mark_delivered(s, channel="web", address="p1", up_to=10**9)
            await service.set_round_status(
                s, await service.find_round(s, r.start_code), RoundStatus.closed
            )
        assert await _count(sessionmaker, Answer) == 1

        async with sessionmaker() as s, s.begin():  # tomorrow: only nothing is due yet
            counts = await service.purge_expired(s, utc_now() + timedelta(days=1))
        assert counts["answers"] == 0 and await _count(sessionmaker, ProcessedEvent) == 4

        async with sessionmaker() as s, s.begin():  # in 8 days: inbox and sent outbox are gone
            await service.purge_expired(s, utc_now() + timedelta(days=8))
        assert await _count(sessionmaker, ProcessedEvent) == 0
        assert await _count(sessionmaker, OutboxMessage) == 0
        assert await _count(sessionmaker, SafeguardingSignal) == 1

        async with sessionmaker() as s, s.begin():  # in 31 days: quarantine, answers, participants
            counts = await service.purge_expired(s, utc_now() + timedelta(days=31))
        assert counts["answers"] == 1
        for model in (SafeguardingSignal, Answer, Conversation):
            assert await _count(sessionmaker, model) == 0
        # the contact still exists (it was not erased), so its participant stays reachable
        assert await _count(sessionmaker, Participant) == 1

    async def test_open_round_within_retention_is_kept(self, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s, retention_days=365)
        for i, kw in enumerate(
            [{"text": f"/start {r.start_code}"}, {"choice": CONSENT_YES}, {"text": "1"}]
        ):
            async with sessionmaker() as s, s.begin():
                await handle(s, Inbound("web", "p2", f"e{i}", **kw), config=CFG)
        async with sessionmaker() as s, s.begin():
            await service.purge_expired(s, utc_now() + timedelta(days=100))
        assert await _count(sessionmaker, Answer) == 1
