"""The trading stack's pieces against the in-process sandboxes: paper accounts, REST marks for P&L."""

from __future__ import annotations

from pathlib import Path

from control.config import load_settings
from control.paper import point_at_sandboxes, provision
from control.trading import rest_books, venue_clients
from domain.models import Venue
from sandbox.runner import run_sandboxes
from sandbox.scenarios import TwinMarkets


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
