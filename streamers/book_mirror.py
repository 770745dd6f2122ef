"""Copies the hot process's books to Redis for other processes (the API, a dashboard, a second host).

Off the hot path: once a second it snapshots the books that changed since the last round and
writes them through `storage.redis_bus.RedisBus` (one payload, expiring). A quiet book is
written again before its key expires (a third of the TTL), so current books never vanish.
Redis being down is logged and counted and the next round tries again; it never slows or
stops trading.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
    # per book: (sequence, in_sync) last written, and when (monotonic seconds)
    last: dict[tuple[Venue, str], tuple[tuple[int | None, bool], float]] = field(default_factory=dict)


async def mirror_round(
    books: Iterable[BookSnapshot], bus: RedisBus, stats: MirrorStats, now: float | None = None
) -> None:
    """Write the snapshots whose sequence or sync state moved since they were last written, and
    the quiet ones whose key would otherwise expire."""
    at = time.monotonic() if now is None else now
    renew_after = bus.book_ttl_seconds / 3
    for snapshot in books:
        key = (snapshot.venue, snapshot.market_id)
        state = (snapshot.sequence, snapshot.in_sync)
        written = stats.last.get(key)
        if written is not None and written[0] == state and at - written[1] < renew_after:
            continue
        try:
            await bus.put_book(snapshot)
        except Exception as exc:  # Redis down or slow: trading goes on, the next round retries
            stats.errors += 1
            log.warning("book mirror: %s %s not written: %s", snapshot.venue.value, snapshot.market_id, exc)
            return
        stats.last[key] = (state, at)
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
