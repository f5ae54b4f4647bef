"""Theme aggregation of scrubbed survey answers: clustering, summaries and suppression.

The pure modules here never touch the database; ``aggregation.jobs`` (DB) is separate.
"""

from aggregation.clustering import (
    MODEL_FORMAT,
    OTHER_THEME_ID,
    AnswerText,
    ClusterConfig,
    ThemeAssignment,
    ThemeInfo,
    ThemeModel,
    cluster_texts,
    fit_themes,
    load_model,
    save_model,
)
from aggregation.exceptions import (
    AggregationError,
    EmptyCorpusError,
    InvalidInputError,
    ModelStateError,
    TaxonomyError,
)
from aggregation.settings import AggregationSettings, get_settings
from aggregation.summaries import (
    RoundSummary,
    ThemeSummary,
    Trend,
    summarise_themes,
    suppress_count,
)
from aggregation.taxonomy import SeedTheme, Taxonomy, load_taxonomy, parse_taxonomy
from aggregation.text import analyse, normalise_text, tokenise

__all__ = [
    "MODEL_FORMAT",
    "OTHER_THEME_ID",
    "AggregationError",
    "AggregationSettings",
    "AnswerText",
    "ClusterConfig",
    "EmptyCorpusError",
    "InvalidInputError",
    "ModelStateError",
    "RoundSummary",
    "SeedTheme",
    "Taxonomy",
    "TaxonomyError",
    "ThemeAssignment",
    "ThemeInfo",
    "ThemeModel",
    "ThemeSummary",
    "Trend",
    "analyse",
    "cluster_texts",
    "fit_themes",
    "get_settings",
    "load_model",
    "load_taxonomy",
    "normalise_text",
    "parse_taxonomy",
    "save_model",
    "summarise_themes",
    "suppress_count",
    "tokenise",
]
