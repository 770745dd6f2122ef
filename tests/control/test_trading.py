"""The trading stack's pieces against the in-process sandboxes: paper accounts, REST marks for P&L."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from control.config import load_settings
from control.paper import point_at_sandboxes, provision
from control.trading import rest_books, trading_venues, venue_clients
from domain.models import OrderIntent, OrderStatus, Outcome, Side, Venue
from sandbox.runner import run_sandboxes
from sandbox.scenarios import TwinMarkets
from venues.kalshi.parse import kalshi_token


async def test_rest_books_mark_both_venues_of_a_twin_pair(tmp_path: Path) -> None:
    async with run_sandboxes(scenario="twin") as sandboxes:
        settings = await provision(point_at_sandboxes(load_settings(data_dir=tmp_path), sandboxes))
        assert isinstance(sandboxes.scenario, TwinMarkets)
        spec = sandboxes.scenario.specs[0]
        async with venue_clients(settings) as (polymarket, kalshi):
            assert polymarket.creds is not None
            book = rest_books(polymarket, kalshi)
            poly = await book(Venue.POLYMARKET, spec.condition_id)
            kalshi_book = await book(Venue.KALSHI, spec.kalshi_ticker)
    for snapshot, market_id in ((poly, spec.condition_id), (kalshi_book, spec.kalshi_ticker)):
        assert snapshot is not None
        assert snapshot.market_id == market_id and snapshot.in_sync
        bid, ask = snapshot.best_bid(), snapshot.best_ask()
        assert bid is not None and ask is not None and bid < ask


async def test_prepared_legs_leave_in_the_call_on_the_order_lanes_and_the_sandboxes_take_them(tmp_path: Path) -> None:
    """The hot send over real HTTP: each leg, prepared (signed) ahead, is written by `send_ahead` itself,
    the sandboxes verify its signatures and hold exactly one order per leg; a prepared leg goes once."""
    async with run_sandboxes(scenario="twin") as sandboxes:
        settings = await provision(point_at_sandboxes(load_settings(data_dir=tmp_path), sandboxes))
        assert isinstance(sandboxes.scenario, TwinMarkets)
        spec = sandboxes.scenario.specs[0]
        legs = [
            OrderIntent(
                client_order_id="hot-poly",
                venue=Venue.POLYMARKET,
                market_id=spec.condition_id,
                token_id=spec.yes_token,
                outcome=Outcome.YES,
                side=Side.BUY,
                price=Decimal("0.02"),
                quantity=Decimal(5),
            ),
            OrderIntent(
                client_order_id="hot-kalshi",
                venue=Venue.KALSHI,
                market_id=spec.kalshi_ticker,
                token_id=kalshi_token(spec.kalshi_ticker, Outcome.NO),
                outcome=Outcome.NO,
                side=Side.BUY,
                price=Decimal("0.02"),
                quantity=Decimal(5),
            ),
        ]
        async with venue_clients(settings) as (polymarket, kalshi):
            clients = trading_venues(polymarket, kalshi)
            for leg in legs:
                await clients[leg.venue].prepare_send_ahead(leg)
            lanes = [
                lane for session in (polymarket, kalshi) if session._lanes for lane in session._lanes._lanes.values()
            ]
            async with asyncio.timeout(5):
                while not all(lane.ready() for lane in lanes):
                    await asyncio.sleep(0.01)
            sends = [clients[leg.venue].send_ahead(leg) for leg in legs]
            busy_after_the_calls = [lane.ready() is None for lane in lanes]
            orders = [await send for send in sends if send is not None]
            again = [clients[leg.venue].send_ahead(leg) for leg in legs]
            found = [await clients[leg.venue].find_order(leg) for leg in legs]
    assert len(lanes) == 2 and busy_after_the_calls == [True, True]  # both requests were on the wire
    assert [order.status for order in orders] == [OrderStatus.OPEN, OrderStatus.OPEN]
    assert [order.venue_order_id for order in found if order] == [order.venue_order_id for order in orders]
    assert again == [None, None]  # a prepared leg goes once
