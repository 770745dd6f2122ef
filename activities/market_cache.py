"""Markets as their venues list them, kept for a short while: a copy needs the tick, minimum size and
open state of its market, which change rarely, and asking the venue again on every copy costs a REST
round trip on the copy's critical path (about 8 ms against the sandboxes). A market that closes
within `ttl_s` is refused by the venue at the order, never traded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from activities.copies import MarketSource
from domain.models import Market, Venue


class MarketCache:
    def __init__(self, source: MarketSource, ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._ttl = ttl_s
        self._clock = clock
        self._entries: dict[tuple[Venue, str], tuple[float, asyncio.Future[Market]]] = {}

    async def __call__(self, venue: Venue, market_id: str) -> Market:
        """One read per market per `ttl_s`, shared by the copies asking at once; a failed read is not kept."""
        key = (venue, market_id)
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._ttl:
            return await asyncio.shield(entry[1])
        read = asyncio.ensure_future(self._source(venue, market_id))
        self._entries[key] = (now, read)
        try:
            return await asyncio.shield(read)
        except BaseException:
            if self._entries.get(key) == (now, read):
                del self._entries[key]
            raise
