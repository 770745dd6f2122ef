"""A pair store in memory with the repository's rules (`merge_suggestion`, `decided`), for tests."""

from __future__ import annotations

import asyncio
from datetime import datetime

from domain.models import MarketPair, PairStatus
from matching.pairs import PairNotFoundError, decided, merge_suggestion


class InMemoryPairRepository:
    def __init__(self) -> None:
        self._pairs: dict[str, MarketPair] = {}
        self._lock = asyncio.Lock()

    async def suggest(self, pair: MarketPair) -> MarketPair:
        async with self._lock:
            kept = self._pairs[pair.pair_id] = merge_suggestion(self._pairs.get(pair.pair_id), pair)
            return kept

    async def get(self, pair_id: str) -> MarketPair | None:
        return self._pairs.get(pair_id)

    async def list_pairs(self, status: PairStatus | None = None) -> list[MarketPair]:
        pairs = sorted(self._pairs.values(), key=lambda p: (-p.confidence, p.pair_id))
        return [p for p in pairs if status is None or p.status is status]

    async def decide(self, pair_id: str, status: PairStatus, by: str, at: datetime | None = None) -> MarketPair:
        async with self._lock:
            pair = self._pairs.get(pair_id)
            if pair is None:
                raise PairNotFoundError(pair_id)
            kept = self._pairs[pair_id] = decided(pair, status, by, at)
            return kept
