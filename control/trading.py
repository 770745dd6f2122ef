"""The trading stack of the main job: venue clients, confirmed pairs, streams, detector, saga launcher.

The same code trades the sandboxes (paper) and the real venues (live): only the settings
differ, including which pairs are traded (`control.app.pairs.Pairs.discover`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.copies import LeaderPositions, MarketSource
from activities.market_cache import MarketCache
from activities.risk import BookSource
from activities.send_ahead import SendAhead
from arbitrage.detector import Detector, DetectorConfig
from arbitrage.opportunity import SqlOpportunityRecorder
from arbitrage.saga import SagaPolicy
from control.app.pairs import Pairs
from control.config import Settings
from domain.book import BookSnapshot
from domain.models import Market, MarketPair, Position, Venue
from matching.pairs import SqlPairRepository
from risk.gate import RiskGates
from storage.redis_bus import RedisBus
from streamers.admission import TenantAdmissions
from streamers.arbitrage import ArbitrageTrades
from streamers.book_mirror import mirror_books
from streamers.hot import HotLoop, keep_quiet_books_fresh
from streamers.launcher import TradeLauncher
from streamers.recording import QueuedRecorder
from streamers.relay import BookRelay
from streamers.venue_books import venue_books
from venues.accounts import VenueAccounts
from venues.base import TradingClient
from venues.kalshi.books import KalshiBooks
from venues.kalshi.client import KalshiClient
from venues.kalshi.factory import client_from_settings as kalshi_client
from venues.kalshi.factory import stream_from_settings as kalshi_stream
from venues.kalshi.stream import KalshiStream
from venues.kalshi.trading import KalshiTradingClient
from venues.polymarket.book_feed import PolymarketBookFeed
from venues.polymarket.client import PolymarketClient
from venues.polymarket.factory import client_from_settings as polymarket_client
from venues.polymarket.factory import market_stream_from_settings
from workers.worker import build_worker

log = logging.getLogger(__name__)


@dataclass
class TradingStack:
    polymarket: PolymarketClient
    kalshi: KalshiClient
    pairs: list[MarketPair]
    loop: HotLoop
    feed: PolymarketBookFeed
    kalshi_stream: KalshiStream | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def book_snapshots(self) -> list[BookSnapshot]:
        """Every book the streams keep (for the Redis mirror)."""
        books = [book.snapshot() for book in self.feed.books()]
        if self.kalshi_stream is not None:
            kalshi = self.kalshi_stream.books
            books += [book.snapshot() for ticker in kalshi.tickers if (book := kalshi.get(ticker)) is not None]
        return books

    def snapshots(self, pair: MarketPair) -> tuple[BookSnapshot, BookSnapshot | None]:
        """The pair's two current books (Kalshi None until its stream has sent one)."""
        poly = self.feed.book(pair.polymarket.market_id).snapshot()
        kalshi_book = self.kalshi_stream.books.get(pair.kalshi.market_id) if self.kalshi_stream else None
        return poly, None if kalshi_book is None else kalshi_book.snapshot()


def trading_venues(polymarket: PolymarketClient, kalshi: KalshiClient) -> dict[Venue, TradingClient]:
    return {Venue.POLYMARKET: polymarket, Venue.KALSHI: KalshiTradingClient(kalshi)}


def trading_accounts(polymarket: PolymarketClient, kalshi: KalshiClient) -> VenueAccounts:
    """The accounts this process trades: today the default tenant's, from the settings."""
    return VenueAccounts.single(trading_venues(polymarket, kalshi))


def rest_books(polymarket: PolymarketClient, kalshi: KalshiClient) -> BookSource:
    """Fresh REST books to mark open positions for P&L (the supervisor asks every few minutes)."""
    kalshi_trading = KalshiTradingClient(kalshi)

    async def book(venue: Venue, market_id: str) -> BookSnapshot:
        if venue is Venue.KALSHI:
            return await kalshi_trading.market_book(market_id, market_id)
        market = await polymarket.get_market(market_id)
        return await polymarket.market_book(market_id, market.yes_token)

    return book


def rest_markets(polymarket: PolymarketClient, kalshi: KalshiClient) -> MarketSource:
    """Markets as the venues list them, for copies (tick, minimum size, fees, open or not)."""

    async def market(venue: Venue, market_id: str) -> Market:
        if venue is Venue.KALSHI:
            return await kalshi.get_market(market_id)
        return await polymarket.get_market(market_id)

    return market


def public_leader_positions(polymarket: PolymarketClient) -> LeaderPositions:
    """Leaders' holdings where the venue publishes them: Polymarket's Data API (Kalshi's come with the fill)."""

    async def positions(venue: Venue, leader: str) -> list[Position]:
        if venue is not Venue.POLYMARKET:
            raise LookupError(f"{venue.value} publishes no account's holdings")
        return await polymarket.get_positions(user=leader)

    return positions


def trading_worker(
    client: Client,
    task_queue: str,
    engine: AsyncEngine,
    polymarket: PolymarketClient,
    kalshi: KalshiClient,
    gates: RiskGates,
    send_ahead: SendAhead | None = None,
) -> Worker:
    """The worker of a process that trades (the hot process, a standby): orders through these clients,
    new exposure only while the gate allows it, P&L marks from fresh REST books."""
    return build_worker(
        client,
        task_queue,
        engine,
        accounts=trading_accounts(polymarket, kalshi),
        trading_allowed=gates.allows_new_exposure,
        books=rest_books(polymarket, kalshi),
        send_ahead=send_ahead,
        markets=MarketCache(rest_markets(polymarket, kalshi)),
        leader_positions=public_leader_positions(polymarket),
    )


@contextlib.asynccontextmanager
async def venue_clients(settings: Settings) -> AsyncIterator[tuple[PolymarketClient, KalshiClient]]:
    """The account's clients on both venues (API credentials derived on first use), closed on exit."""
    polymarket = polymarket_client(settings.polymarket)
    kalshi = kalshi_client(settings.kalshi)
    try:
        if polymarket.wallet is not None and polymarket.creds is None:
            await polymarket.create_or_derive_api_key()
        yield polymarket, kalshi
    finally:
        await polymarket.aclose()
        await kalshi.aclose()


@contextlib.asynccontextmanager
async def trading_stack(
    settings: Settings,
    client: Client,
    engine: AsyncEngine,
    polymarket: PolymarketClient,
    kalshi: KalshiClient,
    *,
    admissions: TenantAdmissions | None = None,
    send_ahead: SendAhead | None = None,
    policy: SagaPolicy | None = None,
    redis: RedisBus | None = None,
) -> AsyncIterator[TradingStack]:
    """`admissions` (the pre-trade checks in this process) admit each opportunity's saga; without them
    sagas ask their supervisor first. `send_ahead` (shared with this process's worker) sends admitted
    sagas' legs from the launcher. `redis` (multi-process deployments) gets a copy of the books."""
    pairs = await Pairs(SqlPairRepository(engine)).discover(polymarket, kalshi, auto_confirm=settings.dry_run)
    recorder = QueuedRecorder(SqlOpportunityRecorder(engine))
    relay = BookRelay()
    feed = PolymarketBookFeed()
    feed.on_book = relay.on_book
    kalshi_books = KalshiBooks()
    detector = Detector(pairs, DetectorConfig(min_edge=Decimal("0.005")), books=venue_books(feed, kalshi_books))
    launcher = TradeLauncher(client, settings.temporal.task_queue, admissions=admissions, send_ahead=send_ahead)
    trades = ArbitrageTrades(launcher, {p.pair_id: p for p in pairs}, recorder, policy, admissions=admissions)
    stack = TradingStack(polymarket, kalshi, pairs, HotLoop(relay, detector, trades), feed)
    if pairs:
        poly_stream = market_stream_from_settings(settings.polymarket, feed, rest=polymarket)
        await poly_stream.subscribe([p.polymarket for p in pairs])
        k_stream = kalshi_stream(
            settings.kalshi, [p.kalshi.market_id for p in pairs], books=kalshi_books, on_book=relay.on_book
        )
        stack.kalshi_stream = k_stream
        stack.tasks = [
            asyncio.create_task(poly_stream.run(), name="polymarket-market-ws"),
            asyncio.create_task(k_stream.run(), name="kalshi-ws"),
            asyncio.create_task(stack.loop.run(), name="hot-loop"),
            asyncio.create_task(
                keep_quiet_books_fresh(
                    stack.loop, {Venue.POLYMARKET: poly_stream.runner, Venue.KALSHI: k_stream.transport}
                ),
                name="book-freshness",
            ),
        ]
        if redis is not None:
            stack.tasks.append(asyncio.create_task(mirror_books(stack.book_snapshots, redis), name="book-mirror"))
    try:
        yield stack
    finally:
        for task in stack.tasks:
            task.cancel()
        for task in stack.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await recorder.close()
