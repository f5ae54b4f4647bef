"""The Telegram channel (aiogram 3 as transport only; the engine decides everything).

Public API::

    bot = create_bot(token, api_base=None)
    telegram = TelegramApp(bot=bot, sessionmaker=..., config=EngineConfig(...),
                           webhook_secret=secret, sender_config=SenderConfig())
    router = build_webhook_router(telegram)        # POST /webhooks/telegram
    telegram.start_sender() / await telegram.close()
    await set_webhook(bot, url=..., secret=...); await register_commands(bot)
    await telegram.run_polling()                   # no public URL
"""

from bot.channels.telegram.app import (
    TelegramApp,
    quiet_loggers,
    register_commands,
    set_webhook,
)
from bot.channels.telegram.client import CHANNEL, TelegramChannel, create_bot
from bot.channels.telegram.handlers import ALLOWED_UPDATES
from bot.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, build_webhook_router

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "TelegramApp",
    "TelegramChannel",
    "build_webhook_router",
    "create_bot",
    "quiet_loggers",
    "register_commands",
    "set_webhook",
]
