"""The Telegram channel assembled: bot, dispatcher, outbox sender; webhook and polling set-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.sender import OutboxSender, SenderConfig
from bot.channels.telegram.client import TelegramChannel
from bot.channels.telegram.copy import TelegramCopy, default_copy
from bot.channels.telegram.handlers import ALLOWED_UPDATES, TelegramDeps, build_dispatcher
from bot.engine.batcher import GroupCommit
from bot.engine.engine import EngineConfig
from surveys.outbox import ClaimedMessage

log = logging.getLogger(__name__)
QUIET_LOGGERS = {
    "aiogram.event": logging.WARNING,  # every update at INFO
    "httpx": logging.WARNING,  # request URLs (a token is part of every Bot API URL)
    "httpcore": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,  # statement parameters include answer text
    "aiosqlite": logging.WARNING,  # every statement with its parameters at DEBUG
}


def quiet_loggers() -> None:
    """Silence loggers that would log updates, URLs or SQL parameters at INFO or DEBUG.

    aiogram logs every update at INFO; the bot token is part of every Bot API URL; SQLAlchemy
    logs statement parameters (answer text) whenever its logger is enabled for INFO.
    """
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level < level:
            logger.setLevel(level)


class TelegramApp:
    """One Telegram bot in this process: dispatcher for updates, sender for the outbox.

    Args:
        bot: The aiogram bot (see :func:`bot.channels.telegram.client.create_bot`).
        sessionmaker: The process's session factory.
        config: The engine configuration.
        webhook_secret: The secret Telegram sends in ``X-Telegram-Bot-Api-Secret-Token``
            (None refuses every webhook call; polling needs none).
        sender_config: Pacing of the outbox sender (Telegram limits by default).
        copy: The adapter's copy (``copy.yaml`` by default).
    """

    def __init__(
        self,
        *,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: EngineConfig,
        webhook_secret: str | None = None,
        sender_config: SenderConfig | None = None,
        copy: TelegramCopy | None = None,
    ) -> None:
        quiet_loggers()
        self.bot = bot
        self.copy = copy or default_copy()
        self.webhook_secret = webhook_secret
        self.channel = TelegramChannel(bot, copy=self.copy, catalogue=config.catalogue)
        self.sender = OutboxSender(sessionmaker, self.channel, sender_config)
        self.batcher = GroupCommit(
            sessionmaker, config, lease_until=self.sender.lease_until, on_commit=self._queued
        )
        self.deps = TelegramDeps(
            sessionmaker=sessionmaker,
            config=config,
            copy=self.copy,
            notify=self.sender.notify,
            batcher=self.batcher,
        )
        self.dispatcher: Dispatcher = build_dispatcher(self.deps)
        self._sender_task: asyncio.Task[None] | None = None

    def _queued(self, rows: list[ClaimedMessage], leased: bool) -> None:
        """After a batch commit: hand its replies (leased to this sender) straight over."""
        if leased:
            self.sender.accept(rows)
        elif rows:
            self.sender.notify()

    async def feed(self, update: Update) -> None:
        """Handle one update (webhook or polling); raises on database failures."""
        await self.dispatcher.feed_update(self.bot, update)

    def start_sender(self) -> None:
        """Run the outbox sender in the background of this event loop."""
        if self._sender_task is None or self._sender_task.done():
            self._sender_task = asyncio.create_task(self.sender.run(), name="telegram-sender")

    async def close(self) -> None:
        """Stop the sender (settling what it holds) and close the HTTP session."""
        if self._sender_task is not None:
            await self.sender.stop()
            self._sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task
            self._sender_task = None
        await self.bot.session.close()

    async def __aenter__(self) -> TelegramApp:
        self.start_sender()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Long polling for a bot without a public URL (removes any webhook first).

        Runs until cancelled, SIGINT/SIGTERM or ``dispatcher.stop_polling()``; the outbox
        sender runs alongside and is stopped (and the HTTP session closed) at the end.
        """
        await self.bot.delete_webhook(drop_pending_updates=False)
        self.start_sender()
        try:
            await self.dispatcher.start_polling(
                self.bot,
                allowed_updates=ALLOWED_UPDATES,
                handle_as_tasks=True,
                tasks_concurrency_limit=64,
                close_bot_session=False,
                handle_signals=handle_signals,
            )
        finally:
            await self.close()


async def set_webhook(
    bot: Bot,
    *,
    url: str,
    secret: str,
    max_connections: int = 40,
    drop_pending_updates: bool = False,
    allowed_updates: Sequence[str] = ALLOWED_UPDATES,
) -> bool:
    """Register the webhook with its secret and the update types the bot handles.

    Args:
        bot: The bot.
        url: The public HTTPS URL of ``/webhooks/telegram``.
        secret: 1-256 characters ``A-Z a-z 0-9 _ -``; Telegram sends it on every call.
        max_connections: Concurrent webhook connections Telegram may open (1-100).
        drop_pending_updates: Drop updates queued while no webhook was set.
        allowed_updates: Update types to receive.
    """
    return await bot.set_webhook(
        url=url,
        secret_token=secret,
        allowed_updates=list(allowed_updates),
        max_connections=max_connections,
        drop_pending_updates=drop_pending_updates,
    )


async def register_commands(bot: Bot, copy: TelegramCopy | None = None) -> None:
    """Register the command menu (setMyCommands) in Dutch (also the default) and English."""
    copy = copy or default_copy()
    for lang, commands in copy.commands.items():
        menu = [BotCommand(command=name, description=text) for name, text in commands.items()]
        await bot.set_my_commands(menu, language_code=lang)
        if lang == "nl":
            await bot.set_my_commands(menu)
