"""The hot path's glue: coalesced book relay and one saga per opportunity."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from arbitrage.detector import Detector
from arbitrage.opportunity import Opportunity, OutcomeKind
from arbitrage.saga import ArbState, SagaStatus
from domain.book import OrderBook
from domain.models import Venue
from storage import migrate
from storage.database import create_engine
from streamers.arbitrage import ArbitrageTrades
from streamers.hot import HotLoop, keep_quiet_books_fresh
from streamers.launcher import TradeLauncher
from streamers.relay import BookRelay
from tests.fakes.books import LoadedBooks
from tests.fakes.recorder import InMemoryRecorder
from tests.workflows.saga_fixtures import PAIR, opportunity, venues
from tests.workflows.test_arb_saga import FAST
from venues.accounts import VenueAccounts
from venues.reconnect import ReconnectingWebSocket
from workers.worker import build_worker


async def test_relay_delivers_each_changed_market_once_per_round() -> None:
    relay = BookRelay()
    book = OrderBook(Venue.KALSHI, "KX")
    other = OrderBook(Venue.POLYMARKET, "0xc")
    for size in (1, 2, 3):
        book.replace([(Decimal("0.4"), Decimal(size))], [])
        relay.on_book(book)
    relay.on_book(other)
    changes = relay.changes()
    assert await anext(changes) == [book, other]
    pending = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.05)
    assert not pending.done()
    relay.on_book(other)
    assert await pending == [other]
    assert relay.drain() == []
    assert (relay.received, relay.delivered) == (5, 3)


async def test_one_opportunity_starts_exactly_one_saga(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'l.db'}")
    await migrate.upgrade(engine)
    queue = f"launch-{uuid.uuid4()}"
    recorder = InMemoryRecorder()
    opp = opportunity(opportunity_id=f"opp-{uuid.uuid4()}")
    launcher = TradeLauncher(dev_server_env.client, queue)
    trades = ArbitrageTrades(launcher, {PAIR.pair_id: PAIR}, recorder, FAST)
    async with build_worker(
        dev_server_env.client,
        queue,
        engine,
        accounts=VenueAccounts.single(venues()),
        trading_allowed=lambda _tenant: True,
    ):
        handle = await trades.take(opp)
        assert handle is not None and handle.id == f"arb-default-{opp.opportunity_id}"
        assert await trades.take(opp) is None
        result: SagaStatus = await handle.result()
    assert result.state is ArbState.COMPLETED
    assert launcher.duplicates == 1
    assert [(o.kind, o.reason) for o in recorder.history(opp.opportunity_id)] == [
        (OutcomeKind.DETECTED, None),
        (OutcomeKind.TAKEN, handle.id),
        (OutcomeKind.DETECTED, None),
        (OutcomeKind.SKIPPED, "saga already exists"),
    ]
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    await engine.dispose()


class _Trades:
    """The trades' seat in the hot loop: records what it would have taken."""

    def __init__(self) -> None:
        self.opportunities: list[Opportunity] = []

    async def take(self, opportunity: Opportunity) -> None:
        self.opportunities.append(opportunity)


async def test_quiet_books_stay_fresh_only_while_their_stream_is_connected_and_are_then_evaluated() -> None:
    """Both books cross (0.40 + 0.45 < 1) but are old: no window. A connected stream makes its book
    fresh; once both are, the window that was there all along is found, once."""
    books = LoadedBooks()
    detector = Detector([PAIR], books=books)
    old = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 10**9
    for venue, market, bids, asks in (
        (Venue.POLYMARKET, PAIR.polymarket, "0.38", "0.40"),
        (Venue.KALSHI, PAIR.kalshi, "0.55", "0.57"),
    ):
        books.book(venue, market.market_id).replace([(Decimal(bids), Decimal(10))], [(Decimal(asks), Decimal(10))])
        detector.watched[(venue, market.market_id)].seen_ns = old  # last changed long ago
    assert detector.evaluate(books.book(Venue.POLYMARKET, PAIR.polymarket.market_id)) == []
    launches = _Trades()
    loop = HotLoop(BookRelay(), detector, cast(ArbitrageTrades, launches))
    poly, kalshi = SimpleNamespace(connected=asyncio.Event()), SimpleNamespace(connected=asyncio.Event())
    poly.connected.set()
    kalshi_seen = detector.watched[(Venue.KALSHI, PAIR.kalshi.market_id)]
    connections = cast(dict[Venue, ReconnectingWebSocket], {Venue.POLYMARKET: poly, Venue.KALSHI: kalshi})
    task = asyncio.ensure_future(keep_quiet_books_fresh(loop, connections, interval_s=0.01))
    await asyncio.sleep(0.05)
    assert kalshi_seen.seen_ns == old  # its stream is down
    assert launches.opportunities == []
    kalshi.connected.set()
    await asyncio.sleep(0.05)
    task.cancel()
    assert [o.pair_id for o in launches.opportunities] == [PAIR.pair_id]
    assert loop.stats.opportunities == 1 and loop.stats.errors == 0
