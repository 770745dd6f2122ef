"""The hot process's books copied to Redis (the real server on 127.0.0.1:6379), off the hot path."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import redis.asyncio as aioredis

from domain.models import Outcome, Venue
from storage.redis_bus import BOOK_CHANNEL, RedisBus, decode_book
from streamers.book_mirror import MirrorStats, mirror_books, mirror_round
from tests.arbitrage.factories import d, snapshot


async def test_changed_books_are_written_once_with_a_ttl_and_published_as_the_same_payload(redis_url: str) -> None:
    bus = RedisBus(redis_url, book_ttl_seconds=30)
    market = f"0x{uuid.uuid4().hex}"
    first = snapshot(Venue.POLYMARKET, market, d([("0.401", "12.34")]), d([("0.45", 5)]))
    announcements = bus.subscribe(BOOK_CHANNEL)
    heard = asyncio.ensure_future(anext(announcements))
    await asyncio.sleep(0.1)
    stats = MirrorStats()
    await mirror_round([first], bus, stats)
    payload = await asyncio.wait_for(heard, 5)
    await announcements.aclose()
    announced = decode_book(payload)
    assert announced.yes_bids == ((Decimal("0.401"), Decimal("12.34")),)
    loaded = await bus.get_book(Venue.POLYMARKET, market)
    assert loaded == announced
    assert loaded is not None and loaded.best_ask(Outcome.NO) == Decimal("0.599")
    client = aioredis.from_url(redis_url)
    try:
        assert 0 < await client.ttl(f"inertial:book:polymarket:{market}") <= 30
    finally:
        await client.aclose()
    await mirror_round([first], bus, stats)  # unchanged: not written again
    assert (stats.written, stats.errors) == (1, 0)
    await bus.close()


async def test_a_quiet_book_is_written_again_before_its_key_expires(redis_url: str) -> None:
    bus = RedisBus(redis_url, book_ttl_seconds=30)
    book = snapshot(Venue.KALSHI, f"KX-{uuid.uuid4().hex[:8]}", d([("0.40", 10)]), [])
    stats = MirrorStats()
    await mirror_round([book], bus, stats, now=100.0)
    await mirror_round([book], bus, stats, now=109.0)  # quiet, 9 s later: the key has 21 s left
    assert stats.written == 1
    await mirror_round([book], bus, stats, now=111.0)  # past a third of the TTL: renewed
    assert stats.written == 2
    await bus.close()


async def test_redis_down_is_counted_and_the_mirror_keeps_going() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")  # nothing listens there
    stats = MirrorStats()
    book = snapshot(Venue.KALSHI, "KX-DOWN", d([("0.40", 10)]), [])
    task = asyncio.ensure_future(mirror_books(lambda: [book], bus, interval_s=0.01, stats=stats))
    await asyncio.sleep(0.3)
    assert not task.done()
    task.cancel()
    assert stats.errors >= 2 and stats.written == 0
    await bus.close()
