"""What every channel adapter provides: translate platform updates in, render messages out."""

from __future__ import annotations

from typing import Protocol

from bot.engine.messages import Outbound


class Channel(Protocol):
    """A channel delivers rendered outbound messages to one address."""

    name: str

    async def deliver(self, address: str, message: Outbound) -> None:
        """Send ``message`` to ``address`` (raise on a failure worth retrying)."""
        ...
