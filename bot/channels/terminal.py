"""Terminal chat (`jeugdstem chat`): try a survey through the same engine and database."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.engine import EngineConfig, handle
from bot.engine.messages import Inbound, Outbound
from surveys import service

CHANNEL = "terminal"


def render_text(message: Outbound) -> str:
    """Render a message for a text-only screen: choices become a numbered list."""
    lines = [message.text]
    if message.style == "scale":
        lines.append("  ".join(f"[{i}] {c.label}" for i, c in enumerate(message.choices, 1)))
    else:
        lines.extend(f"  {i}. {c.label}" for i, c in enumerate(message.choices, 1))
    return "\n".join(lines)


def _as_inbound(address: str, line: str, last: Outbound | None) -> Inbound:
    """Typed numbers answer the last choice list; command buttons need their value."""
    text = line.strip()
    event_id = uuid.uuid4().hex
    if last and last.choices and text.isdigit() and not last.question_key:
        index = int(text)
        if 1 <= index <= len(last.choices):
            return Inbound(CHANNEL, address, event_id, choice=last.choices[index - 1].value)
    return Inbound(CHANNEL, address, event_id, text=text)


async def deliver_pending(
    sessionmaker: async_sessionmaker[AsyncSession], address: str, write: Callable[[str], None]
) -> Outbound | None:
    """Print every queued message to ``address`` and mark it delivered; return the last one."""
    last: Outbound | None = None
    async with sessionmaker() as session, session.begin():
        rows = await service.pending_messages(session, channel=CHANNEL, address=address)
        for row in rows:
            last = Outbound.from_payload(row.payload)
            write(render_text(last))
        if rows:
            await service.mark_delivered(
                session, channel=CHANNEL, address=address, up_to=rows[-1].id
            )
    return last


async def run_terminal(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: EngineConfig,
    *,
    read: Callable[[], str | None],
    write: Callable[[str], None],
    code: str | None = None,
    address: str | None = None,
) -> None:
    """Chat until ``read`` returns None (end of input)."""
    address = address or f"terminal-{uuid.uuid4().hex}"
    last: Outbound | None = None
    line: str | None = f"/start {code}" if code else "/start"
    while line is not None:
        if line.strip():
            async with sessionmaker() as session, session.begin():
                await handle(session, _as_inbound(address, line, last), config=config)
            last = await deliver_pending(sessionmaker, address, write) or last
        line = read()
