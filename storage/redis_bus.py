"""Redis for multi-process deployments: latest order-book snapshots and pub/sub between processes.

Off in the embedded default (one process needs neither). Books are written as one
JSON value per market (exact prices as strings) and the same bytes are published on a
channel, so a reader in another process gets a consistent snapshot with a single GET or
from the announcement itself. A key expires `book_ttl_seconds` after its last write, so a
dead writer's books vanish instead of looking current.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal

import orjson
import redis.asyncio as aioredis

from domain.book import BookSnapshot, Level
from domain.models import Venue

BOOK_KEY = "inertial:book:{venue}:{market_id}"
BOOK_CHANNEL = "inertial:books"


def encode_book(snapshot: BookSnapshot) -> bytes:
    return orjson.dumps(
        {
            "venue": snapshot.venue.value,
            "market_id": snapshot.market_id,
            "yes_bids": [[str(p), str(s)] for p, s in snapshot.yes_bids],
            "yes_asks": [[str(p), str(s)] for p, s in snapshot.yes_asks],
            "sequence": snapshot.sequence,
            "updated_at": snapshot.updated_at.isoformat() if snapshot.updated_at else None,
            "in_sync": snapshot.in_sync,
            "hash": snapshot.hash,
        }
    )


def decode_book(raw: bytes | str) -> BookSnapshot:
    data = orjson.loads(raw)

    def levels(rows: list[list[str]]) -> tuple[Level, ...]:
        return tuple((Decimal(p), Decimal(s)) for p, s in rows)

    return BookSnapshot(
        venue=Venue(data["venue"]),
        market_id=data["market_id"],
        yes_bids=levels(data["yes_bids"]),
        yes_asks=levels(data["yes_asks"]),
        sequence=data["sequence"],
        updated_at=datetime.fromisoformat(data["updated_at"]) if data["updated_at"] else None,
        in_sync=data["in_sync"],
        hash=data["hash"],
    )


class RedisBus:
    def __init__(self, url: str, *, book_ttl_seconds: int = 60) -> None:
        self._redis = aioredis.from_url(url)
        self.book_ttl_seconds = book_ttl_seconds

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()

    async def publish(self, channel: str, payload: bytes) -> int:
        return int(await self._redis.publish(channel, payload))

    async def subscribe(self, channel: str) -> AsyncGenerator[bytes, None]:
        """Messages published on `channel` from now on, until the caller stops iterating."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(channel)
        try:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    yield message["data"]
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()

    async def put_book(self, snapshot: BookSnapshot) -> None:
        """Store the snapshot (expiring) and publish the same payload; one round trip through a pipeline."""
        key = BOOK_KEY.format(venue=snapshot.venue.value, market_id=snapshot.market_id)
        payload = encode_book(snapshot)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(key, payload, ex=self.book_ttl_seconds)
            pipe.publish(BOOK_CHANNEL, payload)
            await pipe.execute()

    async def get_book(self, venue: Venue, market_id: str) -> BookSnapshot | None:
        raw = await self._redis.get(BOOK_KEY.format(venue=venue.value, market_id=market_id))
        return None if raw is None else decode_book(raw)
