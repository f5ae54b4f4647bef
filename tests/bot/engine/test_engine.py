"""The async shell on SQLite and PostgreSQL: dedupe, locking, answers, erase, stop, resume."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.engine import EngineConfig, handle
from bot.engine.flow import CONSENT_YES, ERASE_YES
from bot.engine.messages import Inbound
from surveys import service
from surveys.models import (
    Answer,
    AuditLog,
    Contact,
    ContactStatus,
    Conversation,
    OutboxMessage,
    Participant,
    RoundStatus,
)
from surveys.privacy.pii import scrub
from surveys.privacy.quarantine import generate_key
from tests.factories import create_activity, create_round

QKEY = generate_key()
CFG = EngineConfig(
    pepper="test-pepper-0123456789abcdef",
    quarantine_key=QKEY,
    scrub=lambda text, schools: scrub(text, schools=schools).text,
)


class Chat:
    """Drives the shell like a channel would, one transaction per message."""

    def __init__(self, maker: async_sessionmaker[AsyncSession], address: str = "user-1") -> None:
        self.maker = maker
        self.address = address
        self.n = 0

    async def send(
        self, text: str | None = None, *, choice: str | None = None, event: str | None = None
    ):
        self.n += 1
        inbound = Inbound(
            "web", self.address, event or f"{self.address}-{self.n}", text=text, choice=choice
        )
        async with self.maker() as session, session.begin():
            return await handle(session, inbound, config=CFG)


async def count(maker: async_sessionmaker[AsyncSession], model, *where) -> int:  # type: ignore[no-untyped-def]
    async with maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def open_round(maker: async_sessionmaker[AsyncSession], **kw):  # type: ignore[no-untyped-def]
    async with maker() as session, session.begin():
        return await create_round(session, **kw)


class TestHandle:
    async def test_full_round_stores_scrubbed_answers(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {r.start_code}")
        await chat.send(choice=CONSENT_YES)
        for answer in ["1", "Noord", "3", "bel me 06-12345678", "overslaan", "2", "1,2", "ja"]:
            result = await chat.send(answer)
        assert result.outbound[-1].question_key is None
        async with sessionmaker() as s:
            answers = {a.question_key: a for a in (await s.scalars(select(Answer))).all()}
            conv = (await s.scalars(select(Conversation))).one()
        assert set(answers) == {
            "leeftijd",
            "wijk",
            "welbevinden",
            "zorg",
            "veilig",
            "vrije_tijd",
            "vertrouwen",
        }
        assert answers["zorg"].text == "bel me [telefoon]" and answers["zorg"].kind == "zorg"
        assert answers["wijk"].value == "noord"
        assert conv.completed_at is not None and conv.state == "done"
        assert await count(sessionmaker, OutboxMessage) == 10  # one reply per message

    async def test_duplicate_event_one_answer_one_reply(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {r.start_code}")
        await chat.send(choice=CONSENT_YES)
        first = await chat.send("1", event="dup")
        again = await chat.send("1", event="dup")
        assert not first.duplicate and again.duplicate and again.outbound == ()
        assert await count(sessionmaker, Answer) == 1
        assert await count(sessionmaker, OutboxMessage) == 3

    async def test_concurrent_duplicates(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {r.start_code}")
        await chat.send(choice=CONSENT_YES)
        results = await asyncio.gather(*(chat.send("2", event="same") for _ in range(5)))
        assert sum(not res.duplicate for res in results) == 1
        assert await count(sessionmaker, Answer) == 1
        assert await count(sessionmaker, OutboxMessage) == 3

    async def test_concurrent_different_messages_are_serialised(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {r.start_code}")
        await chat.send(choice=CONSENT_YES)
        await asyncio.gather(chat.send("1", event="a"), chat.send("Noord", event="b"))
        async with sessionmaker() as s:
            conv = (await s.scalars(select(Conversation))).one()
        answers = await count(sessionmaker, Answer)
        # "1" then "Noord": two answers. "Noord" first is invalid for the age question: one.
        assert (conv.progress["current"], answers) in {("welbevinden", 2), ("wijk", 1)}

    async def test_unknown_code(self, sessionmaker) -> None:
        result = await Chat(sessionmaker).send("/start NOPE-NOPE")
        assert "code ken ik niet" in result.outbound[0].text
        assert await count(sessionmaker, Conversation) == 0

    async def test_typed_code_starts_round(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        result = await Chat(sessionmaker).send(r.start_code)
        assert result.outbound[0].choices[0].value == CONSENT_YES

    async def test_closed_round(self, sessionmaker) -> None:
        r = await open_round(sessionmaker, status=RoundStatus.closed)
        result = await Chat(sessionmaker).send(f"/start {r.start_code}")
        assert "gesloten" in result.outbound[0].text

    async def test_activity_code_opens_exit_ticket(self, sessionmaker) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s, template="bouwsteen5-exit-ticket")
            act = await create_activity(s, r)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {act.start_code}")
        await chat.send(choice=CONSENT_YES)
        async with sessionmaker() as s:
            conv = (await s.scalars(select(Conversation))).one()
        assert conv.activity_id == act.id and conv.subject == str(act.id)

    async def test_resume_after_restart(self, sessionmaker, engine) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {r.start_code}")
        await chat.send(choice=CONSENT_YES)
        await chat.send("1")
        await engine.dispose()  # a restart: all connections gone, nothing kept in memory
        fresh = Chat(async_sessionmaker(engine, expire_on_commit=False))
        fresh.n = chat.n
        result = await fresh.send("/start")
        assert result.outbound[0].question_key == "wijk"
        assert await count(sessionmaker, Answer) == 1

    async def test_pseudonymous_contact(self, sessionmaker) -> None:
        await Chat(sessionmaker, address="12345").send("hulp")
        async with sessionmaker() as s:
            contact = (await s.scalars(select(Contact))).one()
        assert contact.address_key != "12345" and len(contact.address_key) == 64


class TestStopAndErase:
    async def test_stop_cancels_queued_messages(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        await chat.send(f"/start {r.start_code}")
        await chat.send("stop")
        async with sessionmaker() as s:
            statuses = [
                m.status
                for m in (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
            ]
            contact = (await s.scalars(select(Contact))).one()
        assert statuses == ["cancelled", "pending"]  # the stop confirmation itself still goes out
        assert contact.status == ContactStatus.stopped.value
        await chat.send("/start")
        async with sessionmaker() as s:
            assert (await s.scalars(select(Contact))).one().status == ContactStatus.active.value

    async def test_erase_removes_everything_in_one_transaction(self, sessionmaker) -> None:
        r = await open_round(sessionmaker)
        chat = Chat(sessionmaker)
        other = Chat(sessionmaker, address="someone-else")
        for c in (chat, other):
            await c.send(f"/start {r.start_code}")
            await c.send(choice=CONSENT_YES)
            await c.send("1")
        await chat.send("verwijder")
        result = await chat.send(choice=ERASE_YES)
        assert "gewist" in result.outbound[0].text
        assert await count(sessionmaker, Participant) == 1
        assert await count(sessionmaker, Contact) == 1
        assert await count(sessionmaker, Conversation) == 1
        assert await count(sessionmaker, Answer) == 1
        assert await count(sessionmaker, AuditLog, AuditLog.action == "participant.erased") == 1
        # the confirmation is still delivered to the (now unknown) address
        async with sessionmaker() as s:
            pending = await service.pending_messages(s, channel="web", address="user-1")
        assert [p.payload["text"] for p in pending][-1] == result.outbound[0].text
        # and starting again makes a brand-new participant
        await chat.send(f"/start {r.start_code}")
        assert await count(sessionmaker, Participant) == 2
