"""Exceptions raised by the aggregation package.

All errors share one root so callers can catch the whole package at once::

    AggregationError
    ├── InvalidInputError        bad answer records or input file lines
    ├── TaxonomyError            a theme taxonomy file is missing or malformed
    ├── EmptyCorpusError         nothing left to cluster after filtering
    └── ModelStateError          a theme model is used before fitting or is incompatible
"""


class AggregationError(Exception):
    """Root of every error raised by :mod:`aggregation`."""


class InvalidInputError(AggregationError):
    """Raised when an answer record or an input line is malformed.

    Attributes:
        line_number: 1-based line number in the input file, when known.
    """

    def __init__(self, message: str, *, line_number: int | None = None) -> None:
        self.line_number = line_number
        prefix = f"line {line_number}: " if line_number is not None else ""
        super().__init__(f"{prefix}{message}")


class TaxonomyError(AggregationError):
    """Raised when a theme taxonomy cannot be loaded or fails validation."""


class EmptyCorpusError(AggregationError):
    """Raised when no answers (or no usable words) remain to cluster."""


class ModelStateError(AggregationError):
    """Raised when a theme model is used before fitting or is incompatible with its input."""
