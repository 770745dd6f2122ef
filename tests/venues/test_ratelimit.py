from __future__ import annotations

import asyncio

import pytest

from domain.models import Venue
from venues.ratelimit import KalshiTier, RequestKind, TokenBucket, VenueRateLimiter, kalshi_specs


class FakeTime:
    """A clock that only moves when someone sleeps, so waits are exact and instant."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_burst_then_waits_at_the_refill_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=10, capacity=10, clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        await bucket.acquire()
    assert t.now == 0
    await bucket.acquire()
    assert t.now == pytest.approx(0.1)
    await bucket.acquire(5)
    assert t.now == pytest.approx(0.6)


async def test_penalize_pauses_for_retry_after_and_refills_only_afterwards() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=10, capacity=10, clock=t.clock, sleep=t.sleep)
    bucket.penalize(2.5)
    assert not bucket.try_acquire()
    await bucket.acquire()
    # Nothing accrues during the pause: the first token is available 0.1 s after it ends.
    assert t.now == pytest.approx(2.6)
    assert bucket.tokens == pytest.approx(0)


async def test_penalize_without_figure_pauses_one_second() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=100, capacity=100, clock=t.clock, sleep=t.sleep)
    bucket.penalize(None)
    await bucket.acquire()
    assert t.now == pytest.approx(1.01)


async def test_concurrent_waiters_are_served_in_order_at_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=2, capacity=1, clock=t.clock, sleep=t.sleep)
    done: list[tuple[int, float]] = []

    async def worker(i: int) -> None:
        await bucket.acquire()
        done.append((i, t.now))

    await asyncio.gather(*(worker(i) for i in range(4)))
    assert [i for i, _ in done] == [0, 1, 2, 3]
    assert [at for _, at in done] == pytest.approx([0, 0.5, 1.0, 1.5])


def test_cost_must_fit_the_bucket() -> None:
    bucket = TokenBucket(rate=1, capacity=2)
    with pytest.raises(ValueError):
        bucket.try_acquire(3)
    with pytest.raises(ValueError):
        TokenBucket(rate=0, capacity=1)


def test_kalshi_tiers_match_published_figures() -> None:
    assert kalshi_specs(KalshiTier.BASIC)[RequestKind.READ].rate == 20
    assert kalshi_specs(KalshiTier.BASIC)[RequestKind.WRITE].rate == 10
    assert kalshi_specs(KalshiTier.ADVANCED)[RequestKind.WRITE].rate == 30
    assert kalshi_specs(KalshiTier.PREMIER)[RequestKind.READ].rate == 100
    assert kalshi_specs(KalshiTier.PRIME)[RequestKind.WRITE].rate == 400


async def test_kalshi_cancels_share_the_write_bucket_and_large_batches_are_split() -> None:
    t = FakeTime()
    limiter = VenueRateLimiter.kalshi(KalshiTier.BASIC, clock=t.clock, sleep=t.sleep)
    assert limiter.venue is Venue.KALSHI
    assert limiter.bucket(RequestKind.CANCEL) is limiter.bucket(RequestKind.WRITE)
    await limiter.acquire(RequestKind.WRITE, 25)  # 10 now, 10 after 1 s, 5 after 0.5 s more
    assert t.now == pytest.approx(1.5)
    limiter.penalize(RequestKind.CANCEL, 3)
    await limiter.acquire(RequestKind.READ)
    assert t.now == pytest.approx(1.5)  # reads are not paused by a write 429


async def test_polymarket_order_and_cancel_buckets_are_separate() -> None:
    t = FakeTime()
    limiter = VenueRateLimiter.polymarket(clock=t.clock, sleep=t.sleep)
    assert limiter.bucket(RequestKind.WRITE) is not limiter.bucket(RequestKind.CANCEL)
    assert limiter.bucket(RequestKind.WRITE).capacity == 3_500
    assert limiter.bucket(RequestKind.WRITE).rate == pytest.approx(60)
