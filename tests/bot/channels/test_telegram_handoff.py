# ruff: noqa: F811  (fixtures imported from test_telegram_fixtures are parameters here)
"""Replies committed already leased and handed to the in-process sender (no claim), and the
fall-backs: no sender running, a sender that disappears with leased rows, a full sender."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, text, update

from bot.channels.sender import OutboxSender
from bot.channels.telegram import TelegramApp, TelegramChannel, create_bot
from bot.engine.messages import Outbound
from surveys import outbox, service
from surveys.models import Answer, Conversation, OutboxMessage, utc_now
from surveys.outbox import ClaimedMessage
from tests.bot.channels.test_telegram_fixtures import (  # noqa: F401 - fixtures
    FAST,
    TOKEN,
    Participant,
    client,
    fake,
    participant,
    tg,
)
from tests.factories import create_round


async def open_round(sessionmaker):  # type: ignore[no-untyped-def]
    async with sessionmaker() as s, s.begin():
        return await create_round(s)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def rows(sessionmaker) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with sessionmaker() as s:
        return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def settled(sessionmaker, timeout: float = 5.0) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    """Wait until no outbox row is pending any more; return all rows."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await rows(sessionmaker)
        if all(r.status != "pending" for r in found):
            return found
        assert loop.time() < deadline, "outbox rows still pending"
        await asyncio.sleep(0.01)


async def start_running(app: TelegramApp) -> None:
    app.start_sender()
    await until(lambda: app.sender.lease_until() is not None)


def texts(p: Participant) -> list[str]:
    return [c.params["text"] for c in p.sent]


class TestHandOff:
    async def test_full_conversation_reaches_telegram_without_a_claim(
        self, participant: Participant, tg: TelegramApp, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await start_running(tg)
        await participant.post(participant.message_update(f"/start {r.start_code}"))
        await settled(sessionmaker)
        for _ in range(15):
            if "Bedankt" in participant.last.params["text"]:
                break
            buttons = participant.buttons()
            if any(b["callback_data"].startswith("t:") for b in buttons):
                update = participant.message_update("1,2")  # multiple choice, typed
            elif buttons:
                update = participant.callback_update(participant.last, buttons[0]["callback_data"])
            else:
                update = participant.message_update("Meer plekken om te chillen")
            assert (await participant.post(update)).status_code == 200
            await settled(sessionmaker)
        assert "Bedankt" in participant.last.params["text"]

        stored = await settled(sessionmaker)
        assert len(stored) >= 10
        assert tg.sender.stats.claimed == 0
        assert tg.sender.stats.accepted == tg.sender.stats.sent == len(stored)
        assert {(r.status, r.attempts) for r in stored} == {("sent", 1)}
        assert all(r.sent_at is not None for r in stored)
        # each row reached Telegram exactly once, in order
        assert texts(participant) == [r.payload["text"] for r in stored]
        assert tg.batcher.messages == len(stored)  # one reply per message here
        async with sessionmaker() as s:
            conv = (await s.scalars(select(Conversation))).one()
            answers = await s.scalar(select(func.count()).select_from(Answer))
        assert conv.state == "done" and answers == 8

    async def test_without_a_running_sender_replies_wait_for_a_claim(
        self, participant: Participant, tg: TelegramApp, sessionmaker, monkeypatch
    ) -> None:
        r = await open_round(sessionmaker)
        woken: list[bool] = []
        monkeypatch.setattr(tg.sender, "notify", lambda: woken.append(True))
        assert tg.sender.lease_until() is None
        await participant.post(participant.message_update(f"/start {r.start_code}"))
        await participant.post(participant.message_update("ja"))
        queued = await rows(sessionmaker)
        assert [(q.status, q.attempts, q.next_attempt_at) for q in queued] == [
            ("pending", 0, None),
            ("pending", 0, None),
        ]
        assert woken == [True, True]  # the batch commit woke the (absent) claim loop
        assert participant.sent == []

        assert await tg.sender.drain() == 2
        assert texts(participant) == [q.payload["text"] for q in queued]
        assert (tg.sender.stats.claimed, tg.sender.stats.accepted) == (2, 0)
        assert {(q.status, q.attempts) for q in await rows(sessionmaker)} == {("sent", 1)}

    async def test_leased_rows_of_a_vanished_sender_go_out_once_after_the_lease(
        self, participant: Participant, tg: TelegramApp, fake, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        tg.sender.config = dataclasses.replace(FAST, lease_seconds=0.5)
        await start_running(tg)
        # The process dies right after the commit: the leased rows never reach its sender.
        tg.batcher.on_commit = lambda rows, leased: None
        await participant.post(participant.message_update(f"/start {r.start_code}"))
        await participant.post(participant.message_update("ja"))
        await tg.close()
        leased = await rows(sessionmaker)
        assert [(q.status, q.attempts) for q in leased] == [("pending", 1), ("pending", 1)]
        assert all(q.next_attempt_at > utc_now() for q in leased)
        assert tg.sender.stats.accepted == 0 and participant.sent == []

        restarted = create_bot(TOKEN, api_base=fake[1])
        other = OutboxSender(sessionmaker, TelegramChannel(restarted), FAST)
        try:
            assert await other.drain() == 0  # the lease still holds: nobody sends them
            assert participant.sent == []
            wait = max(q.next_attempt_at for q in leased) - utc_now()
            await asyncio.sleep(max(wait.total_seconds(), 0) + 0.05)
            assert await other.drain() == 2
            assert await other.drain() == 0
        finally:
            await restarted.session.close()
        assert texts(participant) == [q.payload["text"] for q in leased]
        assert {(q.status, q.attempts) for q in await rows(sessionmaker)} == {("sent", 2)}

    async def test_expired_lease_two_senders_send_each_row_once(
        self, participant: Participant, tg: TelegramApp, fake, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await start_running(tg)
        tg.batcher.on_commit = lambda rows, leased: None  # committed, never handed over
        await participant.post(participant.message_update(f"/start {r.start_code}"))
        await participant.post(participant.message_update("ja"))
        await participant.post(participant.message_update("2"))
        await tg.close()
        async with sessionmaker() as s, s.begin():  # the lease ran out
            await s.execute(
                update(OutboxMessage).values(next_attempt_at=utc_now() - timedelta(seconds=1))
            )
        bots = [create_bot(TOKEN, api_base=fake[1]) for _ in range(2)]
        senders = [OutboxSender(sessionmaker, TelegramChannel(b), FAST) for b in bots]
        try:
            claimed = await asyncio.gather(*(sender.drain() for sender in senders))
        finally:
            for b in bots:
                await b.session.close()
        assert sum(claimed) == 3
        stored = await rows(sessionmaker)
        assert texts(participant) == [q.payload["text"] for q in stored]
        assert {(q.status, q.attempts) for q in stored} == {("sent", 2)}


class Gate:
    """A channel whose deliveries wait until the test opens the gate."""

    name = "telegram"

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.sent: list[tuple[str, str]] = []

    async def deliver(self, address: str, message: Outbound, *, ref: int | None = None) -> None:
        await self.open.wait()
        self.sent.append((address, message.text))


async def leased_rows(sessionmaker, *texts_: str) -> list[ClaimedMessage]:  # type: ignore[no-untyped-def]
    until_ = utc_now() + timedelta(seconds=300)
    async with sessionmaker() as s, s.begin():
        ids = await service.enqueue_many(
            s,
            [{"channel": "telegram", "address": "7", "payload": {"text": t}} for t in texts_],
            lease_until=until_,
        )
    return [ClaimedMessage(i, "7", {"text": t}, 1) for i, t in zip(ids, texts_, strict=True)]


class TestLeaseUntilAndAccept:
    async def test_lease_only_while_running(self, sessionmaker) -> None:
        sender = OutboxSender(sessionmaker, Gate(), dataclasses.replace(FAST, lease_seconds=60))
        assert sender.lease_until() is None
        task = asyncio.create_task(sender.run())
        await until(lambda: sender.lease_until() is not None)
        lease = sender.lease_until()
        assert lease is not None
        assert timedelta(seconds=59) < lease - utc_now() <= timedelta(seconds=60)
        await sender.stop()
        assert sender.lease_until() is None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert sender.lease_until() is None

    async def test_no_lease_while_max_in_flight_rows_are_held(self, sessionmaker) -> None:
        gate = Gate()
        sender = OutboxSender(sessionmaker, gate, dataclasses.replace(FAST, max_in_flight=2))
        task = asyncio.create_task(sender.run())
        await until(lambda: sender.lease_until() is not None)
        sender.accept(await leased_rows(sessionmaker, "a", "b"))
        assert sender.lease_until() is None
        gate.open.set()
        await until(lambda: sender.lease_until() is not None)
        assert gate.sent == [("7", "a"), ("7", "b")]
        await sender.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert {(r.status, r.attempts) for r in await rows(sessionmaker)} == {("sent", 1)}
        assert (sender.stats.accepted, sender.stats.claimed) == (2, 0)

    async def test_accept_skips_held_rows_and_refuses_while_stopping(self, sessionmaker) -> None:
        gate = Gate()
        sender = OutboxSender(sessionmaker, gate, FAST)
        held = await leased_rows(sessionmaker, "a", "b")
        sender.accept(held)
        sender.accept(held[1:])  # already held: not taken twice
        assert sender.stats.accepted == 2
        gate.open.set()
        await sender.stop()
        assert gate.sent == [("7", "a"), ("7", "b")]
        late = await leased_rows(sessionmaker, "c")
        sender.accept(late)  # stopping: left to the lease
        await asyncio.sleep(0.02)
        assert sender.stats.accepted == 2 and gate.sent == [("7", "a"), ("7", "b")]
        assert [(r.status, r.attempts) for r in await rows(sessionmaker)] == [
            ("sent", 1),
            ("sent", 1),
            ("pending", 1),
        ]


class TestDatabaseDown:
    async def test_webhook_answers_500_and_the_redelivery_is_handled_once(
        self, participant: Participant, sessionmaker, tg: TelegramApp, monkeypatch
    ) -> None:
        import httpx
        from fastapi import FastAPI

        import bot.engine.batcher as batcher
        from bot.channels.telegram import SECRET_HEADER, build_webhook_router
        from tests.bot.channels.test_telegram_fixtures import SECRET

        r = await open_round(sessionmaker)
        api = FastAPI()
        api.include_router(build_webhook_router(tg))
        transport = httpx.ASGITransport(app=api, raise_app_exceptions=False)
        update = participant.message_update(f"/start {r.start_code}")
        headers = {SECRET_HEADER: SECRET}

        async def down(*args: object, **kwargs: object) -> None:
            raise ConnectionRefusedError("database down")

        real = batcher.handle_many
        monkeypatch.setattr(batcher, "handle_many", down)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            res = await http.post("/webhooks/telegram", json=update, headers=headers)
            assert res.status_code == 500  # Telegram delivers the update again
            assert await rows(sessionmaker) == []
            monkeypatch.setattr(batcher, "handle_many", real)
            for _ in range(2):  # the redelivery, and a duplicate of it
                res = await http.post("/webhooks/telegram", json=update, headers=headers)
                assert res.status_code == 200
        await tg.sender.drain()
        assert [m.status for m in await rows(sessionmaker)] == ["sent"]
        assert len(participant.sent) == 1


class TestWakeUpAcrossProcesses:
    """A webhook process without a sender wakes a sender in another process at its commit."""

    async def test_dedicated_sender_is_woken_by_the_commit(
        self, participant: Participant, tg: TelegramApp, fake, engine, backend
    ) -> None:
        from surveys import db

        # The "other process": its own engine and sender, polling only every 30 seconds.
        other_engine = db.create_engine(engine.url.render_as_string(hide_password=False))
        other_maker = db.create_sessionmaker(other_engine)
        sender = OutboxSender(
            other_maker,
            TelegramChannel(create_bot(TOKEN, api_base=fake[1])),
            dataclasses.replace(FAST, poll_interval=30.0),
        )
        running = asyncio.create_task(sender.run())
        try:
            await until(lambda: sender._running)
            await asyncio.sleep(0.2)  # past its first (empty) claim: now it waits 30 s
            r = await open_round(tg.deps.sessionmaker)
            assert tg.sender.lease_until() is None  # the webhook's own sender is not running
            await participant.post(participant.message_update(f"/start {r.start_code}"))
            if backend == "postgresql":
                await until(lambda: len(participant.sent) == 1, timeout=3.0)
                stored = await settled(tg.deps.sessionmaker)
                assert [(s.status, s.attempts) for s in stored] == [("sent", 1)]
                assert sender.stats.claimed == 1
            else:  # SQLite has no NOTIFY: the row waits for the next poll
                await asyncio.sleep(0.5)
                assert participant.sent == []
                assert [s.status for s in await rows(tg.deps.sessionmaker)] == ["pending"]
        finally:
            await sender.stop()
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await sender.channel.bot.session.close()  # type: ignore[attr-defined]
            await other_engine.dispose()

    async def test_listen_reports_whether_it_listens(self, sessionmaker, backend) -> None:
        woken: list[bool] = []
        async with outbox.listen(sessionmaker, lambda: woken.append(True)) as listening:
            assert listening is (backend == "postgresql")
            async with sessionmaker() as s, s.begin():
                await outbox.wake_senders(s)
            if listening:
                await until(lambda: woken == [True], timeout=3.0)
        await asyncio.sleep(0.05)
        assert woken == ([True] if backend == "postgresql" else [])

    async def test_listening_resumes_after_the_connection_is_lost(
        self, sessionmaker, backend
    ) -> None:
        woken: list[bool] = []
        if backend == "sqlite":  # no connection to lose: SQLite only polls
            async with outbox.listen(sessionmaker, lambda: woken.append(True)) as listening:
                assert listening is False
            assert woken == []
            return

        async def listener_pids() -> set[int]:
            async with sessionmaker() as s:
                found = await s.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
                )
                return set(found.all())

        before = await listener_pids()
        async with outbox.listen(
            sessionmaker, lambda: woken.append(True), retry_seconds=0.1
        ) as listening:
            assert listening
            (pid,) = await listener_pids() - before
            async with sessionmaker() as s, s.begin():  # a database restart, for this backend
                await s.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await until(lambda: woken == [True], timeout=5.0)  # listening again: one catch-up
            async with sessionmaker() as s, s.begin():
                await outbox.wake_senders(s)
            await until(lambda: woken == [True, True], timeout=5.0)  # wake-ups arrive again
        assert await listener_pids() == before  # the listening connection is not left behind

    async def test_a_database_that_is_down_does_not_stop_the_listener(self) -> None:
        from surveys import db

        down = db.create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/none")
        woken: list[bool] = []
        try:
            async with outbox.listen(
                db.create_sessionmaker(down), lambda: woken.append(True), retry_seconds=0.01
            ) as listening:
                assert listening is False  # the sender polls meanwhile
                await asyncio.sleep(0.2)  # retries (backing off) do not raise
            assert woken == []
        finally:
            await down.dispose()
