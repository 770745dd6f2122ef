"""The hot loop: book changes → detector → each opportunity recorded, admitted and started (streamers/arbitrage.py).

It runs in the same event loop as the streams (which feed `relay`) and the in-process
worker, so a tick reaches `start_workflow` without crossing a process boundary. The
loop never blocks on a saga: starting a workflow is the only await per opportunity.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from arbitrage.detector import BookView, Detector
from arbitrage.opportunity import Opportunity
from domain.models import Venue
from streamers.arbitrage import ArbitrageTrades
from streamers.relay import BookRelay
from venues.reconnect import ReconnectingWebSocket

log = logging.getLogger(__name__)


@dataclass
class HotStats:
    evaluations: int = 0
    opportunities: int = 0
    sagas_started: int = 0
    errors: int = 0
    last_detect_us: float = 0.0
    recent: list[Opportunity] = field(default_factory=list)


class HotLoop:
    def __init__(self, relay: BookRelay, detector: Detector, trades: ArbitrageTrades, *, keep_recent: int = 20) -> None:
        self.relay = relay
        self.detector = detector
        self.trades = trades
        self.stats = HotStats()
        self._keep = keep_recent

    async def run(self) -> None:
        """Until cancelled. An error on one book is logged and counted; the loop goes on."""
        async for batch in self.relay.changes():
            for book in batch:
                try:
                    started = time.perf_counter()
                    found = self.detector.changed(book, time.time_ns())
                    self.stats.last_detect_us = (time.perf_counter() - started) * 1e6
                    self.stats.evaluations += 1
                    await self._launch(found)
                except Exception:
                    self.stats.errors += 1
                    log.exception("hot loop: %s %s", book.venue.value, book.market_id)

    async def revisit(self, books: list[BookView]) -> None:
        """Evaluate books that changed nothing but became fresh again (see `Detector.touch`)."""
        for book in books:
            try:
                await self._launch(self.detector.evaluate(book))
            except Exception:
                self.stats.errors += 1
                log.exception("hot loop, revisiting: %s %s", book.venue.value, book.market_id)

    async def _launch(self, found: list[Opportunity]) -> None:
        for opportunity in found:
            self.stats.opportunities += 1
            self.stats.recent = [opportunity, *self.stats.recent][: self._keep]
            if await self.trades.take(opportunity) is not None:
                self.stats.sagas_started += 1


async def keep_quiet_books_fresh(
    loop: HotLoop, connections: Mapping[Venue, ReconnectingWebSocket], interval_s: float = 1.0
) -> None:
    """A quiet book is a current book while its stream is connected and in sync (the venue would
    have sent a change otherwise); without this, one quiet venue would make every window stale.
    A book that was stale until now is evaluated again: a window may have opened meanwhile."""
    while True:
        now = time.time_ns()
        for venue, connection in connections.items():
            if connection.connected.is_set():
                revived = loop.detector.touch(venue, now)
                if revived:
                    await loop.revisit(revived)
        await asyncio.sleep(interval_s)
