"""Errors raised by the survey domain and its persistence.

Hierarchy::

    SurveysError
    ├── InvalidDefinition      a survey definition file is malformed
    ├── NotFound               a requested object does not exist (or is outside the tenant)
    ├── Conflict               the change clashes with the current state
    └── PrivacyError           privacy tooling was misconfigured (e.g. empty pepper)
"""


class SurveysError(Exception):
    """Root of every error raised by the ``surveys`` package."""


class InvalidDefinition(SurveysError):
    """Raised when a survey definition is invalid; names the file, question and problem."""


class NotFound(SurveysError):
    """Raised when an object does not exist or is not visible to the caller's municipality."""


class Conflict(SurveysError):
    """Raised when a requested change conflicts with the object's current state."""


class PrivacyError(SurveysError):
    """Raised when privacy tooling is misconfigured, e.g. a missing or placeholder pepper."""
