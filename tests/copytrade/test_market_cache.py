"""Markets kept for a short while: one venue read per market per TTL, shared, and a failure never kept."""

from __future__ import annotations

import asyncio

import pytest

from activities.market_cache import MarketCache
from domain.models import Market, Venue


def _market(market_id: str) -> Market:
    return Market(
        venue=Venue.KALSHI, market_id=market_id, title="q?", yes_token=f"{market_id}:yes", no_token=f"{market_id}:no"
    )


async def test_one_read_per_ttl_shared_by_concurrent_copies() -> None:
    reads: list[str] = []
    now = [0.0]

    async def source(venue: Venue, market_id: str) -> Market:
        reads.append(market_id)
        await asyncio.sleep(0.01)
        return _market(market_id)

    cache = MarketCache(source, ttl_s=30, clock=lambda: now[0])
    first = await asyncio.gather(*(cache(Venue.KALSHI, "A") for _ in range(5)))
    assert {m.market_id for m in first} == {"A"} and reads == ["A"]
    now[0] = 29.9
    await cache(Venue.KALSHI, "A")
    await cache(Venue.KALSHI, "B")
    assert reads == ["A", "B"]
    now[0] = 30.0
    await cache(Venue.KALSHI, "A")
    assert reads == ["A", "B", "A"]


async def test_a_failed_read_is_not_kept() -> None:
    calls = [0]

    async def source(venue: Venue, market_id: str) -> Market:
        calls[0] += 1
        if calls[0] == 1:
            raise ConnectionError("venue down")
        return _market(market_id)

    cache = MarketCache(source, clock=lambda: 0.0)
    with pytest.raises(ConnectionError):
        await cache(Venue.KALSHI, "A")
    assert (await cache(Venue.KALSHI, "A")).market_id == "A" and calls[0] == 2
