"""The Redis adapter against the real server on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from domain.book import OrderBook
from domain.models import Venue
from storage.redis_bus import BOOK_CHANNEL, RedisBus, decode_book


async def test_book_snapshot_round_trips_exactly_and_is_announced(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    book = OrderBook(Venue.KALSHI, "KXBTC-1")
    book.replace(
        [(Decimal("0.37"), Decimal("120")), (Decimal("0.36"), Decimal("5.5"))],
        [(Decimal("0.38"), Decimal("7"))],
        sequence=42,
        at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    announcements = bus.subscribe(BOOK_CHANNEL)
    first = asyncio.ensure_future(anext(announcements))
    await asyncio.sleep(0.1)
    await bus.put_book(book.snapshot())
    assert decode_book(await asyncio.wait_for(first, 5)) == book.snapshot()
    await announcements.aclose()
    got = await bus.get_book(Venue.KALSHI, "KXBTC-1")
    assert got is not None
    assert got.yes_bids == book.snapshot().yes_bids
    assert got.no_bids == ((Decimal("0.62"), Decimal("7")),)
    assert (got.sequence, got.in_sync, got.updated_at) == (42, True, datetime(2026, 11, 25, tzinfo=UTC))
    assert await bus.get_book(Venue.POLYMARKET, "missing") is None
    await bus.close()
