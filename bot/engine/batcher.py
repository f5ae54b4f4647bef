"""Group commit: inbound messages from many concurrent requests share transactions.

A webhook request hands its translated message to :meth:`GroupCommit.submit` and waits. One
task per process takes everything that is waiting (up to ``max_batch``), runs it through
:func:`bot.engine.engine.handle_many` in one transaction, commits once and then answers every
waiting request. While a batch commits, the next one fills up, so under load a commit carries
many messages and at low load a message waits for nobody (no timer).

Each request still gets its answer only after its message is durably committed, so the
channel may safely treat the HTTP 200 as "stored". If a batch fails (a lost connection, a
deadlock between two processes), its messages are run again one by one, each in its own
transaction, so one bad message cannot take the others down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.engine import EngineConfig, HandleResult, handle_many
from bot.engine.messages import Inbound
from surveys import outbox
from surveys.outbox import ClaimedMessage

log = logging.getLogger(__name__)

Waiter = tuple[Inbound, "asyncio.Future[HandleResult]"]


def _no_lease() -> datetime | None:
    return None


class GroupCommit:
    """Run submitted messages in shared transactions, one batch at a time per process.

    Args:
        sessionmaker: The process's session factory.
        config: The engine configuration.
        max_batch: Most messages per transaction.
        lease_until: Called per batch: queue the replies already claimed until then (the
            in-process sender takes them from ``on_commit``), or None to leave them to any
            sender's claim.
        on_commit: Called after each commit with the rows the batch queued, and whether they
            were queued leased (``lease_until`` gave a time).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: EngineConfig,
        *,
        max_batch: int = 100,
        lease_until: Callable[[], datetime | None] = _no_lease,
        on_commit: Callable[[list[ClaimedMessage], bool], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.config = config
        self.max_batch = max_batch
        self.lease_until = lease_until
        self.on_commit = on_commit
        self.batches = 0
        self.messages = 0
        self._waiting: list[Waiter] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, inbound: Inbound) -> HandleResult:
        """Handle one message; returns after the transaction that holds it has committed."""
        future: asyncio.Future[HandleResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((inbound, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="group-commit")
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                await self._commit(batch)
            except Exception as exc:
                log.warning(
                    "batch of %d failed (%s); handling one by one", len(batch), type(exc).__name__
                )
                for waiter in batch:
                    try:
                        await self._commit([waiter])
                    except Exception as one:
                        if not waiter[1].done():
                            waiter[1].set_exception(one)

    async def _commit(self, batch: list[Waiter]) -> None:
        lease_until = self.lease_until()
        async with self.sessionmaker() as session, session.begin():
            done = await handle_many(
                session,
                [inbound for inbound, _ in batch],
                config=self.config,
                lease_until=lease_until,
            )
            if done.queued and lease_until is None:
                await outbox.wake_senders(session)  # a sender in another process claims them
        self.batches += 1
        self.messages += len(batch)
        if self.on_commit is not None:
            try:  # committed: a failing hand-off must not run the batch again
                self.on_commit(done.queued, lease_until is not None)
            except Exception:
                log.exception("hand-off after commit failed; leased rows go out after the lease")
        for (_, future), result in zip(batch, done.results, strict=True):
            if not future.done():
                future.set_result(result)
