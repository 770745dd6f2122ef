"""RTDS push and Data API catch-up of Polymarket leaders, against the sandbox venue, into one feed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from copytrade.cursors import SqlCursorStore
from copytrade.fills import FillSource
from copytrade.sources import LeaderFeed
from domain.accounts import DEFAULT_TENANT
from domain.models import Side
from streamers.leader_data_api import DataApiLeaderSource
from streamers.leader_rtds import RtdsLeaderSource
from tests.sandbox.polymarket.helpers import RunningSandbox
from tests.streamers.leaders import Sink, until
from venues.polymarket.client import PolymarketClient
from venues.polymarket.messages import RtdsMessage

LEADER = "0x1111111111111111111111111111111111111111"
OTHER = "0x3333333333333333333333333333333333333333"


def trade(sb: RunningSandbox, wallet: str = LEADER, side: str = "BUY", size: int = 10) -> str:
    """A leader's trade recorded by the venue (RTDS push and Data API row); its transaction hash."""
    done = sb.state.leader_trade(wallet, sb.market.yes_token, side, Decimal("0.55"), Decimal(size), execute=False)
    return str(done["transactionHash"])


@contextlib.asynccontextmanager
async def rtds_running(sb: RunningSandbox, source: RtdsLeaderSource) -> AsyncIterator[None]:
    task = asyncio.create_task(source.run())
    try:
        await asyncio.wait_for(source.stream.runner.connected.wait(), 5)
        await asyncio.sleep(0.05)  # the subscribe message is on its way
        yield
    finally:
        await source.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_rtds_and_data_api_see_one_fill_once(polymarket: RunningSandbox) -> None:
    sink = Sink()
    feed = LeaderFeed(sink)
    rtds = RtdsLeaderSource(lambda: {LEADER}, feed.offer, url=polymarket.urls.rtds)
    async with PolymarketClient(polymarket.urls.clob, data_url=polymarket.urls.data_api) as client:
        poller = DataApiLeaderSource(client, lambda: {LEADER}, feed.offer)
        async with rtds_running(polymarket, rtds):
            tx = trade(polymarket)
            trade(polymarket, wallet=OTHER)  # not followed: RTDS carries it, nobody copies it
            await until(lambda: rtds.counts.fills == 1)
            await poller.poll()
    assert [f.source for f in sink.fills] == [FillSource.RTDS]
    (fill,) = sink.fills
    assert (fill.leader, fill.venue_fill_id, fill.side, fill.size, fill.price) == (
        LEADER,
        tx.lower(),
        Side.BUY,
        Decimal(10),
        Decimal("0.55"),
    )
    assert poller.counts.fills == 1 and feed.counts.repeated == 1  # the poll saw it again, the feed dropped it


async def test_silent_rtds_is_covered_by_the_data_api(polymarket: RunningSandbox) -> None:
    sink = Sink()
    feed = LeaderFeed(sink)
    rtds = RtdsLeaderSource(lambda: {LEADER}, feed.offer, url=polymarket.urls.rtds)
    polymarket.state.faults.configure(push_silent=True)
    async with PolymarketClient(polymarket.urls.clob, data_url=polymarket.urls.data_api) as client:
        poller = DataApiLeaderSource(client, lambda: {LEADER}, feed.offer)
        async with rtds_running(polymarket, rtds):
            trade(polymarket)
            await asyncio.sleep(0.2)
            assert rtds.counts.fills == 0 and rtds.stream.runner.connected.is_set()  # silent, yet alive
            await poller.poll()
    assert [f.source for f in sink.fills] == [FillSource.DATA_API]
    assert polymarket.state.faults.fired["push_silenced"] == 1


async def test_overlapping_pages_and_failed_hand_off(polymarket: RunningSandbox, engine: AsyncEngine) -> None:
    for n in range(7):
        trade(polymarket, size=5 + n)
    polymarket.state.leader_trade(
        LEADER, polymarket.market.yes_token, "SELL", Decimal("0.5"), Decimal(5), execute=False
    )
    polymarket.state.faults.configure(page_overlap=2)
    sink = Sink(fail=1)
    feed = LeaderFeed(sink)
    store = SqlCursorStore(engine)
    async with PolymarketClient(polymarket.urls.clob, data_url=polymarket.urls.data_api) as client:
        poller = DataApiLeaderSource(client, lambda: {LEADER}, feed.offer, cursors=store, page_size=3)
        await poller.poll()  # the first hand-off fails: nothing handed, the round ends, the cursor stays
        assert sink.fills == [] and poller.counts.errors == 1
        await poller.poll()
        await poller.poll()
    assert sorted(f.size for f in sink.fills) == [5, 5, 6, 7, 8, 9, 10, 11]
    assert len({f.identity for f in sink.fills}) == 8
    assert feed.counts.repeated > 0 and polymarket.state.faults.fired["page_overlap"] > 0
    assert await store.get(DEFAULT_TENANT, LEADER, FillSource.DATA_API) is not None


async def test_restart_resumes_from_the_stored_cursor(polymarket: RunningSandbox, engine: AsyncEngine) -> None:
    store = SqlCursorStore(engine)
    clock = [polymarket.state.clock().timestamp()]
    async with PolymarketClient(polymarket.urls.clob, data_url=polymarket.urls.data_api) as client:
        first = Sink()
        await DataApiLeaderSource(client, lambda: {LEADER}, first, cursors=store, clock=lambda: clock[0]).poll()
        trade(polymarket)
        before = Sink()
        await DataApiLeaderSource(client, lambda: {LEADER}, before, cursors=store, clock=lambda: clock[0]).poll()
        cursor = await store.get(DEFAULT_TENANT, LEADER, FillSource.DATA_API)
        # a restart much later: a fresh source (no memory) starts from the stored cursor, not "now - lookback"
        clock[0] += 3600
        after = Sink()
        await DataApiLeaderSource(client, lambda: {LEADER}, after, cursors=store, clock=lambda: clock[0]).poll()
    assert first.fills == [] and len(before.fills) == 1
    assert cursor is not None and int(cursor) == int(before.fills[0].at.timestamp())
    assert [f.identity for f in after.fills] == [before.fills[0].identity]  # the cursor second is read again


async def test_malformed_rtds_rows_are_counted_never_handed(polymarket: RunningSandbox) -> None:
    sink = Sink()
    rtds = RtdsLeaderSource(lambda: {LEADER}, sink, url=polymarket.urls.rtds)
    good = {
        "proxyWallet": LEADER,
        "side": "BUY",
        "asset": "7",
        "conditionId": "0xc",
        "size": 3,
        "price": 0.5,
        "timestamp": 1_700_000_000,
        "transactionHash": "0x" + "ab" * 32,
    }
    for payload in (
        {**good, "timestamp": "soon"},
        {**good, "price": "a lot"},
        {**good, "side": "HOLD"},
        {**good, "size": 0},
        {k: v for k, v in good.items() if k != "transactionHash"},
    ):
        await rtds.on_message(RtdsMessage("activity", "trades", 0, payload))
    await rtds.on_message(RtdsMessage("activity", "trades", 0, {**good, "proxyWallet": OTHER}))
    await rtds.on_message(RtdsMessage("comments", "comment_created", 0, good))
    await rtds.on_message(RtdsMessage("activity", "trades", 0, good))
    assert len(sink.fills) == 1
    assert rtds.counts.malformed == 3 and rtds.counts.ignored == 2
