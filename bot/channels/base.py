"""What every channel adapter provides: translate platform updates in, render messages out.

Delivery outcomes a sender acts on (raised by :meth:`Channel.deliver`)::

    ChannelError (bot.exceptions)
    └── DeliveryError        base: the message was not delivered
        ├── RetryLater       the platform asked us to wait (HTTP 429 ``retry_after``)
        ├── TemporaryFailure 5xx, timeouts, network errors: try again with backoff
        ├── Unreachable      the participant blocked the bot or left: stop the contact
        └── PermanentFailure the platform refused this message for good (e.g. HTTP 400)
"""

from __future__ import annotations

from typing import Protocol

from bot.engine.messages import Outbound
from bot.exceptions import ChannelError


class DeliveryError(ChannelError):
    """Raised by :meth:`Channel.deliver` when a message was not delivered."""


class RetryLater(DeliveryError):
    """Raised when the platform rate-limits us; wait ``retry_after`` seconds and try again."""

    def __init__(self, retry_after: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class TemporaryFailure(DeliveryError):
    """Raised on server errors, timeouts and network errors (retry with backoff)."""


class Unreachable(DeliveryError):
    """Raised when the participant can no longer be reached (blocked the bot, deleted)."""


class PermanentFailure(DeliveryError):
    """Raised when the platform refuses this message for good; retrying will not help."""


class Channel(Protocol):
    """A channel delivers rendered outbound messages to one address."""

    name: str

    async def deliver(self, address: str, message: Outbound, *, ref: int | None = None) -> None:
        """Send ``message`` to ``address``.

        Args:
            address: The channel address (chat id, phone id, session id).
            message: The message to render and send.
            ref: The outbox id of the message (channels may put it in button data).

        Raises:
            DeliveryError: One of its subclasses, saying what the sender should do next.
        """
        ...
