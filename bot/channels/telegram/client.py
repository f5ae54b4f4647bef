"""The Telegram client side: build the aiogram ``Bot`` and deliver outbox messages with it."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    LeaveChat,
    SendMessage,
)
from aiogram.methods.base import Response

from bot.channels.base import PermanentFailure, RetryLater, TemporaryFailure, Unreachable
from bot.channels.telegram.copy import TelegramCopy, default_copy
from bot.channels.telegram.render import render
from bot.channels.telegram.session import JsonSession
from bot.engine.catalogue import Catalogue, default_catalogue
from bot.engine.messages import Outbound

CHANNEL = "telegram"

# aiogram parses every Bot API answer as ``Response[<returned type>]``. pydantic keeps such
# parametrised generic models only weakly, so each garbage collection drops them and the next
# call rebuilds the class (about 8 ms each, measured). Holding the ones we use keeps them alive.
_PINNED = (SendMessage, AnswerCallbackQuery, EditMessageText, EditMessageReplyMarkup, LeaveChat)
_RESPONSE_MODELS = tuple(Response[m.__returning__] for m in _PINNED)  # type: ignore[name-defined]


def create_bot(token: str, *, api_base: str | None = None, timeout: float = 30.0) -> Bot:
    """Build the aiogram ``Bot`` (plain text: no parse mode, so user text is never markup).

    Args:
        token: The BotFather token (``123456:ABC...``); never logged.
        api_base: Another Bot API server, e.g. the test fake ``http://127.0.0.1:PORT``.
        timeout: Request timeout in seconds.
    """
    api = TelegramAPIServer.from_base(api_base) if api_base else None
    session = JsonSession(api=api, timeout=timeout) if api else JsonSession(timeout=timeout)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=None))


def _failure(exc: TelegramAPIError) -> Exception:
    """Map an aiogram error to what the sender should do (no message text in the reason)."""
    if isinstance(exc, TelegramRetryAfter):
        return RetryLater(float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        return Unreachable("forbidden (blocked, kicked or deactivated)")
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return TemporaryFailure(type(exc).__name__)
    if isinstance(exc, TelegramUnauthorizedError):
        return TemporaryFailure("unauthorized: check the bot token")
    if isinstance(exc, TelegramNotFound | TelegramMigrateToChat):
        return Unreachable(type(exc).__name__)
    if isinstance(exc, TelegramBadRequest) and "chat not found" in exc.message.lower():
        return Unreachable("chat not found")
    return PermanentFailure(type(exc).__name__)


class TelegramChannel:
    """Delivers outbox messages to Telegram chats (implements ``bot.channels.base.Channel``)."""

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        *,
        copy: TelegramCopy | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.bot = bot
        self.copy = copy or default_copy()
        self.catalogue = catalogue or default_catalogue()

    async def _post(self, payload: dict[str, Any]) -> None:
        """``sendMessage`` with a ready payload: the lean JSON path when the bot has one."""
        session = self.bot.session
        if isinstance(session, JsonSession):
            await session.post(self.bot, SendMessage, payload)
        else:  # another aiogram session (a test double): the plain method call
            await self.bot(SendMessage(**payload))

    async def deliver(self, address: str, message: Outbound, *, ref: int | None = None) -> None:
        """Send one message; long texts go in several messages, buttons on the last one.

        Raises:
            RetryLater: Telegram answered 429.
            Unreachable: The participant blocked the bot (403) or the chat is gone.
            TemporaryFailure: 5xx or a network error.
            PermanentFailure: Telegram refused the message (400).
        """
        rendered = render(message, ref=ref, copy=self.copy, catalogue=self.catalogue)
        last = len(rendered.chunks) - 1
        chat_id = int(address)
        keyboard = rendered.keyboard.model_dump(exclude_none=True) if rendered.keyboard else None
        try:
            for i, chunk in enumerate(rendered.chunks):
                payload: dict[str, Any] = {"chat_id": chat_id, "text": chunk}
                if keyboard is not None and i == last:
                    payload["reply_markup"] = keyboard
                await self._post(payload)
        except TelegramAPIError as exc:
            raise _failure(exc) from None
        except TimeoutError:
            raise TemporaryFailure("timeout") from None
