"""Book cache and its Redis mirror (against the real local Redis; skipped when unreachable)."""

from __future__ import annotations

from decimal import Decimal

import redis.asyncio as aioredis

from arbitrage.book_cache import BookCache, RedisBookMirror
from domain.models import Outcome, Venue
from tests.arbitrage.factories import d, snapshot


def test_cache_returns_the_latest_snapshot() -> None:
    cache = BookCache()
    first = snapshot(Venue.KALSHI, "KX-TEST", d([("0.40", 10)]), d([("0.45", 5)]))
    cache.put(first)
    second = snapshot(Venue.KALSHI, "KX-TEST", d([("0.41", 10)]), d([("0.45", 5)]))
    cache.put(second)
    assert cache.get(Venue.KALSHI, "KX-TEST") is second
    assert cache.get(Venue.POLYMARKET, "KX-TEST") is None
    assert len(cache) == 1


async def test_redis_mirror_round_trips_exact_books(redis_url: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        mirror = RedisBookMirror(client, ttl_seconds=30)
        book = snapshot(Venue.POLYMARKET, "0xcond", d([("0.401", "12.34")]), d([("0.45", 5)]))
        await mirror.publish(book)
        loaded = await mirror.load(Venue.POLYMARKET, "0xcond")
        assert loaded is not None
        assert loaded.yes_bids == ((Decimal("0.401"), Decimal("12.34")),)
        assert loaded.best_ask(Outcome.NO) == Decimal("0.599")
        assert loaded.updated_at == book.updated_at and loaded.in_sync
        assert 0 < await client.ttl("inertial:book:polymarket:0xcond") <= 30
        assert await mirror.load(Venue.KALSHI, "missing") is None
    finally:
        await client.aclose()
