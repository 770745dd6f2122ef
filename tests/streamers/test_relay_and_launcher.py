"""The hot path's glue: coalesced book relay and one saga per opportunity."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from arbitrage.detector import Detector
from arbitrage.opportunity import InMemoryRecorder, OutcomeKind
from domain.book import OrderBook
from domain.models import Venue
from storage import migrate
from storage.database import create_engine
from streamers.hot import keep_quiet_books_fresh
from streamers.launcher import SagaLauncher
from streamers.relay import BookRelay
from tests.workflows.saga_fixtures import PAIR, opportunity, venues
from tests.workflows.test_arb_saga import FAST
from workers.worker import build_worker
from workflows.arb_types import ArbState, SagaStatus


async def test_relay_delivers_only_the_latest_book_per_market() -> None:
    relay = BookRelay()
    book = OrderBook(Venue.KALSHI, "KX")
    other = OrderBook(Venue.POLYMARKET, "0xc")
    for size in (1, 2, 3):
        book.replace([(Decimal("0.4"), Decimal(size))], [])
        relay.on_book(book)
    relay.on_book(other)
    changes = relay.changes()
    first, second = await anext(changes), await anext(changes)
    assert (first.market_id, first.yes_bids) == ("KX", ((Decimal("0.4"), Decimal(3)),))
    assert second.market_id == "0xc"
    pending = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.05)
    assert not pending.done()
    pending.cancel()
    assert (relay.received, relay.delivered) == (4, 2)


async def test_one_opportunity_starts_exactly_one_saga(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'l.db'}")
    await migrate.upgrade(engine)
    queue = f"launch-{uuid.uuid4()}"
    recorder = InMemoryRecorder()
    opp = opportunity(opportunity_id=f"opp-{uuid.uuid4()}")
    await recorder.record_detected(opp)
    launcher = SagaLauncher(dev_server_env.client, queue, {PAIR.pair_id: PAIR}, recorder, FAST)
    async with build_worker(dev_server_env.client, queue, engine, venues=venues()):
        handle = await launcher.launch(opp)
        assert handle is not None
        assert await launcher.launch(opp) is None
        result: SagaStatus = await handle.result()
    assert result.state is ArbState.COMPLETED
    assert launcher.duplicates == 1
    assert [o.kind for o in recorder.history(opp.opportunity_id)] == [
        OutcomeKind.DETECTED,
        OutcomeKind.TAKEN,
        OutcomeKind.SKIPPED,
    ]
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    await engine.dispose()


async def test_quiet_books_stay_fresh_only_while_their_stream_is_connected() -> None:
    detector = Detector([PAIR])
    for venue, market in ((Venue.POLYMARKET, PAIR.polymarket), (Venue.KALSHI, PAIR.kalshi)):
        book = OrderBook(venue, market.market_id)
        book.replace(
            [(Decimal("0.40"), Decimal(10))], [(Decimal("0.42"), Decimal(10))], at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        detector.apply_snapshot(book.snapshot())
    up, down = SimpleNamespace(connected=asyncio.Event()), SimpleNamespace(connected=asyncio.Event())
    up.connected.set()
    before = {
        v: detector.book(v, m.market_id).updated_ns
        for v, m in ((Venue.POLYMARKET, PAIR.polymarket), (Venue.KALSHI, PAIR.kalshi))
    }
    task = asyncio.ensure_future(
        keep_quiet_books_fresh(detector, {Venue.POLYMARKET: up, Venue.KALSHI: down}, interval_s=0.01)  # type: ignore[dict-item]
    )
    await asyncio.sleep(0.05)
    task.cancel()
    assert detector.book(Venue.POLYMARKET, PAIR.polymarket.market_id).updated_ns > before[Venue.POLYMARKET]
    assert detector.book(Venue.KALSHI, PAIR.kalshi.market_id).updated_ns == before[Venue.KALSHI]
