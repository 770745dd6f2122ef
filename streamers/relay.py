"""From stream callbacks to the detector: book changes coalesced per market.

Streams call `on_book` synchronously on every change (possibly thousands a second);
the detector runs in its own task. Between them we keep only the latest book per
market, so a burst never queues stale work: the detector always evaluates the
newest state, and a slow evaluation costs skipped intermediate states, not latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from domain.book import BookSnapshot, OrderBook
from domain.models import Venue


class BookRelay:
    def __init__(self) -> None:
        self._dirty: dict[tuple[Venue, str], OrderBook] = {}
        self._changed = asyncio.Event()
        self.received = 0
        self.delivered = 0

    def on_book(self, book: OrderBook) -> None:
        self.received += 1
        self._dirty[(book.venue, book.market_id)] = book
        self._changed.set()

    async def changes(self) -> AsyncIterator[BookSnapshot]:
        """Snapshots of every market that changed since the last round, until cancelled."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            batch, self._dirty = self._dirty, {}
            for book in batch.values():
                self.delivered += 1
                yield book.snapshot()
