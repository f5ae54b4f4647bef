"""Safeguarding at intake: help first, pause, encrypted quarantine, never an answer (SAFE-*)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import engine as engine_module
from bot.engine.catalogue import default_catalogue
from bot.engine.engine import EngineConfig, handle
from bot.engine.flow import CONSENT_YES, CONTINUE, PARENT_YES, Progress, RoundContext, step
from bot.engine.messages import Inbound, Quarantine, StopContact, UnlinkContact
from surveys import service
from surveys.definitions import load_templates
from surveys.exceptions import Conflict
from surveys.models import Answer, AuditLog, Contact, SafeguardingSignal
from surveys.privacy.pii import scrub
from surveys.privacy.quarantine import generate_key
from tests.factories import create_municipality, create_round

CAT = default_catalogue()
JONGEREN = load_templates()["bouwsteen1-jongeren"]
QKEY = generate_key()
CFG = EngineConfig(
    pepper="test-pepper-0123456789abcdef",
    quarantine_key=QKEY,
    scrub=lambda text, schools: scrub(text, schools=schools).text,
)
CRISIS = "ik wil niet meer leven"


def run(
    texts: list[str | tuple[str, str]], ctx: RoundContext | None = None
) -> tuple[Progress, list]:
    progress = Progress()
    steps = []
    for i, item in enumerate(texts):
        text, choice = (None, item[1]) if isinstance(item, tuple) else (item, None)
        s = step(
            JONGEREN,
            progress,
            Inbound("t", "a", str(i), text=text, choice=choice),
            context=ctx or RoundContext(),
            catalogue=CAT,
        )
        progress = s.progress
        steps.append(s)
    return progress, steps


class TestPureFlow:
    def test_crisis_in_free_text_gives_help_and_pauses(self) -> None:
        progress, steps = run(["/start", ("", CONSENT_YES), "1", "overslaan", "3", CRISIS])
        last = steps[-1]
        assert "113" in last.outbound[0].text and "0800-0113" in last.outbound[0].text
        assert [c.value for c in last.outbound[1].choices] == [CONTINUE, "cmd:stop"]
        assert last.effects == (Quarantine(CRISIS, "crisis", "suicide", question_key="zorg"),)
        assert progress.state == "paused" and progress.current == "zorg"
        assert len(last.outbound) == 2  # help card and continue/stop: no probing question

    def test_continue_reasks_the_same_question_and_stop_stops(self) -> None:
        progress, steps = run(
            ["/start", ("", CONSENT_YES), "1", "overslaan", "3", CRISIS, ("", CONTINUE)]
        )
        assert steps[-1].outbound[0].question_key == "zorg" and progress.state == "asking"
        progress, steps = run(
            ["/start", ("", CONSENT_YES), "1", "overslaan", "3", CRISIS, ("", "cmd:stop")]
        )
        assert steps[-1].effects == (StopContact(),) and progress.state == "stopped"

    def test_signal_at_a_choice_question_also_helps(self) -> None:
        progress, steps = run(
            ["/start", ("", CONSENT_YES), "mijn stiefvader slaat me als mama weg is"]
        )
        assert "0800-2000" in steps[-1].outbound[0].text and progress.state == "paused"

    def test_signal_without_conversation(self) -> None:
        s = step(
            None,
            Progress(),
            Inbound("t", "a", "1", text="z3lfm00rd"),
            context=RoundContext(),
            catalogue=CAT,
        )
        assert "113" in s.outbound[0].text and isinstance(s.effects[0], Quarantine)

    def test_colloquial_phrase_is_an_ordinary_answer(self) -> None:
        progress, steps = run(
            [
                "/start",
                ("", CONSENT_YES),
                "1",
                "overslaan",
                "3",
                "ik ga dood van het lachen om die les",
            ]
        )
        assert progress.current == "kans" and not any(
            isinstance(e, Quarantine) for e in steps[-1].effects
        )

    def test_help_card_never_claims_a_human_reads(self) -> None:
        _, steps = run(["hulp", CRISIS])
        for s in steps:
            text = s.outbound[0].text.lower()
            assert "niemand leest live mee" in text or "leest niemand live mee" in text


class TestUnder16:
    def test_parent_consent_path(self) -> None:
        ctx = RoundContext(under16="parent_consent")
        progress, steps = run(["/start", ("", CONSENT_YES), "12-15"], ctx)
        assert progress.state == "parent_consent"
        assert [c.value for c in steps[-1].outbound[0].choices] == [PARENT_YES, "cmd:stop"]
        progress, steps = run(["/start", ("", CONSENT_YES), "12-15", ("", PARENT_YES)], ctx)
        assert steps[-1].outbound[0].question_key == "wijk" and progress.under16

    def test_sixteen_plus_is_not_asked_for_parent_consent(self) -> None:
        progress, _ = run(
            ["/start", ("", CONSENT_YES), "16-17"], RoundContext(under16="parent_consent")
        )
        assert progress.current == "wijk" and not progress.under16

    def test_anonymous_path_unlinks_on_completion(self) -> None:
        ctx = RoundContext(under16="anonymous")
        answers = [
            "/start",
            ("", CONSENT_YES),
            "12-15",
            "overslaan",
            "3",
            "overslaan",
            "overslaan",
            "3",
            "overslaan",
            "ja",
        ]
        progress, steps = run(answers, ctx)
        assert "jonger dan 16" in steps[2].outbound[0].text
        assert progress.state == "done" and UnlinkContact() in steps[-1].effects


async def _chat(maker: async_sessionmaker[AsyncSession], code: str, texts: list) -> list:
    results = []
    for i, item in enumerate([f"/start {code}", ("", CONSENT_YES), *texts]):
        text, choice = (None, item[1]) if isinstance(item, tuple) else (item, None)
        async with maker() as s, s.begin():
            results.append(
                await handle(
                    s, Inbound("web", "kid", f"e{i}", text=text, choice=choice), config=CFG
                )
            )
    return results


class TestShell:
    async def test_signal_is_quarantined_encrypted_and_never_an_answer(self, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await _chat(sessionmaker, r.start_code, ["1", "overslaan", "3", CRISIS])
        async with sessionmaker() as s:
            answers = (await s.scalars(select(Answer))).all()
            signal = (await s.scalars(select(SafeguardingSignal))).one()
        assert all(CRISIS not in (a.text or "") for a in answers)
        assert {a.question_key for a in answers} == {"leeftijd", "welbevinden"}
        assert CRISIS.encode() not in signal.ciphertext and signal.category == "crisis"
        async with sessionmaker() as s, s.begin():
            items = await service.read_quarantine(
                s,
                key=QKEY,
                municipality_id=r.municipality_id,
                actor="lead@gemeente",
                reason="wekelijkse controle",
            )
        assert [i.text for i in items] == [CRISIS]
        async with sessionmaker() as s:
            audit = (
                await s.scalars(select(AuditLog).where(AuditLog.action == "quarantine.read"))
            ).one()
        assert audit.detail["reason"] == "wekelijkse controle" and audit.actor == "lead@gemeente"

    async def test_other_municipality_reads_nothing_and_reason_is_required(
        self, sessionmaker
    ) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
            other = await create_municipality(s, slug="elders", name="Elders")
        await _chat(sessionmaker, r.start_code, [CRISIS])
        async with sessionmaker() as s, s.begin():
            assert (
                await service.read_quarantine(
                    s, key=QKEY, municipality_id=other.id, actor="x", reason="nieuwsgierig"
                )
                == []
            )
            with pytest.raises(Conflict):
                await service.read_quarantine(
                    s, key=QKEY, municipality_id=r.municipality_id, actor="x", reason=""
                )

    async def test_help_is_sent_even_if_the_quarantine_write_fails(
        self, sessionmaker, monkeypatch
    ) -> None:
        async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk full")

        monkeypatch.setattr(engine_module.service, "quarantine_text", broken)
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        results = await _chat(sessionmaker, r.start_code, [CRISIS])
        assert "113" in results[-1].outbound[0].text
        async with sessionmaker() as s:
            pending = await service.pending_messages(s, channel="web", address="kid")
            assert any("113" in p.payload["text"] for p in pending)
            assert await s.scalar(select(func.count()).select_from(SafeguardingSignal)) == 0

    async def test_erase_also_removes_quarantined_texts(self, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s)
        await _chat(sessionmaker, r.start_code, [CRISIS, "verwijder", ("", "cmd:erase-yes")])
        async with sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(SafeguardingSignal)) == 0
            assert await s.scalar(select(func.count()).select_from(Contact)) == 0

    async def test_anonymous_under16_keeps_answers_but_no_contact(self, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s, scope={"wijk": ["Noord"], "under16": "anonymous"})
        await _chat(
            sessionmaker,
            r.start_code,
            ["12-15", "overslaan", "3", "overslaan", "overslaan", "3", "overslaan", "ja"],
        )
        async with sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Contact)) == 0
            assert await s.scalar(select(func.count()).select_from(Answer)) == 4
