"""Settings of the bot process and its channels (env prefix ``BOT_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PEPPER = "dev-only-pepper-change-me-0123456789"


class BotSettings(BaseSettings):
    """Pseudonym pepper, web chat and channel configuration."""

    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="JEUGDSTEM_ENV"
    )
    pepper: SecretStr = SecretStr(DEV_PEPPER)
    webchat_cookie_secure: bool = False
    webchat_max_body_bytes: int = 16_384

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> BotSettings:
        if self.environment == "production":
            if self.pepper.get_secret_value() == DEV_PEPPER:
                raise ValueError("BOT_PEPPER must be set to a secret value in production")
            if not self.webchat_cookie_secure:
                raise ValueError("BOT_WEBCHAT_COOKIE_SECURE must be true in production")
        return self

    # --- Telegram (bot/channels/telegram; see docs/telegram.md) ---------------------------
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_api_base: str | None = None
    telegram_rate_per_second: float = 30.0
    telegram_per_chat_interval: float = 1.0
    telegram_max_connections: int = 40
    telegram_sender_in_web: bool = True
    """Run the outbox sender inside the web process. Set it to false when the web server runs
    several workers and one ``jeugdstem bot`` process sends for all of them (one sender, so
    one 30 messages/s limit; on PostgreSQL it is woken at each commit)."""


@lru_cache
def get_settings() -> BotSettings:
    """Return the process-wide bot settings."""
    return BotSettings()
