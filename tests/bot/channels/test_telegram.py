# ruff: noqa: F811  (fixtures imported from test_telegram_fixtures are parameters here)
"""Telegram end to end: real webhook route and aiogram Bot, fake Bot API, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from sqlalchemy import func, select

from bot.channels.telegram import ALLOWED_UPDATES, register_commands, set_webhook
from bot.channels.telegram.render import TICKED
from surveys import service
from surveys.models import (
    Answer,
    Contact,
    ContactStatus,
    Conversation,
    OutboxMessage,
    ProcessedEvent,
)
from tests.bot.channels.test_telegram_fixtures import (  # noqa: F401 - fixtures
    PAYLOADS,
    SECRET,
    TOKEN,
    Participant,
    client,
    fake,
    next_update_id,
    participant,
    tg,
)
from tests.factories import create_activity, create_round


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def rows_written(sessionmaker) -> int:
    total = 0
    for model in (ProcessedEvent, Contact, Conversation, Answer, OutboxMessage):
        total += await count(sessionmaker, model)
    return total


async def open_round(sessionmaker, **kw):
    async with sessionmaker() as s, s.begin():
        return await create_round(s, **kw)


async def answer_current(p: Participant, free_text: str = "Meer plekken om te chillen") -> None:
    """Answer whatever the last message asks: first button, two toggles + done, or text."""
    buttons = p.buttons()
    if not buttons:
        await p.send(free_text)
        return
    toggles = [b for b in buttons if b["callback_data"].startswith("t:")]
    if toggles:
        markup = p.last.params["reply_markup"]
        sent = p.last
        for b in toggles[:2]:
            res = await p.post(p.callback_update(sent, b["callback_data"], markup))
            assert res.status_code == 200
            edit = p.fake.of("editMessageReplyMarkup")[-1]
            markup = edit.params["reply_markup"]
        done_data = next(b["callback_data"] for b in buttons if b["callback_data"].startswith("d"))
        done = p.callback_update(sent, done_data, markup)
        await p.post(done)
        await p.tg.sender.drain()
        return
    await p.press(buttons[0]["callback_data"])


class TestWebhookSecurity:
    async def test_missing_or_wrong_secret_is_refused_without_db_write(
        self, participant: Participant, sessionmaker
    ) -> None:
        start = participant.message_update("/start ABCDEFGH")
        assert (await participant.post(start, secret=None)).status_code == 401
        assert (await participant.post(start, secret="wrong")).status_code == 403
        assert (await participant.post(start, secret=SECRET + " ")).status_code == 403
        assert (
            await participant.post(start, secret=("é" * 10).encode("latin-1"))
        ).status_code == 403
        assert await rows_written(sessionmaker) == 0
        assert participant.fake.calls == []

    async def test_unparseable_and_unknown_updates_are_acknowledged(
        self, participant: Participant, sessionmaker
    ) -> None:
        assert (await participant.post(b"\x00{not json")).status_code == 200
        assert (await participant.post({"update_id": "x"})).status_code == 200
        unknown = {"update_id": next_update_id(), "brand_new_update_kind": {"foo": 1}}
        assert (await participant.post(unknown)).status_code == 200
        assert await rows_written(sessionmaker) == 0

    async def test_oversized_body(self, participant: Participant) -> None:
        assert (await participant.post(b"{" + b" " * 1_100_000 + b"}")).status_code == 413


class TestRounds:
    async def test_full_bouwsteen1_round_from_deep_link(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        assert participant.buttons()[0]["callback_data"] == "c:cmd:consent-yes"
        await participant.press("c:cmd:consent-yes")
        for _ in range(20):
            if "Bedankt" in participant.last.params["text"]:
                break
            await answer_current(participant)
        assert "Bedankt" in participant.last.params["text"]
        async with sessionmaker() as s:
            conv = (await s.scalars(select(Conversation))).one()
            answers = (await s.scalars(select(Answer))).all()
        assert conv.completed_at is not None
        by_key = {a.question_key: a.value for a in answers}
        assert len(by_key) >= 8
        assert isinstance(by_key["vrije_tijd"], list) and len(by_key["vrije_tijd"]) == 2
        # every answered keyboard was edited to show the answer and lose its buttons
        edits = participant.fake.of("editMessageText")
        assert edits and all("reply_markup" not in e.params for e in edits)
        assert (
            all(c.params.get("text") for c in participant.fake.of("answerCallbackQuery")) is False
        )
        # scale questions are one row
        scales = [
            c
            for c in participant.sent
            if c.params.get("reply_markup")
            and len(c.params["reply_markup"]["inline_keyboard"]) == 1
            and len(c.params["reply_markup"]["inline_keyboard"][0]) == 5
        ]
        assert scales

    async def test_bouwsteen5_round_from_activity_deep_link(
        self, participant: Participant, sessionmaker
    ) -> None:
        async with sessionmaker() as s, s.begin():
            r = await create_round(s, template="bouwsteen5-exit-ticket")
            act = await create_activity(s, r)
        await participant.send(f"/start {act.start_code}")
        await participant.press("c:cmd:consent-yes")
        for _ in range(12):
            if "Bedankt" in participant.last.params["text"]:
                break
            await answer_current(participant, "Langer doorgaan")
        assert "Bedankt" in participant.last.params["text"]
        async with sessionmaker() as s:
            conv = (await s.scalars(select(Conversation))).one()
        assert conv.activity_id == act.id and conv.completed_at is not None

    @pytest.mark.parametrize(
        "payload", ["NOPE1234", "'; DROP TABLE answers;--", "a" * 65, "x@y.nl"]
    )
    async def test_unknown_or_bad_deep_link_gets_a_friendly_reply(
        self, participant: Participant, sessionmaker, payload: str
    ) -> None:
        await participant.send(f"/start {payload}")
        assert "code ken ik niet" in participant.last.params["text"]
        assert await count(sessionmaker, Conversation) == 0

    async def test_closed_round(self, participant: Participant, sessionmaker) -> None:
        from surveys.models import RoundStatus

        r = await open_round(sessionmaker, status=RoundStatus.closed)
        await participant.send(f"/start@test_bot {r.start_code}")
        assert "gesloten" in participant.last.params["text"]

    async def test_long_list_is_paged_and_pages_are_private(
        self, participant: Participant, sessionmaker, client, fake, tg
    ) -> None:
        wijken = [f"Wijk {i:02d}" for i in range(14)]
        r = await open_round(sessionmaker, scope={"wijk": wijken})
        await participant.send(f"/start {r.start_code}")
        await participant.press("c:cmd:consent-yes")
        await participant.press(participant.buttons()[0]["callback_data"])  # age
        question = participant.last
        data = [b["callback_data"] for b in participant.buttons()]
        assert len([d for d in data if d.startswith("a:")]) == 8
        nxt = next(d for d in data if d.startswith("p:") and d.endswith(":1"))
        await participant.press(nxt, question)
        page2 = participant.fake.of("editMessageReplyMarkup")[-1].params["reply_markup"]
        labels = [b["text"] for row in page2["inline_keyboard"] for b in row]
        assert "Wijk 08" in labels and "Wijk 00" not in labels
        # someone else cannot page through this chat's message
        other = Participant(client, fake[0], tg, chat_id=222222222)
        before = len(participant.fake.of("editMessageReplyMarkup"))
        await other.post(other.callback_update(question, nxt))
        assert len(participant.fake.of("editMessageReplyMarkup")) == before
        # choosing from page 2 answers the question
        await participant.press(
            next(
                b["callback_data"]
                for row in page2["inline_keyboard"]
                for b in row
                if b["text"] == "Wijk 09"
            ),
            question,
        )
        async with sessionmaker() as s:
            assert (await s.scalars(select(Answer).where(Answer.question_key == "wijk"))).one()


class TestIdempotency:
    async def test_same_update_five_times_sequential_and_concurrent(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        await participant.press("c:cmd:consent-yes")
        update = participant.message_update("3")  # typed answer to the age question
        replies = len(participant.sent)
        for _ in range(5):
            assert (await participant.post(update)).status_code == 200
        await participant.tg.sender.drain()
        assert len(participant.sent) == replies + 1
        assert await count(sessionmaker, Answer) == 1
        # five concurrent deliveries of one new update
        update = participant.message_update("2")
        results = await asyncio.gather(*(participant.post(update) for _ in range(5)))
        assert [r.status_code for r in results] == [200] * 5
        await participant.tg.sender.drain()
        assert len(participant.sent) == replies + 2
        assert await count(sessionmaker, Answer) == 2

    async def test_old_keyboard_cannot_answer_a_later_question(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        await participant.press("c:cmd:consent-yes")
        age_question = participant.last
        old_button = participant.buttons()[0]["callback_data"]
        await participant.send("14")  # typed instead of tapped: the keyboard stays on screen
        wijk_question = participant.last
        assert wijk_question.params["text"] != age_question.params["text"]
        await participant.press(old_button, age_question)
        async with sessionmaker() as s:
            keys = sorted((await s.scalars(select(Answer.question_key))).all())
        assert keys == ["leeftijd"]  # the old tap answered nothing
        again = participant.last.params["text"]
        assert again.startswith("Die knop hoort bij een eerdere vraag")
        assert again.endswith(wijk_question.params["text"])
        removed = participant.fake.of("editMessageReplyMarkup")[-1].params
        assert int(removed["message_id"]) == age_question.result["message_id"]
        assert "reply_markup" not in removed or not removed["reply_markup"]

    async def test_double_tap_on_one_keyboard_answers_once(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        await participant.press("c:cmd:consent-yes")
        question = participant.last
        first = participant.callback_update(question, participant.buttons()[0]["callback_data"])
        second = participant.callback_update(question, participant.buttons()[1]["callback_data"])
        await asyncio.gather(participant.post(first), participant.post(second))
        await participant.tg.sender.drain()
        assert await count(sessionmaker, Answer) == 1
        toasts = [c.params.get("text") for c in participant.fake.of("answerCallbackQuery")]
        assert "Dit heb je al beantwoord." in toasts

    async def test_edited_message_never_creates_a_second_answer(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        await participant.press("c:cmd:consent-yes")
        original = participant.message_update("2")
        await participant.post(original)
        await participant.tg.sender.drain()
        async with sessionmaker() as s:
            before = [(a.question_key, a.value) for a in (await s.scalars(select(Answer))).all()]
        edited = {
            "update_id": next_update_id(),
            "edited_message": {
                **original["message"],
                "text": "0612345678",
                "edit_date": 1709661075,
            },
        }
        for _ in range(3):
            assert (await participant.post(edited)).status_code == 200
        await participant.tg.sender.drain()
        async with sessionmaker() as s:
            after = [(a.question_key, a.value) for a in (await s.scalars(select(Answer))).all()]
            texts = [a.text for a in (await s.scalars(select(Answer))).all()]
        assert before == after and "0612345678" not in str(texts)
        assert "terug" in participant.last.params["text"]
        assert sum("terug" in c.params["text"] for c in participant.sent) == 1


class TestEverythingElse:
    @pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("tg_*.json")) or ["none"])
    async def test_reference_payloads(
        self, participant: Participant, sessionmaker, name: str
    ) -> None:
        assert name != "none", f"reference payloads missing: {PAYLOADS} (shared/ beside the repo)"
        res = await participant.post((PAYLOADS / name).read_bytes())
        assert res.status_code == 200
        await participant.tg.sender.drain()
        methods = [c.method for c in participant.fake.calls]
        assert "getFile" not in methods
        if name in ("tg_message_photo.json", "tg_message_voice.json", "tg_message_sticker.json"):
            assert "alleen tekst" in participant.last.params["text"]
            assert "reply_markup" not in participant.last.params
        if name == "tg_callback_query.json":
            assert "answerCallbackQuery" in methods
        if name == "tg_message_start.json":
            assert participant.sent  # a welcome
        async with sessionmaker() as s:
            for contact in (await s.scalars(select(Contact))).all():
                assert contact.address == "111111111" and contact.address_key != "111111111"

    @pytest.mark.parametrize(
        "content",
        [
            {"location": {"latitude": 52.1, "longitude": 5.1}},
            {"contact": {"phone_number": "+31612345678", "first_name": "Piet"}},
            {
                "document": {
                    "file_id": "BQACAgIAAx",
                    "file_unique_id": "AgADdoc",
                    "file_name": "cv.pdf",
                }
            },
            {"dice": {"emoji": "🎲", "value": 3}},
            {
                "video_note": {
                    "file_id": "DQACAgIAAx",
                    "file_unique_id": "AgADvn",
                    "length": 240,
                    "duration": 3,
                }
            },
        ],
    )
    async def test_media_gets_text_only_reply_and_is_not_stored(
        self, participant: Participant, sessionmaker, content
    ) -> None:
        await participant.send(**content)
        assert "alleen tekst" in participant.last.params["text"]
        dump = json.dumps([str(v) for v in await _all_rows(sessionmaker)])
        for secret in ("+31612345678", "Piet", "cv.pdf", "52.1"):
            assert secret not in dump

    async def test_service_message_is_ignored(self, participant: Participant, sessionmaker) -> None:
        await participant.send(
            pinned_message={"message_id": 3, "date": 0, "chat": participant.chat()}
        )
        assert participant.sent == [] and await rows_written(sessionmaker) == 0

    @pytest.mark.parametrize(
        "chat",
        [
            {"id": -100123, "type": "supergroup", "title": "Klas 2B"},
            {"id": -456, "type": "group", "title": "Vrienden"},
        ],
    )
    async def test_group_chat_is_left_and_nothing_stored(
        self, participant: Participant, sessionmaker, chat
    ) -> None:
        update = participant.message_update("/start ABCDEFGH")
        update["message"]["chat"] = chat
        assert (await participant.post(update)).status_code == 200
        added = {
            "update_id": next_update_id(),
            "my_chat_member": {
                "chat": chat,
                "from": participant.user(),
                "date": 1,
                "old_chat_member": {
                    "user": {"id": 42, "is_bot": True, "first_name": "B"},
                    "status": "left",
                },
                "new_chat_member": {
                    "user": {"id": 42, "is_bot": True, "first_name": "B"},
                    "status": "member",
                },
            },
        }
        assert (await participant.post(added)).status_code == 200
        channel_post = {
            "update_id": next_update_id(),
            "channel_post": {
                "message_id": 5,
                "date": 1,
                "chat": {"id": -1009, "type": "channel", "title": "Kanaal"},
                "text": "hoi",
            },
        }
        assert (await participant.post(channel_post)).status_code == 200
        await participant.tg.sender.drain()
        leaves = [int(c.params["chat_id"]) for c in participant.fake.of("leaveChat")]
        assert leaves == [chat["id"], chat["id"], -1009]
        assert participant.fake.of("sendMessage") == []
        assert await rows_written(sessionmaker) == 0

    async def test_blocked_via_my_chat_member_stops_contact_and_outbox(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        async with sessionmaker() as s, s.begin():
            await service.enqueue(
                s, channel="telegram", address=str(participant.chat_id), payloads=[{"text": "x"}]
            )
        blocked = json.loads((PAYLOADS / "tg_my_chat_member_blocked.json").read_text())
        blocked["update_id"] = next_update_id()
        for _ in range(2):
            assert (await participant.post(blocked)).status_code == 200
        async with sessionmaker() as s:
            contact = (await s.scalars(select(Contact))).one()
            pending = await service.pending_messages(
                s, channel="telegram", address=str(participant.chat_id)
            )
        assert contact.status == ContactStatus.stopped.value and pending == []
        before = len(participant.sent)
        await participant.tg.sender.drain()
        assert len(participant.sent) == before

    async def test_blocked_on_send_403_stops_contact(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.post(participant.message_update(f"/start {r.start_code}"))
        async with sessionmaker() as s, s.begin():
            await service.enqueue(
                s,
                channel="telegram",
                address=str(participant.chat_id),
                payloads=[{"text": "twee"}, {"text": "drie"}],
            )
        participant.fake.fail("sendMessage", 1, status=403)
        await participant.tg.sender.drain()
        assert len(participant.fake.of("sendMessage")) == 1
        async with sessionmaker() as s:
            contact = (await s.scalars(select(Contact))).one()
            statuses = sorted(m.status for m in (await s.scalars(select(OutboxMessage))).all())
        assert contact.status == ContactStatus.stopped.value
        assert statuses == ["cancelled", "cancelled", "failed"]

    async def test_stop_cancels_queued_outbox_rows(
        self, participant: Participant, sessionmaker
    ) -> None:
        r = await open_round(sessionmaker)
        await participant.post(
            participant.message_update(f"/start {r.start_code}")
        )  # not delivered yet
        await participant.post(participant.message_update("/stop"))
        await participant.tg.sender.drain()
        texts = [c.params["text"] for c in participant.sent]
        assert len(texts) == 1 and "gestopt" in texts[0].lower()
        async with sessionmaker() as s:
            statuses = [
                m.status
                for m in (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
            ]
        assert statuses == ["cancelled", "sent"]

    async def test_commands_and_webhook_registration(self, tg, fake) -> None:
        await set_webhook(tg.bot, url="https://example.org/webhooks/telegram", secret=SECRET)
        await register_commands(tg.bot)
        (hook,) = fake[0].of("setWebhook")
        assert (
            hook.params["secret_token"] == SECRET
            and hook.params["allowed_updates"] == ALLOWED_UPDATES
        )
        menus = {
            c.params.get("language_code"): [x["command"] for x in c.params["commands"]]
            for c in fake[0].of("setMyCommands")
        }
        assert menus["nl"] == ["hulp", "stop", "privacy", "verwijder"] == menus[None]
        assert menus["en"] == ["help", "stop", "privacy", "delete"]

    async def test_help_and_privacy_commands(self, participant: Participant) -> None:
        await participant.send("/hulp")
        assert "113" in participant.last.params["text"]
        await participant.send("/privacy@test_bot")
        assert participant.last.params["text"] != ""


class TestDelivery:
    async def test_429_then_success_delivers_once(
        self, participant: Participant, sessionmaker
    ) -> None:
        participant.fake.fail("sendMessage", 1, status=429, retry_after=1)
        await participant.post(participant.message_update("/hulp"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await participant.tg.sender.drain()
        calls = participant.fake.of("sendMessage")
        assert [c.status for c in calls] == [429, 200]
        assert calls[1].at - calls[0].at >= 0.95 and loop.time() - started >= 0.95
        async with sessionmaker() as s:
            row = (await s.scalars(select(OutboxMessage))).one()
        assert row.status == "sent" and row.attempts == 1
        await participant.tg.sender.drain()
        assert len(participant.fake.of("sendMessage")) == 2

    async def test_5xx_backoff_then_success(self, participant: Participant, sessionmaker) -> None:
        participant.fake.fail("sendMessage", 2, status=500)
        await participant.send("/hulp")
        assert [c.status for c in participant.fake.of("sendMessage")] == [500, 500, 200]

    async def test_persistent_5xx_is_given_back_with_backoff(
        self, participant: Participant, sessionmaker
    ) -> None:
        participant.fake.fail("sendMessage", 10, status=502)
        await participant.send("/hulp")
        async with sessionmaker() as s:
            row = (await s.scalars(select(OutboxMessage))).one()
        assert row.status == "pending" and row.next_attempt_at is not None and row.last_error


class TestLogs:
    async def test_no_token_secret_or_text_in_logs(
        self, participant: Participant, sessionmaker, caplog
    ) -> None:
        caplog.set_level(logging.DEBUG)
        r = await open_round(sessionmaker)
        await participant.send(f"/start {r.start_code}")
        await participant.press("c:cmd:consent-yes")
        await participant.send("3")
        await participant.press(participant.buttons()[0]["callback_data"])
        await participant.press(participant.buttons()[0]["callback_data"])
        await participant.send("Mijn buurman Jan de Wit zegt 0612345678")
        participant.fake.fail("sendMessage", 1, status=500)
        await participant.send("/hulp")
        await participant.post(b"garbage")
        text = caplog.text
        assert caplog.records  # something was logged
        leaks = [r.name for r in caplog.records if "Jan de Wit" in r.getMessage()]
        assert not leaks
        for needle in (TOKEN, SECRET, "TEST", "Jan de Wit", "0612345678", "Sanne", "sanne_dv"):
            assert needle not in text
        assert logging.getLogger("aiogram.event").getEffectiveLevel() >= logging.WARNING
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


async def _all_rows(sessionmaker) -> list[object]:
    out: list[object] = []
    async with sessionmaker() as s:
        for model in (ProcessedEvent, Contact, Conversation, Answer, OutboxMessage):
            for row in (await s.scalars(select(model))).all():
                out.append({c.name: getattr(row, c.key, None) for c in model.__table__.columns})
    return out


def test_ticked_prefix_is_visible() -> None:
    assert TICKED.strip()
