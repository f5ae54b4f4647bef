"""Settings for the aggregation package (env prefix ``AGGREGATION_``)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AggregationSettings(BaseSettings):
    """Configuration for theme clustering and summaries.

    Entry points build this (or call :func:`get_settings`) and pass plain values on to the
    pure functions; domain code never reads settings itself.
    """

    model_config = SettingsConfigDict(env_prefix="AGGREGATION_", extra="ignore")

    min_group_size: int = Field(default=10, ge=1, description="k_min: smallest publishable group")
    mode: Literal["guided", "discover"] = "guided"
    random_state: int = 0
    taxonomy_path: Path | None = None
    n_jobs: int = Field(default=2, ge=1)
    fit_sample_size: int = Field(default=40_000, ge=100)
    chunk_size: int = Field(default=25_000, ge=100)
    max_quotes: int = Field(default=3, ge=0)


@lru_cache
def get_settings() -> AggregationSettings:
    """Return the process-wide settings, read once from the environment."""
    return AggregationSettings()
