"""A Kalshi leader's fills through its own read-only key: `fill` channel push and `/portfolio/fills` catch-up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from copytrade.cursors import SqlCursorStore
from copytrade.fills import FillSource
from copytrade.sources import FeedCounts, FillSink, LeaderFeed
from domain.accounts import DEFAULT_TENANT
from domain.models import Side, Venue
from sandbox.kalshi.admin import leader_trade
from streamers.leader_kalshi import KalshiLeaders, KalshiLeaderSource
from tests.sandbox.conftest import KalshiSandbox
from tests.streamers.leaders import Sink, until
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.client import KalshiClient
from venues.kalshi.parse import parse_fills_page_skipping

TICKER = "KXLEAD-26DEC31-A"


class Clock:
    """The venue's clock, moved by the test, so cursor seconds are exact."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


@contextlib.asynccontextmanager
async def leader_source(
    sb: KalshiSandbox, sink: FillSink, *, cursors: SqlCursorStore | None = None, clock: Callable[[], float]
) -> AsyncIterator[KalshiLeaderSource]:
    signer = KalshiSigner(sb.creds.key_id, sb.creds.private_key)
    async with KalshiClient(sb.handle.api_url, signer=signer) as client:
        source = KalshiLeaderSource(
            sb.creds.account,
            client,
            sink,
            ws_url=sb.handle.ws_url,
            signer=signer,
            cursors=cursors,
            interval_s=3600,
            clock=clock,
        )
        yield source


def prepared(sb: KalshiSandbox) -> Clock:
    clock = Clock()
    sb.venue.clock = clock  # before the market: its engine stamps trades with it
    sb.venue.add_market(TICKER)
    return clock


async def test_channel_and_catch_up_see_one_fill_once(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    clock = prepared(sb)
    sink = Sink()
    feed = LeaderFeed(sink)
    async with leader_source(sb, feed.offer, clock=clock.seconds) as source:
        task = asyncio.create_task(source.stream.run())
        try:
            await asyncio.wait_for(source.stream.transport.connected.wait(), 5)
            await asyncio.sleep(0.05)  # the subscribe command is on its way
            taken = leader_trade(sb.venue, sb.creds.account, TICKER, "no", "buy", 7, 35)
            await until(lambda: len(sink.fills) == 1)
            await source.poll()
        finally:
            await source.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    (fill,) = sink.fills
    assert (fill.venue, fill.leader, fill.market_id, fill.token_id) == (
        Venue.KALSHI,
        sb.creds.account,
        TICKER,
        f"{TICKER}:no",
    )
    assert (fill.side, fill.price, fill.size, fill.source) == (Side.BUY, Decimal("0.35"), 7, FillSource.KALSHI_WS)
    assert fill.venue_fill_id == sb.venue.fills[-1].trade_id and taken.fill_count == 7
    assert fill.leader_position_after == 7  # the channel's post_position -7 (net NO): 7 NO held after the buy
    assert feed.counts == FeedCounts(
        offered=2, handed=1, repeated=1, by_source={FillSource.KALSHI_WS: 1, FillSource.KALSHI_REST: 1}
    )


async def test_restart_resumes_from_the_stored_cursor(kalshi_sandbox: KalshiSandbox, engine: AsyncEngine) -> None:
    sb = kalshi_sandbox
    clock = prepared(sb)
    store = SqlCursorStore(engine)
    leader_trade(sb.venue, sb.creds.account, TICKER, "yes", "buy", 3, 40)
    first = Sink()
    async with leader_source(sb, first, cursors=store, clock=clock.seconds) as source:
        await source.poll()
    assert [f.size for f in first.fills] == [3]
    assert await store.get(DEFAULT_TENANT, sb.creds.account, FillSource.KALSHI_REST) == str(int(clock.seconds()))
    clock.now += timedelta(minutes=30)  # down for half an hour: beyond any lookback
    leader_trade(sb.venue, sb.creds.account, TICKER, "yes", "sell", 2, 45)
    again = Sink()
    async with leader_source(sb, again, cursors=store, clock=clock.seconds) as source:
        await source.poll()
    # the cursor's own second is read again (never miss a fill landing in it); the repeat is the same fill,
    # which the copy's workflow id refuses to copy twice
    assert [(f.side, f.size) for f in again.fills] == [(Side.SELL, 2), (Side.BUY, 3)]
    assert again.fills[1].identity == first.fills[0].identity


async def test_failed_hand_off_keeps_the_cursor(kalshi_sandbox: KalshiSandbox, engine: AsyncEngine) -> None:
    sb = kalshi_sandbox
    clock = prepared(sb)
    store = SqlCursorStore(engine)
    leader_trade(sb.venue, sb.creds.account, TICKER, "yes", "buy", 4, 50)
    sink = Sink(fail=1)
    async with leader_source(sb, sink, cursors=store, clock=clock.seconds) as source:
        await source.poll()
        assert sink.fills == [] and source.counts.errors == 1
        assert await store.get(DEFAULT_TENANT, sb.creds.account, FillSource.KALSHI_REST) is None
        clock.now += timedelta(seconds=5)
        await source.poll()
    assert [f.size for f in sink.fills] == [4]


async def test_malformed_fills_are_counted_never_handed(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    clock = prepared(sb)
    sink = Sink()
    async with leader_source(sb, sink, clock=clock.seconds) as source:
        task = asyncio.create_task(source.stream.run())
        try:
            await asyncio.wait_for(source.stream.transport.connected.wait(), 5)
            await asyncio.sleep(0.05)
            for bad in ({"market_ticker": TICKER, "count": "many"}, {"market_ticker": TICKER, "side": "maybe"}):
                sb.venue.stream.fill(sb.creds.account, bad)
            leader_trade(sb.venue, sb.creds.account, TICKER, "yes", "buy", 1, 20)
            await until(lambda: len(sink.fills) == 1)
        finally:
            await source.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert source.malformed == 2 and [f.size for f in sink.fills] == [1]
    good = sb.venue.fills[-1].to_json()
    page, rejected = parse_fills_page_skipping({"fills": [{**good, "count_fp": "-1"}, good], "cursor": ""})
    assert [f.fill_id for f in page.items] == [good["fill_id"]] and len(rejected) == 1


async def test_sources_follow_the_follows(kalshi_sandbox: KalshiSandbox) -> None:
    """A followed leader with a key gets a source, one without is reported, an unfollowed one is stopped."""
    sb = kalshi_sandbox
    prepared(sb)
    followed = {sb.creds.account, "keyless"}
    signer = KalshiSigner(sb.creds.key_id, sb.creds.private_key)
    sink = Sink()
    leaders = KalshiLeaders(
        lambda: followed, {sb.creds.account: signer}, sink, api_url=sb.handle.api_url, ws_url=sb.handle.ws_url
    )
    await leaders.reconcile()
    assert set(leaders.sources) == {sb.creds.account} and leaders.keyless == {"keyless"}
    source = leaders.sources[sb.creds.account]
    await asyncio.wait_for(source.stream.transport.connected.wait(), 5)
    await asyncio.sleep(0.05)
    leader_trade(sb.venue, sb.creds.account, TICKER, "yes", "buy", 2, 30)
    await until(lambda: len(sink.fills) >= 1)
    followed.clear()
    await leaders.reconcile()
    assert leaders.sources == {} and leaders.keyless == set()
    await until(lambda: not any(c.account == sb.creds.account for c in sb.venue.stream.connections))
