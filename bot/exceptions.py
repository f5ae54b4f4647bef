"""Errors raised by the bot (engine shell and channel adapters).

Hierarchy::

    BotError
    ├── ChannelError        a channel adapter could not parse or deliver a message
    └── ConfigurationError  settings are missing or unsafe (e.g. placeholder pepper)
"""


class BotError(Exception):
    """Root of every error raised by the ``bot`` package."""


class ChannelError(BotError):
    """Raised when a channel adapter cannot parse an update or deliver a message."""


class ConfigurationError(BotError):
    """Raised when bot settings are missing or unsafe outside development."""
