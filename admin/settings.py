"""Settings of the admin API and dashboard (env prefix ``ADMIN_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AdminSettings(BaseSettings):
    """Admin app configuration."""

    model_config = SettingsConfigDict(env_prefix="ADMIN_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="JEUGDSTEM_ENV"
    )
    public_base_url: str = "http://127.0.0.1:8000"
    refresh_seconds: int = 10
    # Cookies get the Secure flag outside development unless set explicitly.
    cookie_secure: bool | None = None
    session_hours: int = 8
    # X-Forwarded-For is honoured only when the direct peer is one of these addresses.
    trusted_proxies: list[str] = Field(default_factory=list)
    telegram_bot_username: str | None = None
    max_body_bytes: int = 1_000_000
    # Smallest group shown unless the municipality's settings say more (never below 5).
    k_min: int = 10

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment != "development"


@lru_cache
def get_settings() -> AdminSettings:
    """Return the process-wide admin settings."""
    return AdminSettings()
