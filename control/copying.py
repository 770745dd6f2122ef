"""The copy-trading half of the main job: follows, leader sources on both venues, one feed, copies.

Every source hands its sightings to one `LeaderFeed`, which hands each fill once to `CopyTrades`
(a CopyTrade workflow per following tenant). The follows are re-read from the leader workflows,
so a follow made from any front end reaches the sources within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from control.config import Settings
from copytrade.cursors import SqlCursorStore
from copytrade.sources import LeaderFeed
from domain.models import Venue
from streamers.copytrade import CopyTrades, FollowsRefresh
from streamers.launcher import TradeLauncher
from streamers.leader_data_api import DataApiLeaderSource
from streamers.leader_kalshi import KalshiLeaders
from streamers.leader_rtds import RtdsLeaderSource
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.factory import signer_from_settings
from venues.polymarket.client import PolymarketClient

log = logging.getLogger(__name__)


@dataclass
class CopyStack:
    refresh: FollowsRefresh
    feed: LeaderFeed
    trades: CopyTrades
    rtds: RtdsLeaderSource
    data_api: DataApiLeaderSource
    kalshi: KalshiLeaders
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def status(self) -> str:
        stats, feed = self.trades.stats, self.feed.counts
        leaders = sum(len(self.refresh.leaders(venue)) for venue in Venue)
        return (
            f"leaders {leaders}  fills seen {feed.offered} (repeats {feed.repeated})  "
            f"copies started {stats.started} (duplicates {stats.duplicates})"
        )


def kalshi_leader_keys(settings: Settings) -> dict[str, KalshiSigner]:
    """The read-only keys followers configured for their Kalshi leaders (a key that is unusable is an error)."""
    keys: dict[str, KalshiSigner] = {}
    for leader, key in settings.copytrade.kalshi_leaders.items():
        signer = signer_from_settings(key)
        if signer is None:
            raise ValueError(f"copytrade.kalshi_leaders.{leader}: no key_id")
        keys[leader] = signer
    return keys


@contextlib.asynccontextmanager
async def copy_stack(
    settings: Settings, client: Client, engine: AsyncEngine, polymarket: PolymarketClient
) -> AsyncIterator[CopyStack]:
    refresh = FollowsRefresh(client)
    await refresh.refresh()
    trades = CopyTrades(TradeLauncher(client, settings.temporal.task_queue), refresh.follows)
    feed = LeaderFeed(trades.take)
    cursors = SqlCursorStore(engine)
    copy = settings.copytrade
    api_url, ws_url = settings.kalshi.hosts()
    stack = CopyStack(
        refresh,
        feed,
        trades,
        RtdsLeaderSource(lambda: refresh.leaders(Venue.POLYMARKET), feed.offer, url=settings.polymarket.rtds_url),
        DataApiLeaderSource(
            polymarket,
            lambda: refresh.leaders(Venue.POLYMARKET),
            feed.offer,
            cursors=cursors,
            interval_s=copy.data_api_interval_s,
        ),
        KalshiLeaders(
            lambda: refresh.leaders(Venue.KALSHI),
            kalshi_leader_keys(settings),
            feed.offer,
            api_url=api_url,
            ws_url=ws_url,
            cursors=cursors,
            poll_interval_s=copy.kalshi_poll_interval_s,
        ),
    )
    stack.tasks = [
        asyncio.create_task(refresh.run(), name="copy-follows"),
        asyncio.create_task(stack.rtds.run(), name="copy-rtds"),
        asyncio.create_task(stack.data_api.run(), name="copy-data-api"),
        asyncio.create_task(stack.kalshi.run(), name="copy-kalshi-leaders"),
    ]
    try:
        yield stack
    finally:
        await stack.rtds.stop()
        for task in stack.tasks:
            task.cancel()
        for task in stack.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
