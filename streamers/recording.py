"""Opportunity records written behind the hot path, in order.

The detector records every opportunity before the launcher may start its saga, and the
launcher records the outcome before the hot loop evaluates the next book. With the SQL
store each of those is a database transaction awaited on the hot path: about 4 ms
(p50) between a tick and `start_workflow` on SQLite, tens of ms under load
(`bench/bench_tick_to_order.py`). The records are for people and audits, not for the
saga, which carries its own copy of the opportunity; so they are queued here and one
task writes them in the order they were made (an outcome always after its detection).
The first record after a quiet spell waits `delay_s` before its write begins, so the
trade it records goes first: written at once, the transaction ran while the saga's
start was in flight, and its ORM work, SQLite thread and fsync slowed that start by
about 1 ms at p50 (`bench/bench_tick_to_order.py`, alternating runs: start 6.4-6.9 ms
with the delay, 7.2-7.8 ms without).
A write that fails is logged and counted and the next ones still go; `close()` waits
until everything queued is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from arbitrage.opportunity import Opportunity, OpportunityRecorder, OutcomeKind

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[None]]


class QueuedRecorder:
    """An `OpportunityRecorder` that returns at once and lets `store` write in the background."""

    def __init__(self, store: OpportunityRecorder, *, close_timeout_s: float = 10.0, delay_s: float = 0.05) -> None:
        self.store = store
        self.close_timeout_s = close_timeout_s
        self.delay_s = delay_s
        self.written = 0
        self.failures = 0
        self._queue: asyncio.Queue[tuple[str, Write]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def record_detected(self, opportunity: Opportunity) -> None:
        self._put(f"detected {opportunity.opportunity_id}", lambda: self.store.record_detected(opportunity))

    async def record_outcome(self, opportunity_id: str, kind: OutcomeKind, reason: str | None = None) -> None:
        self._put(f"{kind.value} {opportunity_id}", lambda: self.store.record_outcome(opportunity_id, kind, reason))

    def _put(self, what: str, write: Write) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="opportunity-recorder")
        self._queue.put_nowait((what, write))

    async def _run(self) -> None:
        idle = True
        while True:
            what, write = await self._queue.get()
            if idle:
                await asyncio.sleep(self.delay_s)
            try:
                await write()
                self.written += 1
            except Exception:
                self.failures += 1
                log.exception("opportunity record not written: %s", what)
            finally:
                self._queue.task_done()
                idle = self._queue.empty()

    async def close(self) -> None:
        """Write what is queued (for up to `close_timeout_s`), then stop the writer."""
        if self._task is None:
            return
        try:
            async with asyncio.timeout(self.close_timeout_s):
                await self._queue.join()
        except TimeoutError:
            log.error("opportunity recorder closed with %d records not written", self._queue.qsize())
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
