# ruff: noqa: F811  (fixtures imported from test_telegram_fixtures are parameters here)
"""JsonSession: Bot API calls as JSON bodies, and the sender's lean ``sendMessage`` path."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.channels.base import PermanentFailure, RetryLater, TemporaryFailure, Unreachable
from bot.channels.telegram import create_bot
from bot.channels.telegram.client import TelegramChannel
from bot.channels.telegram.session import JsonSession
from bot.engine.messages import Choice, Outbound
from tests.bot.channels.test_telegram_fixtures import TOKEN, fake  # noqa: F401 - fixture

SCALE = Outbound(
    "Hoe tevreden ben je?",
    choices=tuple(Choice(str(i), str(i)) for i in range(1, 6)),
    style="scale",
    question_key="tevreden",
)


async def test_methods_go_out_as_json_with_nested_objects(fake) -> None:
    state, base = fake
    bot = create_bot(TOKEN, api_base=base)
    try:
        assert isinstance(bot.session, JsonSession)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Ja", callback_data="c:ja")]]
        )
        sent = await bot.send_message(chat_id=7, text="Doe je mee?", reply_markup=markup)
    finally:
        await bot.session.close()
    (call,) = state.of("sendMessage")
    assert call.content_type == "application/json"
    assert call.params["chat_id"] == 7
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Ja", "callback_data": "c:ja"}]]
    }
    assert "parse_mode" not in call.params  # no parse mode: participant text is never markup
    assert sent.message_id == call.result["message_id"]  # answers parsed as aiogram does
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == markup.model_dump(exclude_none=True)


async def test_channel_sends_keyboard_on_the_last_chunk_only(fake) -> None:
    state, base = fake
    bot = create_bot(TOKEN, api_base=base)
    long = Outbound("woord " * 1200, choices=SCALE.choices, style="scale", question_key="q")
    try:
        await TelegramChannel(bot).deliver("7", long, ref=1)
    finally:
        await bot.session.close()
    calls = state.of("sendMessage")
    assert len(calls) == 2
    assert all(c.content_type == "application/json" for c in calls)
    assert "reply_markup" not in calls[0].params
    buttons = calls[1].params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert all(b["callback_data"].startswith("a:") for b in buttons)
    assert " ".join(c.params["text"] for c in calls).split() == long.text.split()


@pytest.mark.parametrize(
    ("status", "aiogram_error", "sender_error"),
    [
        (429, TelegramRetryAfter, RetryLater),
        (403, TelegramForbiddenError, Unreachable),
        (500, TelegramServerError, TemporaryFailure),
        (400, TelegramBadRequest, PermanentFailure),
    ],
)
async def test_failures_map_as_aiogram_maps_them(fake, status, aiogram_error, sender_error) -> None:
    state, base = fake
    bot = create_bot(TOKEN, api_base=base)
    session = bot.session
    assert isinstance(session, JsonSession)
    payload = {"chat_id": 7, "text": "hoi"}
    try:
        state.fail("sendMessage", status=status, retry_after=3)
        with pytest.raises(aiogram_error) as raised:
            await session.post(bot, SendMessage, payload)
        if status == 429:
            assert raised.value.retry_after == 3  # type: ignore[attr-defined]
        state.fail("sendMessage", status=status, retry_after=3)
        with pytest.raises(sender_error):
            await TelegramChannel(bot).deliver("7", Outbound("hoi"))
        await TelegramChannel(bot).deliver("7", Outbound("hoi"))  # the fault is used up
    finally:
        await bot.session.close()
    assert [c.status for c in state.of("sendMessage")] == [status, status, 200]


async def post_x(bot: Bot) -> None:
    session = bot.session
    assert isinstance(session, JsonSession)
    await session.post(bot, SendMessage, {"chat_id": 7, "text": "x"})


async def test_an_answer_that_is_not_json_is_a_decode_error() -> None:
    async def garbage(_: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", garbage)
    runner = web.AppRunner(app, access_log=None)  # its lines would hold the bot token
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    bot = create_bot(TOKEN, api_base=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(ClientDecodeError):
            await post_x(bot)
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_no_server_is_a_network_error_and_a_temporary_failure() -> None:
    bot = create_bot(TOKEN, api_base="http://127.0.0.1:9")  # nothing listens on port 9
    try:
        with pytest.raises(TelegramNetworkError):
            await post_x(bot)
        with pytest.raises(TemporaryFailure):
            await TelegramChannel(bot).deliver("7", Outbound("x"))
    finally:
        await bot.session.close()


async def test_channel_also_works_with_aiogram_s_stock_session(fake) -> None:
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    state, base = fake
    session = AiohttpSession(api=TelegramAPIServer.from_base(base))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=None))
    try:
        await TelegramChannel(bot).deliver("7", SCALE, ref=1)
        state.fail("sendMessage", status=403)
        with pytest.raises(Unreachable):
            await TelegramChannel(bot).deliver("7", SCALE, ref=1)
    finally:
        await bot.session.close()
    first = state.of("sendMessage")[0]
    assert first.content_type == "application/x-www-form-urlencoded"  # aiogram's own form
    assert len(first.params["reply_markup"]["inline_keyboard"][0]) == 5
