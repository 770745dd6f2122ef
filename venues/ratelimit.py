"""Client-side rate limiting per venue and account tier: wait for a token rather than eat a 429.

A 429 in the middle of a two-leg arbitrage is the expensive kind of failure, so every
venue call takes a token first. Each venue publishes its limits as a rate plus a
burst, which is exactly a token bucket (capacity = burst, refill = sustained rate).
When the venue still answers 429 with Retry-After (another process shares the key,
our figures drifted), `penalize` empties the bucket and pauses it for that long so
every caller backs off together.

Published figures (checked with the search tool, Nov 2026):
* Kalshi, docs.kalshi.com/getting_started/rate_limits — reads/writes per second by tier:
  Basic 20/10, Advanced 30/30, Premier 100/100, Prime 400/400. Only order writes count
  against the write limit; each batch item is one write, except BatchCancelOrders
  where each cancel is 0.2.
* Polymarket, docs.polymarket.com/api-reference/rate-limits — CLOB general 9,000 req/10s;
  POST /order burst 3,500/10s, sustained 36,000/10min; DELETE /order 3,000/10s and
  30,000/10min; POST /orders 1,000/10s and 15,000/10min; /book 1,500/10s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.models import Venue

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """`capacity` tokens refilled at `rate` per second; `acquire` waits (FIFO) until it may proceed."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = clock()
        self._paused_until = self._stamp
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        start = max(self._stamp, self._paused_until)
        if now > start:
            self._tokens = min(self.capacity, self._tokens + (now - start) * self.rate)
        self._stamp = max(self._stamp, now)

    @property
    def tokens(self) -> float:
        self._refill(self._clock())
        return self._tokens

    def _wait_time(self, cost: float) -> float:
        now = self._clock()
        self._refill(now)
        if now < self._paused_until:
            return self._paused_until - now
        if self._tokens >= cost:
            return 0.0
        return (cost - self._tokens) / self.rate

    def try_acquire(self, cost: float = 1.0) -> bool:
        """Take `cost` tokens now if possible, without waiting (and never ahead of queued waiters)."""
        self._check_cost(cost)
        if self._lock.locked() or self._wait_time(cost) > 0:
            return False
        self._tokens -= cost
        return True

    async def acquire(self, cost: float = 1.0) -> None:
        self._check_cost(cost)
        async with self._lock:
            while (delay := self._wait_time(cost)) > 0:
                await self._sleep(delay)
            self._tokens -= cost

    def penalize(self, retry_after: float | None) -> None:
        """The venue said 429: hand out nothing for `retry_after` seconds (1 s when it gave no figure)."""
        now = self._clock()
        self._refill(now)
        self._tokens = 0.0
        pause = 1.0 if retry_after is None or retry_after <= 0 else retry_after
        self._paused_until = max(self._paused_until, now + pause)

    def _check_cost(self, cost: float) -> None:
        if cost <= 0 or cost > self.capacity:
            raise ValueError(f"cost {cost} must be in (0, {self.capacity}]")


class RequestKind(StrEnum):
    READ = "read"
    WRITE = "write"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class BucketSpec:
    rate: float
    burst: float


class KalshiTier(StrEnum):
    BASIC = "basic"
    ADVANCED = "advanced"
    PREMIER = "premier"
    PRIME = "prime"


_KALSHI_PER_SECOND: dict[KalshiTier, tuple[float, float]] = {
    KalshiTier.BASIC: (20, 10),
    KalshiTier.ADVANCED: (30, 30),
    KalshiTier.PREMIER: (100, 100),
    KalshiTier.PRIME: (400, 400),
}

KALSHI_BATCH_CANCEL_COST = 0.2
"""Write tokens per order in a Kalshi BatchCancelOrders call (each other batch item costs 1)."""


def kalshi_specs(tier: KalshiTier = KalshiTier.BASIC) -> dict[RequestKind, BucketSpec]:
    """Kalshi counts cancels against the write limit, so they share the write bucket's figures.

    Kalshi states per-second rates only; a one-second burst is assumed.
    """
    read, write = _KALSHI_PER_SECOND[tier]
    return {
        RequestKind.READ: BucketSpec(read, read),
        RequestKind.WRITE: BucketSpec(write, write),
        RequestKind.CANCEL: BucketSpec(write, write),
    }


def polymarket_specs() -> dict[RequestKind, BucketSpec]:
    """Polymarket CLOB: POST /order and DELETE /order bucketed as burst per 10 s, refilled at the 10-minute rate."""
    return {
        RequestKind.READ: BucketSpec(rate=9_000 / 10, burst=9_000),
        RequestKind.WRITE: BucketSpec(rate=36_000 / 600, burst=3_500),
        RequestKind.CANCEL: BucketSpec(rate=30_000 / 600, burst=3_000),
    }


class VenueRateLimiter:
    """One venue account's buckets by request kind.

    Kalshi counts writes and cancels against one write limit, so there the two kinds
    share one bucket; on Polymarket they are separate buckets.
    """

    def __init__(
        self,
        venue: Venue,
        specs: dict[RequestKind, BucketSpec],
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        shared_write_cancel: bool = False,
    ) -> None:
        self.venue = venue
        self._buckets: dict[RequestKind, TokenBucket] = {}
        for kind, spec in specs.items():
            if shared_write_cancel and kind is RequestKind.CANCEL and RequestKind.WRITE in self._buckets:
                self._buckets[kind] = self._buckets[RequestKind.WRITE]
                continue
            self._buckets[kind] = TokenBucket(spec.rate, spec.burst, clock=clock, sleep=sleep)

    @classmethod
    def kalshi(
        cls, tier: KalshiTier = KalshiTier.BASIC, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> VenueRateLimiter:
        return cls(Venue.KALSHI, kalshi_specs(tier), clock=clock, sleep=sleep, shared_write_cancel=True)

    @classmethod
    def polymarket(cls, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> VenueRateLimiter:
        return cls(Venue.POLYMARKET, polymarket_specs(), clock=clock, sleep=sleep)

    def bucket(self, kind: RequestKind) -> TokenBucket:
        return self._buckets[kind]

    async def acquire(self, kind: RequestKind, cost: float = 1.0) -> None:
        """Take `cost` tokens; a cost above the burst (a large batch) is taken in burst-sized parts."""
        bucket = self._buckets[kind]
        while cost > bucket.capacity:
            await bucket.acquire(bucket.capacity)
            cost -= bucket.capacity
        if cost > 0:
            await bucket.acquire(cost)

    def penalize(self, kind: RequestKind, retry_after: float | None) -> None:
        self._buckets[kind].penalize(retry_after)
