"""Claim, lease and settle outbox rows for a channel's sender (never commits on its own).

The sender claims due rows in a transaction of its own and commits that claim *before* it
sends anything. A claim is a lease: ``attempts`` goes up and ``next_attempt_at`` moves to the
end of the lease, so no other sender (or a restarted one) picks the row while it is in flight.
On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so concurrent senders never block on
or double-claim a row; on SQLite every write transaction is ``BEGIN IMMEDIATE`` (see
:mod:`surveys.db`), which serialises claims.

Wake-up across processes (PostgreSQL): a transaction that queues rows for any sender calls
:func:`wake_senders`, which sends ``NOTIFY jeugdstem_outbox`` at its commit; a sender inside
:func:`listen` claims at once instead of at its next poll. So a dedicated sender process
(``jeugdstem bot``) next to web workers that run none replies within milliseconds. On SQLite,
and for the second or so after the listening connection is lost (it listens again on a new
one), the poll interval applies.

Outcome after a crash: a row whose claim committed but whose ``sent`` mark did not (the process
died during the HTTP call or before the mark was flushed) stays ``pending``; when its lease ends
it is claimed and sent again. That narrow window is therefore *at least once*; everywhere else
(committed-not-claimed, claimed-and-marked) it is exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from surveys import service
from surveys.models import Contact, ContactStatus, OutboxMessage, OutboxStatus, utc_now

MAX_ERROR = 200
WAKE_CHANNEL = "jeugdstem_outbox"
FIRST_LISTEN_WAIT = 5.0  # seconds; after that the sender starts polling and listens later

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A leased outbox row, detached from the session.

    Attributes:
        id: Outbox id (orders messages per address).
        address: Where the channel delivers it.
        payload: The serialised outbound message.
        attempts: Claims so far, this one included.
    """

    id: int
    address: str
    payload: dict[str, Any]
    attempts: int


async def claim_due(
    session: AsyncSession,
    *,
    channel: str,
    limit: int,
    lease_seconds: float,
    now: datetime | None = None,
    exclude: Sequence[int] = (),
) -> list[ClaimedMessage]:
    """Lease up to ``limit`` due pending rows of ``channel``, oldest first.

    Args:
        session: A session whose transaction the caller commits right after this call.
        channel: Channel name (``telegram``).
        limit: Most rows to claim.
        lease_seconds: How long the claim holds before another sender may take the row.
        now: The current time (tests freeze it).
        exclude: Ids this sender already holds in memory (never claimed twice in-process).

    Returns:
        The claimed rows in id order.
    """
    now = now or utc_now()
    table = service.outbox_table()
    due = (
        select(table.c.id)
        .where(
            table.c.channel == channel,
            table.c.status == OutboxStatus.pending.value,
            or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now),
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if exclude:
        due = due.where(table.c.id.not_in(list(exclude)))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One statement: lease the due rows and read them back (the usual queue claim).
    result = await session.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(
            attempts=table.c.attempts + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
        )
        .returning(table.c.id, table.c.address, table.c.payload, table.c.attempts)
    )
    return sorted(
        (
            ClaimedMessage(id=int(i), address=str(a), payload=dict(p), attempts=int(n))
            for i, a, p, n in result.all()
        ),
        key=lambda row: row.id,
    )


async def mark_sent(
    session: AsyncSession, ids: Sequence[int], *, now: datetime | None = None
) -> int:
    """Mark delivered rows ``sent`` (rows cancelled meanwhile stay cancelled)."""
    if not ids:
        return 0
    table = service.outbox_table()  # Core: no ORM session synchronisation needed
    result = await session.execute(
        update(table)
        .where(table.c.id.in_(list(ids)), table.c.status == OutboxStatus.pending.value)
        .values(status=OutboxStatus.sent.value, sent_at=now or utc_now(), last_error=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def reschedule(session: AsyncSession, message_id: int, *, at: datetime, error: str) -> None:
    """Give a row back for a later attempt (after a 429, a 5xx or a network error)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.pending.value)
        .values(next_attempt_at=at, last_error=error[:MAX_ERROR])
    )


async def mark_failed(session: AsyncSession, message_id: int, *, error: str) -> None:
    """Give up on a row (permanent error or too many attempts)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.pending.value)
        .values(status=OutboxStatus.failed.value, last_error=error[:MAX_ERROR])
    )


async def stop_address(session: AsyncSession, *, channel: str, address: str) -> int:
    """The channel says this address can no longer be reached (blocked): stop it.

    Marks every contact of ``channel`` with this delivery address stopped and cancels its
    queued messages. Returns the number of contacts stopped.
    """
    result = await session.execute(
        update(Contact)
        .where(Contact.channel == channel, Contact.address == address)
        .values(status=ContactStatus.stopped.value)
    )
    await service.cancel_outbox(session, channel=channel, address=address)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def stop_contact_by_key(session: AsyncSession, *, channel: str, address_key: str) -> bool:
    """Stop the contact with this pseudonymous key (blocked bot); False if there is none."""
    contact = await session.scalar(
        select(Contact).where(Contact.channel == channel, Contact.address_key == address_key)
    )
    if contact is None:
        return False
    await service.stop_contact(session, contact)
    return True


async def contact_state(
    session: AsyncSession, *, channel: str, address_key: str
) -> tuple[str, str] | None:
    """``(language, status)`` of the contact with this pseudonymous key, or None if unknown."""
    row = (
        await session.execute(
            select(Contact.language, Contact.status).where(
                Contact.channel == channel, Contact.address_key == address_key
            )
        )
    ).first()
    return (str(row[0]), str(row[1])) if row is not None else None


async def get_payload(
    session: AsyncSession, *, message_id: int, channel: str, address: str
) -> dict[str, Any] | None:
    """The payload of one outbox row, only if it was queued for this channel and address."""
    row = await session.scalar(
        select(OutboxMessage.payload).where(
            OutboxMessage.id == message_id,
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
        )
    )
    return dict(row) if row is not None else None


# --- wake-up across processes ------------------------------------------------------------


async def wake_senders(session: AsyncSession) -> None:
    """Wake listening senders when this transaction commits (PostgreSQL; no-op elsewhere)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(WAKE_CHANNEL, "")))


@asynccontextmanager
async def listen(
    sessionmaker: async_sessionmaker[AsyncSession],
    on_wake: Callable[[], None],
    *,
    retry_seconds: float = 1.0,
) -> AsyncIterator[bool]:
    """Call ``on_wake`` whenever a transaction that called :func:`wake_senders` commits.

    Holds one connection of the pool while entered. If that connection is lost (a database
    restart), it listens again on a new one after ``retry_seconds`` and calls ``on_wake``
    once, so rows queued in between are claimed then. Yields whether it listens within
    ``FIRST_LISTEN_WAIT`` seconds (False on SQLite: the caller keeps polling).
    """
    engine = sessionmaker.kw.get("bind")
    if engine is None or engine.dialect.name != "postgresql":
        yield False
        return
    first: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(_keep_listening(engine, on_wake, retry_seconds, first))
    try:
        try:  # a database that does not answer must not hold up the sender's start
            listening = await asyncio.wait_for(asyncio.shield(first), FIRST_LISTEN_WAIT)
        except TimeoutError:
            listening = False
        yield listening
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _keep_listening(
    engine: AsyncEngine,
    on_wake: Callable[[], None],
    retry_seconds: float,
    first: asyncio.Future[bool],
) -> None:
    def callback(*_: object) -> None:
        on_wake()

    delay = retry_seconds
    while True:
        lost = asyncio.Event()
        conn: AsyncConnection | None = None
        try:
            conn = await engine.connect()
            raw: Any = (await conn.get_raw_connection()).driver_connection
            raw.add_termination_listener(lambda *_, event=lost: event.set())
            await raw.add_listener(WAKE_CHANNEL, callback)
            delay = retry_seconds
            if first.done():
                on_wake()  # listening again: claim what was queued while we were not
            else:
                first.set_result(True)
            await lost.wait()
            log.warning("outbox wake-up connection lost; listening again")
        except Exception as exc:  # no wake-ups for now: polling still delivers everything
            log.warning("outbox wake-up not available: %s", type(exc).__name__)
            if not first.done():
                first.set_result(False)
            delay = min(delay * 2, 30.0)  # the database is down: do not hammer it
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.invalidate()  # never back to the pool: it held a LISTEN
        await asyncio.sleep(delay)
