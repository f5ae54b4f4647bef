"""The bot process: ``python -m bot [--polling | --sender-only | --set-webhook | ...]``.

* ``--polling``: long polling plus the outbox sender, for a youth worker without a public URL.
* ``--sender-only`` (default): deliver the Telegram outbox; the webhook itself is served by the
  web process (``jeugdstem serve``), which should then not run a sender of its own, or may: two
  senders never send one row twice.
* ``--set-webhook``: register ``BOT_TELEGRAM_WEBHOOK_URL`` with ``BOT_TELEGRAM_WEBHOOK_SECRET``
  and the command menu, then exit. ``--delete-webhook`` removes it.

Builds the database engine, the settings and the pieces here, never at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from bot.app import build_telegram, telegram_token
from bot.channels.telegram import create_bot, quiet_loggers, register_commands, set_webhook
from bot.exceptions import ConfigurationError
from bot.runtime import tune_gc
from bot.settings import BotSettings, get_settings
from surveys import db
from surveys.settings import get_settings as surveys_settings

log = logging.getLogger("bot")


def _secret(settings: BotSettings) -> str:
    secret = settings.telegram_webhook_secret
    if secret is None or len(secret.get_secret_value()) < 32:
        raise ConfigurationError("BOT_TELEGRAM_WEBHOOK_SECRET must be set (32+ characters)")
    return secret.get_secret_value()


async def _run(mode: str, settings: BotSettings) -> None:
    if mode in ("set-webhook", "delete-webhook"):
        bot = create_bot(telegram_token(settings), api_base=settings.telegram_api_base)
        try:
            if mode == "delete-webhook":
                await bot.delete_webhook(drop_pending_updates=False)
            else:
                if not settings.telegram_webhook_url:
                    raise ConfigurationError("BOT_TELEGRAM_WEBHOOK_URL is not set")
                await set_webhook(
                    bot,
                    url=settings.telegram_webhook_url,
                    secret=_secret(settings),
                    max_connections=settings.telegram_max_connections,
                )
                await register_commands(bot)
            log.info("telegram %s done", mode)
        finally:
            await bot.session.close()
        return

    engine = db.create_engine(surveys_settings().database_url)
    telegram = build_telegram(
        settings, surveys_settings(), db.create_sessionmaker(engine), with_webhook=False
    )
    tune_gc()
    try:
        if mode == "polling":
            await register_commands(telegram.bot)
            await telegram.run_polling()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with telegram:
            log.info("telegram outbox sender running")
            await stop.wait()
    finally:
        await telegram.close()
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Parse the mode and run it."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--polling", action="store_const", dest="mode", const="polling")
    group.add_argument("--sender-only", action="store_const", dest="mode", const="sender")
    group.add_argument("--set-webhook", action="store_const", dest="mode", const="set-webhook")
    group.add_argument(
        "--delete-webhook", action="store_const", dest="mode", const="delete-webhook"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_loggers()
    asyncio.run(_run(args.mode or "sender", get_settings()))


if __name__ == "__main__":
    main()
