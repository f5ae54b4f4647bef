"""The channel-neutral outbox sender: claim committed rows, pace them, deliver, settle.

One sender runs per channel (in the bot process, or beside the webhook in the web process).
It loops:

1. **Claim** up to ``batch_size`` due rows in a transaction of its own and commit the claim
   (a lease, see :mod:`surveys.outbox`) before sending anything.
2. **Queue** each row in a per-address mailbox, so messages to one chat keep their order while
   different chats are sent concurrently.
3. **Pace**: a token bucket for the whole channel (Telegram: about 30 messages/s per bot) and a
   minimum interval per address (Telegram: about 1 message/s per chat).
4. **Deliver** through :class:`bot.channels.base.Channel` and act on the outcome: ``RetryLater``
   pauses the whole channel for ``retry_after`` and retries; ``TemporaryFailure`` retries with
   exponential backoff (first in memory, then by giving the row back with a later
   ``next_attempt_at``); ``Unreachable`` stops the contact and cancels its queue;
   ``PermanentFailure`` marks the row failed.
5. **Settle** delivered rows as ``sent`` in small batches (one UPDATE per ``flush_interval``).

The webhook calls :meth:`OutboxSender.notify` after its commit, so a reply leaves within
milliseconds; without a notify (another process queued the row) the poll interval applies.
Never logs addresses, payloads or message text: only outbox ids and error class names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    Channel,
    PermanentFailure,
    RetryLater,
    TemporaryFailure,
    Unreachable,
)
from bot.engine.messages import Outbound
from surveys import outbox
from surveys.models import utc_now
from surveys.outbox import ClaimedMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderConfig:
    """Pacing and retry policy of one sender.

    Attributes:
        batch_size: Rows claimed per claim transaction.
        max_in_flight: Rows held in memory at most (claimed, not yet settled).
        lease_seconds: How long a claim holds before another sender may take the row.
        rate_per_second: Messages per second for the whole channel (0 = no limit).
        burst: Token-bucket size for ``rate_per_second``.
        per_address_interval: Minimum seconds between two messages to one address.
        poll_interval: Seconds between claims when nobody calls :meth:`OutboxSender.notify`.
        max_attempts: Claims per row before it is marked failed.
        inline_retries: Retries in memory before a row is given back to the table.
        max_inline_wait: Longest ``retry_after`` slept in memory; longer ones reschedule.
        backoff_base: First backoff in seconds (doubles per attempt).
        backoff_max: Longest backoff in seconds.
        flush_interval: Seconds to gather delivered ids into one ``sent`` UPDATE.
        claim_delay: Seconds to wait after a wake-up so one claim picks up several commits.
    """

    batch_size: int = 100
    max_in_flight: int = 1000
    lease_seconds: float = 300.0
    rate_per_second: float = 30.0
    burst: int = 30
    per_address_interval: float = 1.0
    poll_interval: float = 1.0
    max_attempts: int = 8
    inline_retries: int = 2
    max_inline_wait: float = 30.0
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    flush_interval: float = 0.02
    claim_delay: float = 0.005


class RateLimiter:
    """An asyncio token bucket that can also be paused (after a 429)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(max(burst, 1))
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Let nobody through for ``seconds`` (the platform's ``retry_after``)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        """Wait for a token (first come, first served)."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if self.rate <= 0:
                    return
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


@dataclass
class SenderStats:
    """Counters since start (for the bench and the health endpoint)."""

    claimed: int = 0
    accepted: int = 0
    sent: int = 0
    retried: int = 0
    rescheduled: int = 0
    failed: int = 0
    unreachable: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class OutboxSender:
    """Deliver one channel's outbox rows exactly once per row (see :mod:`surveys.outbox`)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channel: Channel,
        config: SenderConfig | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.channel = channel
        self.config = config or SenderConfig()
        self.stats = SenderStats()
        self._limiter = RateLimiter(self.config.rate_per_second, self.config.burst)
        self._mailboxes: dict[str, deque[ClaimedMessage]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._held: set[int] = set()
        self._last_sent: dict[str, float] = {}
        self._delivered: list[int] = []
        self._flusher: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._running = False

    # --- public API ---------------------------------------------------------------------

    def notify(self) -> None:
        """Something was committed to the outbox: claim now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and deliver until :meth:`stop` is called."""
        self._stopping = False
        self._running = True
        try:
            async with outbox.listen(self.sessionmaker, self.notify) as listening:
                log.debug("%s sender: wake-ups %s", self.channel.name, listening)
                await self._loop()
        finally:
            self._running = False

    async def _loop(self) -> None:
        while not self._stopping:
            room = self.config.max_in_flight - len(self._held)
            if room <= 0:
                await asyncio.sleep(0.01)
                continue
            self._wake.clear()
            limit = min(self.config.batch_size, room)
            try:
                claimed = await self._claim(limit)
            except Exception as exc:  # database down: keep the loop alive
                log.warning("outbox claim failed: %s", type(exc).__name__)
                claimed = 0
                await asyncio.sleep(self.config.poll_interval)
            if claimed < limit:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
                if self.config.claim_delay > 0:
                    await asyncio.sleep(self.config.claim_delay)  # batch concurrent commits

    async def stop(self) -> None:
        """Stop claiming, finish the messages in memory and settle them."""
        self._stopping = True
        self._wake.set()
        await self._wait_idle()
        await self._flush()

    async def drain(self) -> int:
        """Deliver everything due now, wait for it and settle it; return rows claimed."""
        total = 0
        while True:
            claimed = await self._claim(self.config.batch_size)
            total += claimed
            await self._wait_idle()
            await self._flush()
            if claimed == 0:
                return total

    # --- claiming -----------------------------------------------------------------------

    async def _claim(self, limit: int) -> int:
        async with self.sessionmaker() as session, session.begin():
            rows = await outbox.claim_due(
                session,
                channel=self.channel.name,
                limit=limit,
                lease_seconds=self.config.lease_seconds,
                exclude=sorted(self._held),
            )
        # The claim is committed: from here on no other sender takes these rows.
        self._take(rows)
        self.stats.claimed += len(rows)
        return len(rows)

    def lease_until(self) -> datetime | None:
        """Until when rows queued for :meth:`accept` are leased.

        None (queue them unclaimed, for the claim loop) unless :meth:`run` is running and
        fewer than ``max_in_flight`` rows are held in memory.
        """
        if not self._running or self._stopping or len(self._held) >= self.config.max_in_flight:
            return None
        return utc_now() + timedelta(seconds=self.config.lease_seconds)

    def accept(self, rows: Sequence[ClaimedMessage]) -> None:
        """Deliver rows this process committed already leased to this sender (no claim).

        The engine queues them with ``attempts = 1`` and a lease from :meth:`lease_until`, so
        no other sender takes them; if this process dies before they are marked sent, they
        are claimed again when the lease ends, as after any claim.
        """
        if self._stopping:
            return  # leased rows come back to a sender when their lease ends
        fresh = [row for row in rows if row.id not in self._held]
        self._take(fresh)
        self.stats.accepted += len(fresh)

    def _take(self, rows: Sequence[ClaimedMessage]) -> None:
        for row in rows:
            self._held.add(row.id)
            self._mailboxes.setdefault(row.address, deque()).append(row)
            if row.address not in self._workers:
                self._workers[row.address] = asyncio.create_task(self._work(row.address))

    async def _wait_idle(self) -> None:
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def _work(self, address: str) -> None:
        try:
            while queue := self._mailboxes.get(address):
                row = queue.popleft()
                try:
                    await self._send(row)
                except Exception as exc:  # never let one row kill the address's worker
                    log.exception("outbox row %s: unexpected %s", row.id, type(exc).__name__)
                    self._held.discard(row.id)
        finally:
            for left in self._mailboxes.pop(address, ()):
                self._held.discard(left.id)  # cancelled: the lease brings them back
            self._workers.pop(address, None)

    # --- delivering ---------------------------------------------------------------------

    async def _pace(self, address: str) -> None:
        interval = self.config.per_address_interval
        last = self._last_sent.get(address)
        if interval > 0 and last is not None:
            wait = last + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return float(
            min(self.config.backoff_max, self.config.backoff_base * 2 ** max(attempt - 1, 0))
        )

    async def _send(self, row: ClaimedMessage) -> None:
        message = Outbound.from_payload(row.payload)
        retries = 0
        while True:
            await self._pace(row.address)
            await self._limiter.acquire()
            try:
                await self.channel.deliver(row.address, message, ref=row.id)
            except RetryLater as exc:
                self._count(exc)
                self._limiter.pause(exc.retry_after)
                if retries < self.config.inline_retries and (
                    exc.retry_after <= self.config.max_inline_wait
                ):
                    retries += 1
                    self.stats.retried += 1
                    continue  # acquire() waits out the pause
                await self._later(row, exc.retry_after, "rate limited")
                return
            except Unreachable as exc:
                self._count(exc)
                await self._unreachable(row)
                return
            except PermanentFailure as exc:
                self._count(exc)
                await self._failed(row, f"permanent: {exc}")
                return
            except (TemporaryFailure, Exception) as exc:
                self._count(exc)
                if retries < self.config.inline_retries:
                    retries += 1
                    self.stats.retried += 1
                    await asyncio.sleep(self._backoff(retries))
                    continue
                if row.attempts >= self.config.max_attempts:
                    await self._failed(row, f"gave up: {type(exc).__name__}")
                else:
                    await self._later(row, self._backoff(row.attempts + 1), type(exc).__name__)
                return
            self._last_sent[row.address] = time.monotonic()
            self._delivered.append(row.id)
            self.stats.sent += 1
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush_soon())
            return

    def _count(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.stats.errors[name] = self.stats.errors.get(name, 0) + 1

    # --- settling -----------------------------------------------------------------------

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.config.flush_interval)
        await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:  # drain() waits for a flush already in progress
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        while self._delivered:
            ids, self._delivered = self._delivered, []
            try:
                async with self.sessionmaker() as session, session.begin():
                    await outbox.mark_sent(session, ids)
            except Exception as exc:
                # Not marked: the lease expires and the rows are sent again (at least once).
                log.error("marking %d outbox rows sent failed: %s", len(ids), type(exc).__name__)
            self._held.difference_update(ids)
        cutoff = time.monotonic() - max(self.config.per_address_interval, 0.0)
        if len(self._last_sent) > 10_000:
            self._last_sent = {a: t for a, t in self._last_sent.items() if t > cutoff}

    async def _later(self, row: ClaimedMessage, delay: float, error: str) -> None:
        self.stats.rescheduled += 1
        async with self.sessionmaker() as session, session.begin():
            await outbox.reschedule(
                session, row.id, at=utc_now() + timedelta(seconds=delay), error=error
            )
        self._held.discard(row.id)

    async def _failed(self, row: ClaimedMessage, error: str) -> None:
        self.stats.failed += 1
        log.warning("outbox row %s failed after %d attempts", row.id, row.attempts)
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark_failed(session, row.id, error=error)
        self._held.discard(row.id)

    async def _unreachable(self, row: ClaimedMessage) -> None:
        self.stats.unreachable += 1
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark_failed(session, row.id, error="unreachable")
            await outbox.stop_address(session, channel=self.channel.name, address=row.address)
        self._held.discard(row.id)
        for left in self._mailboxes.get(row.address, deque()):
            self._held.discard(left.id)  # cancelled in the table by stop_address
        self._mailboxes.pop(row.address, None)
