"""Copies the hot process's books to Redis for other processes (the API, a dashboard, a second host).

Off the hot path: once a second it snapshots the books that changed since the last round and
writes them through `storage.redis_bus.RedisBus` (one payload, expiring). Redis being down is
logged and counted and the next round tries again; it never slows or stops trading.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from domain.book import BookSnapshot
from domain.models import Venue
from storage.redis_bus import RedisBus

log = logging.getLogger(__name__)


@dataclass
class MirrorStats:
    written: int = 0
    errors: int = 0
    last: dict[tuple[Venue, str], tuple[int | None, bool]] = field(default_factory=dict)


async def mirror_round(books: Iterable[BookSnapshot], bus: RedisBus, stats: MirrorStats) -> None:
    """Write the snapshots whose sequence or sync state moved since they were last written."""
    for snapshot in books:
        key = (snapshot.venue, snapshot.market_id)
        state = (snapshot.sequence, snapshot.in_sync)
        if stats.last.get(key) == state:
            continue
        try:
            await bus.put_book(snapshot)
        except Exception as exc:  # Redis down or slow: trading goes on, the next round retries
            stats.errors += 1
            log.warning("book mirror: %s %s not written: %s", snapshot.venue.value, snapshot.market_id, exc)
            return
        stats.last[key] = state
        stats.written += 1


async def mirror_books(
    books: Callable[[], Iterable[BookSnapshot]],
    bus: RedisBus,
    interval_s: float = 1.0,
    stats: MirrorStats | None = None,
) -> None:
    """Until cancelled: every `interval_s`, the changed books of `books()` into Redis."""
    stats = stats or MirrorStats()
    while True:
        await mirror_round(books(), bus, stats)
        await asyncio.sleep(interval_s)
