"""Settings of the survey domain and its persistence."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/jeugdstem.db"


class SurveysSettings(BaseSettings):
    """Database connection and domain defaults (env: ``DATABASE_URL``, ``SURVEYS_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURVEYS_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    default_retention_days: int = 365

    def __init__(self, **values: object) -> None:
        import os

        if "database_url" not in values and os.environ.get("DATABASE_URL"):
            values["database_url"] = os.environ["DATABASE_URL"]
        super().__init__(**values)  # type: ignore[arg-type]


@lru_cache
def get_settings() -> SurveysSettings:
    """Return the process-wide settings (read once from the environment and ``.env``)."""
    return SurveysSettings()
