"""Settings of the survey domain and its persistence."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/jeugdstem.db"
# Development-only key; production refuses it.
DEV_QUARANTINE_KEY = "ZGV2LW9ubHkta2V5LWNoYW5nZS1tZS0wMTIzNDU2Nzg="


class SurveysSettings(BaseSettings):
    """Database connection and domain defaults (env: ``DATABASE_URL``, ``SURVEYS_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURVEYS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="JEUGDSTEM_ENV"
    )
    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    default_retention_days: int = 365
    quarantine_key: SecretStr = SecretStr(DEV_QUARANTINE_KEY)
    quarantine_retention_days: int = 30
    inbox_retention_days: int = 7

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> SurveysSettings:
        if (
            self.environment == "production"
            and self.quarantine_key.get_secret_value() == DEV_QUARANTINE_KEY
        ):
            raise ValueError("SURVEYS_QUARANTINE_KEY must be set to a secret key in production")
        return self

    def __init__(self, **values: object) -> None:
        import os

        if "database_url" not in values and os.environ.get("DATABASE_URL"):
            values["database_url"] = os.environ["DATABASE_URL"]
        super().__init__(**values)  # type: ignore[arg-type]


@lru_cache
def get_settings() -> SurveysSettings:
    """Return the process-wide settings (read once from the environment and ``.env``)."""
    return SurveysSettings()
