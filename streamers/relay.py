"""From the venue feeds to the detector: which books changed, coalesced per market.

The feeds call `on_book` synchronously on every change (possibly thousands a second), after
applying the frame to their own books; the detector reads those same books. Between them we
keep only *which* markets changed, so a burst never queues stale work: the detector always
evaluates the newest state, and a slow evaluation costs skipped intermediate states, not latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from domain.models import Venue


class ChangedBook(Protocol):
    """A venue feed's book (the object itself is the key: the detector looks it up by identity)."""

    @property
    def venue(self) -> Venue: ...

    @property
    def market_id(self) -> str: ...


class BookRelay:
    def __init__(self) -> None:
        self._dirty: dict[ChangedBook, None] = {}
        self._changed = asyncio.Event()
        self.received = 0
        self.delivered = 0

    def on_book(self, book: ChangedBook) -> None:
        self.received += 1
        dirty = self._dirty
        if not dirty:
            self._changed.set()
        dirty[book] = None

    def drain(self) -> list[ChangedBook]:
        """The markets that changed since the last drain, in the order they first changed."""
        batch, self._dirty = self._dirty, {}
        self._changed.clear()
        self.delivered += len(batch)
        return list(batch)

    async def changes(self) -> AsyncIterator[list[ChangedBook]]:
        """Each round's changed markets (never empty), until cancelled."""
        while True:
            await self._changed.wait()
            batch = self.drain()
            if batch:
                yield batch
