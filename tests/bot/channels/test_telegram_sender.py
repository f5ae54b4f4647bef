# ruff: noqa: F811  (fixtures imported from test_telegram_fixtures are parameters here)
"""The outbox sender (channel-neutral), the render rules and polling mode."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import select, update

from bot.channels.base import RetryLater, TemporaryFailure
from bot.channels.sender import OutboxSender, RateLimiter, SenderConfig
from bot.channels.telegram import TelegramApp, create_bot
from bot.channels.telegram.copy import default_copy
from bot.channels.telegram.render import (
    MAX_CALLBACK,
    PAGE_SIZE,
    parse_answer,
    render,
    split_text,
    ticked,
    toggle,
)
from bot.engine.catalogue import default_catalogue
from bot.engine.messages import Choice, Outbound, question_tag
from surveys import outbox, service
from surveys.models import OutboxMessage, utc_now
from tests.bot.channels.test_telegram_fixtures import (  # noqa: F401 - fixtures
    CFG,
    FAST,
    TOKEN,
    client,
    fake,
    next_update_id,
    participant,
    tg,
)

FAST_NOTIFY = SenderConfig(
    rate_per_second=0, per_address_interval=0, backoff_base=0.01, flush_interval=0
)


class Recorder:
    """A channel that records deliveries and can fail on cue."""

    name = "telegram"

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[tuple[str, str, float]] = []
        self.failures: list[Exception] = []
        self.delay = delay

    async def deliver(self, address: str, message: Outbound, *, ref: int | None = None) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((address, message.text, time.monotonic()))


async def queue(sessionmaker, address: str, *texts: str) -> list[int]:
    async with sessionmaker() as s, s.begin():
        return await service.enqueue(
            s, channel="telegram", address=address, payloads=[{"text": t} for t in texts]
        )


async def statuses(sessionmaker) -> list[str]:
    async with sessionmaker() as s:
        return [
            m.status
            for m in (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        ]


class TestSender:
    async def test_two_senders_deliver_each_row_once_in_order(self, sessionmaker) -> None:
        for n in range(20):
            await queue(sessionmaker, str(1000 + n % 4), *(f"m{n}-{i}" for i in range(3)))
        channel = Recorder(delay=0.002)
        config = SenderConfig(
            rate_per_second=0, per_address_interval=0, batch_size=7, flush_interval=0
        )
        a, b = (
            OutboxSender(sessionmaker, channel, config),
            OutboxSender(sessionmaker, channel, config),
        )
        await asyncio.gather(a.drain(), b.drain())
        texts = [t for _, t, _ in channel.sent]
        assert len(texts) == 60 and len(set(texts)) == 60
        assert set(await statuses(sessionmaker)) == {"sent"}

    async def test_order_per_address_is_kept(self, sessionmaker) -> None:
        await queue(sessionmaker, "7", *(f"{i:02d}" for i in range(15)))
        channel = Recorder()
        await OutboxSender(
            sessionmaker,
            channel,
            SenderConfig(rate_per_second=0, per_address_interval=0, batch_size=4),
        ).drain()
        assert [t for _, t, _ in channel.sent] == [f"{i:02d}" for i in range(15)]

    async def test_committed_but_unsent_rows_go_out_once_after_restart(self, sessionmaker) -> None:
        await queue(sessionmaker, "5", "after-crash")  # the process died right after the commit
        channel = Recorder()
        await OutboxSender(sessionmaker, channel, FAST_NOTIFY).drain()  # the restarted process
        await OutboxSender(sessionmaker, channel, FAST_NOTIFY).drain()
        assert [t for _, t, _ in channel.sent] == ["after-crash"]

    async def test_claimed_row_with_unknown_outcome_is_resent_after_its_lease(
        self, sessionmaker
    ) -> None:
        (row_id,) = await queue(sessionmaker, "5", "in-flight")
        async with sessionmaker() as s, s.begin():  # a sender claimed it, then died
            claimed = await outbox.claim_due(s, channel="telegram", limit=10, lease_seconds=300)
        assert [c.id for c in claimed] == [row_id]
        channel = Recorder()
        await OutboxSender(sessionmaker, channel, FAST_NOTIFY).drain()
        assert channel.sent == []  # leased: not sent twice while the lease holds
        async with sessionmaker() as s, s.begin():
            await s.execute(
                update(OutboxMessage).values(next_attempt_at=utc_now() - timedelta(seconds=1))
            )
        await OutboxSender(sessionmaker, channel, FAST_NOTIFY).drain()
        assert [t for _, t, _ in channel.sent] == ["in-flight"]
        async with sessionmaker() as s:
            assert (await s.get(OutboxMessage, row_id)).attempts == 2

    async def test_retry_after_pauses_then_delivers_once(self, sessionmaker) -> None:
        await queue(sessionmaker, "9", "one", "two")
        channel = Recorder()
        channel.failures = [RetryLater(0.3)]
        started = time.monotonic()
        await OutboxSender(sessionmaker, channel, FAST_NOTIFY).drain()
        assert [t for _, t, _ in channel.sent] == ["one", "two"]
        assert channel.sent[0][2] - started >= 0.29

    async def test_long_retry_after_gives_the_row_back(self, sessionmaker) -> None:
        await queue(sessionmaker, "9", "later")
        channel = Recorder()
        channel.failures = [RetryLater(120)]
        await OutboxSender(
            sessionmaker,
            channel,
            SenderConfig(rate_per_second=0, per_address_interval=0, max_inline_wait=5),
        ).drain()
        async with sessionmaker() as s:
            row = (await s.scalars(select(OutboxMessage))).one()
        assert row.status == "pending" and row.next_attempt_at > utc_now() + timedelta(seconds=100)

    async def test_gives_up_after_max_attempts(self, sessionmaker) -> None:
        await queue(sessionmaker, "9", "doomed")
        channel = Recorder()
        channel.failures = [TemporaryFailure("x") for _ in range(3)]
        config = SenderConfig(
            rate_per_second=0,
            per_address_interval=0,
            max_attempts=1,
            inline_retries=2,
            backoff_base=0.01,
        )
        await OutboxSender(sessionmaker, channel, config).drain()
        assert await statuses(sessionmaker) == ["failed"]

    async def test_per_address_interval_and_global_rate(self, sessionmaker) -> None:
        await queue(sessionmaker, "1", "a", "b", "c")
        await queue(sessionmaker, "2", "x")
        channel = Recorder()
        await OutboxSender(
            sessionmaker, channel, SenderConfig(rate_per_second=0, per_address_interval=0.15)
        ).drain()
        times = [at for address, _, at in channel.sent if address == "1"]
        assert all(b - a >= 0.14 for a, b in zip(times, times[1:], strict=False))
        other = next(at for address, _, at in channel.sent if address == "2")
        assert other < times[1]  # other chats are not held up

    async def test_rate_limiter(self) -> None:
        limiter = RateLimiter(rate=50, burst=1)
        started = time.monotonic()
        for _ in range(6):
            await limiter.acquire()
        assert time.monotonic() - started >= 0.09

    async def test_run_loop_wakes_on_notify(self, sessionmaker) -> None:
        channel = Recorder()
        sender = OutboxSender(
            sessionmaker,
            channel,
            SenderConfig(
                rate_per_second=0, per_address_interval=0, poll_interval=30, flush_interval=0
            ),
        )
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(0.05)
        await queue(sessionmaker, "3", "wake")
        sender.notify()
        for _ in range(100):
            if channel.sent:
                break
            await asyncio.sleep(0.01)
        await sender.stop()
        task.cancel()
        assert [t for _, t, _ in channel.sent] == ["wake"]
        assert await statuses(sessionmaker) == ["sent"]


class TestRender:
    def test_callback_data_never_exceeds_64_bytes(self) -> None:
        long = "é" * 40
        message = Outbound("Kies", (Choice(long, "Lang"), Choice("kort", "Kort")))
        kb = render(message, ref=1, copy=default_copy(), catalogue=default_catalogue()).keyboard
        data = [b.callback_data for row in kb.inline_keyboard for b in row]
        assert all(len(d.encode()) <= MAX_CALLBACK for d in data)
        assert data == ["c:1", "c:kort"]

    def test_question_buttons_carry_the_question_tag(self) -> None:
        long = "é" * 40
        choices = (Choice(long, "Lang"), Choice("kort", "Kort"))
        message = Outbound("Kies", choices, question_key="wijk")
        kb = render(message, ref=1, copy=default_copy(), catalogue=default_catalogue()).keyboard
        data = [b.callback_data for row in kb.inline_keyboard for b in row]
        tag = question_tag("wijk")
        assert data == [f"a:{tag}:1", f"a:{tag}:kort"]
        assert [parse_answer(d) for d in data] == [("1", tag), ("kort", tag)]
        assert parse_answer("c:cmd:consent-yes") == ("cmd:consent-yes", None)

    def test_long_text_is_split(self) -> None:
        chunks = split_text("regel\n" * 1500)
        assert len(chunks) == 3 and all(len(c) <= 4096 for c in chunks)

    def test_list_without_ref_is_not_paged(self) -> None:
        choices = tuple(Choice(f"v{i}", f"Optie {i}") for i in range(PAGE_SIZE + 3))
        kb = render(
            Outbound("Kies", choices, style="list"),
            ref=None,
            copy=default_copy(),
            catalogue=default_catalogue(),
        ).keyboard
        assert sum(len(r) for r in kb.inline_keyboard) == PAGE_SIZE + 3

    def test_toggle_is_stateless(self) -> None:
        message = Outbound("Kies", (Choice("a", "A"), Choice("b", "B")), multiple=True)
        kb = render(message, ref=1, copy=default_copy(), catalogue=default_catalogue()).keyboard
        assert kb.inline_keyboard[-1][0].text == "Klaar ✔"
        kb = toggle(kb, "t:b")
        assert ticked(kb) == (["b"], ["B"])
        kb = toggle(toggle(kb, "t:a"), "t:b")
        assert ticked(kb) == (["a"], ["A"])
        assert toggle(kb, "t:zz") is None

    def test_english_done_label(self) -> None:
        hint = default_catalogue().get("hint_multiple", "en")
        message = Outbound(f"Pick\n{hint}", (Choice("a", "A"),), multiple=True)
        kb = render(message, ref=1, copy=default_copy(), catalogue=default_catalogue()).keyboard
        assert kb.inline_keyboard[-1][0].text == "Done ✔"


class TestPolling:
    async def test_polling_handles_updates_and_sends_replies(self, fake, sessionmaker) -> None:
        state, base = fake
        app = TelegramApp(
            bot=create_bot(TOKEN, api_base=base),
            sessionmaker=sessionmaker,
            config=CFG,
            sender_config=FAST,
        )
        state.push_update(
            {
                "update_id": next_update_id(),
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 333, "type": "private"},
                    "from": {"id": 333, "is_bot": False, "first_name": "X"},
                    "text": "/hulp",
                },
            }
        )
        task = asyncio.create_task(app.run_polling(handle_signals=False))
        for _ in range(200):
            if state.of("sendMessage"):
                break
            await asyncio.sleep(0.02)
        await app.dispatcher.stop_polling()
        await asyncio.wait_for(task, 5)
        assert state.of("deleteWebhook") and state.of("getUpdates")
        assert "113" in state.of("sendMessage")[0].params["text"]
        async with sessionmaker() as s:
            assert await service.pending_messages(s, channel="telegram", address="333") == []
