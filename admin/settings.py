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


@lru_cache
def get_settings() -> AdminSettings:
    """Return the process-wide admin settings."""
    return AdminSettings()
