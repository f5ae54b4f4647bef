"""Builds the bot's pieces from settings; used by `python -m bot` and by the web process."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.sender import SenderConfig
from bot.channels.telegram import TelegramApp, create_bot
from bot.engine.engine import EngineConfig
from bot.exceptions import ConfigurationError
from bot.settings import BotSettings
from surveys.privacy.pii import scrub
from surveys.settings import SurveysSettings


def scrub_text(text: str, schools: Sequence[str]) -> str:
    """Scrub personal data (and the round's school names) from free text before storage."""
    return scrub(text, schools=schools).text


def engine_config(bot: BotSettings, surveys: SurveysSettings) -> EngineConfig:
    """The engine configuration: pepper, quarantine key and PII scrubber."""
    return EngineConfig(
        pepper=bot.pepper.get_secret_value(),
        quarantine_key=surveys.quarantine_key.get_secret_value(),
        scrub=scrub_text,
    )


def sender_config(settings: BotSettings) -> SenderConfig:
    """Telegram pacing from settings (30 messages/s per bot, 1 per second per chat)."""
    return SenderConfig(
        rate_per_second=settings.telegram_rate_per_second,
        burst=max(1, int(settings.telegram_rate_per_second)),
        per_address_interval=settings.telegram_per_chat_interval,
    )


def telegram_token(settings: BotSettings) -> str:
    """The bot token, or a clear error when it is not configured."""
    if settings.telegram_token is None:
        raise ConfigurationError("BOT_TELEGRAM_TOKEN is not set (see docs/telegram.md)")
    return settings.telegram_token.get_secret_value()


def build_telegram(
    bot: BotSettings,
    surveys: SurveysSettings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    with_webhook: bool,
) -> TelegramApp:
    """The Telegram adapter; ``with_webhook`` requires the webhook secret."""
    secret = None
    if with_webhook:
        value = bot.telegram_webhook_secret
        if value is None or len(value.get_secret_value()) < 32:
            raise ConfigurationError("BOT_TELEGRAM_WEBHOOK_SECRET must be set (32+ characters)")
        secret = value.get_secret_value()
    return TelegramApp(
        bot=create_bot(telegram_token(bot), api_base=bot.telegram_api_base),
        sessionmaker=sessionmaker,
        config=engine_config(bot, surveys),
        webhook_secret=secret,
        sender_config=sender_config(bot),
    )
