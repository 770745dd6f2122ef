"""Latest book of every market, for readers in this process and (optionally) in others.

In-process readers get a plain dict of immutable `BookSnapshot`s: the single writer
replaces an entry with one assignment, so a reader sees the old or the new snapshot, never
a mix, without a lock. `RedisBookMirror` copies each snapshot to Redis in the lead's
format (`storage.redis_bus`: one JSON value per market, announced on a channel) so other
processes (the CLI, a second detector) read the same books.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from domain.book import BookSnapshot
from domain.models import Venue
from storage.redis_bus import BOOK_CHANNEL, BOOK_KEY, decode_book, encode_book


class BookCache:
    def __init__(self) -> None:
        self._books: dict[tuple[Venue, str], BookSnapshot] = {}

    def put(self, snapshot: BookSnapshot) -> None:
        self._books[(snapshot.venue, snapshot.market_id)] = snapshot

    def get(self, venue: Venue, market_id: str) -> BookSnapshot | None:
        return self._books.get((venue, market_id))

    def __len__(self) -> int:
        return len(self._books)


class RedisBookMirror:
    """Writes snapshots to Redis and reads them back; `ttl_seconds` lets a dead writer's books expire."""

    def __init__(self, client: aioredis.Redis, *, ttl_seconds: int | None = 60) -> None:
        self._redis = client
        self._ttl = ttl_seconds

    async def publish(self, snapshot: BookSnapshot) -> None:
        payload = encode_book(snapshot)
        key = BOOK_KEY.format(venue=snapshot.venue.value, market_id=snapshot.market_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(key, payload, ex=self._ttl)
            pipe.publish(BOOK_CHANNEL, payload)
            await pipe.execute()

    async def load(self, venue: Venue, market_id: str) -> BookSnapshot | None:
        raw = await self._redis.get(BOOK_KEY.format(venue=venue.value, market_id=market_id))
        return None if raw is None else decode_book(raw)
