"""Round summaries stored in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from aggregation import jobs
from bot.engine.engine import EngineConfig, handle
from bot.engine.flow import CONSENT_YES
from bot.engine.messages import Inbound
from surveys import service
from surveys.demo import seed_demo
from surveys.models import Answer, AnswerTheme, Participant, ThemeRun
from surveys.privacy.quarantine import generate_key

CANARY = "ik wil niet meer leven kanarie"


async def _seed(sessionmaker):  # type: ignore[no-untyped-def]
    async with sessionmaker() as s, s.begin():
        links, _ = await seed_demo(s)
        return await service.find_round(s, links.jongeren)


class TestSummariseRound:
    async def test_stores_run_memberships_and_suppressed_summary(self, sessionmaker) -> None:
        round_ = await _seed(sessionmaker)
        # a participant whose crisis text goes to quarantine, never into clustering
        cfg = EngineConfig(pepper="test-pepper-0123456789abcdef", quarantine_key=generate_key())
        for i, kw in enumerate(
            [
                {"text": f"/start {round_.start_code}"},
                {"choice": CONSENT_YES},
                {"text": "1"},
                {"text": "overslaan"},
                {"text": "3"},
                {"text": CANARY},
            ]
        ):
            async with sessionmaker() as s, s.begin():
                await handle(s, Inbound("web", "canary", f"c{i}", **kw), config=cfg)

        run_id = await jobs.summarise_round(sessionmaker, round_.id, k_min=10)
        async with sessionmaker() as s:
            run = await s.get(ThemeRun, run_id)
            text_answers = await s.scalar(
                select(func.count())
                .select_from(Answer)
                .where(Answer.round_id == round_.id, Answer.text.is_not(None))
            )
            primaries = await s.scalar(
                select(func.count())
                .select_from(AnswerTheme)
                .where(AnswerTheme.run_id == run_id, AnswerTheme.primary.is_(True))
            )
        assert run is not None and run.model is not None
        assert primaries == text_answers  # every free-text answer assigned exactly once
        themes = run.summary["themes"]
        assert themes and all(t["size"] == "suppressed" or t["size"] >= 10 for t in themes)
        assert CANARY not in str(run.summary)
        for t in themes:
            if t["size"] == "suppressed":
                assert t["quote_answer_ids"] == []
            assert "quotes" not in t

    async def test_incremental_assignment_and_erasure(self, sessionmaker) -> None:
        round_ = await _seed(sessionmaker)
        run_id = await jobs.summarise_round(sessionmaker, round_.id, k_min=10)
        assert await jobs.assign_new_answers(sessionmaker, round_.id) == 0
        cfg = EngineConfig(pepper="test-pepper-0123456789abcdef", quarantine_key=generate_key())
        for i, kw in enumerate(
            [
                {"text": f"/start {round_.start_code}"},
                {"choice": CONSENT_YES},
                {"text": "1"},
                {"text": "overslaan"},
                {"text": "3"},
                {"text": "Zoveel huiswerk en stress voor toetsen op school, echt te veel"},
            ]
        ):
            async with sessionmaker() as s, s.begin():
                await handle(s, Inbound("web", "late", f"l{i}", **kw), config=cfg)
        assert await jobs.assign_new_answers(sessionmaker, round_.id) == 1
        async with sessionmaker() as s:
            late = (
                await s.scalars(select(Answer).where(Answer.text.like("Zoveel huiswerk%")))
            ).one()
            membership = (
                await s.scalars(select(AnswerTheme).where(AnswerTheme.answer_id == late.id))
            ).all()
            assert membership and membership[0].run_id == run_id
            participant = await s.get(Participant, late.participant_id)
        async with sessionmaker() as s, s.begin():  # /verwijder removes memberships too
            await service.erase_participant(s, participant.id)
        async with sessionmaker() as s:
            left = await s.scalar(
                select(func.count())
                .select_from(AnswerTheme)
                .where(AnswerTheme.answer_id == late.id)
            )
        assert left == 0
