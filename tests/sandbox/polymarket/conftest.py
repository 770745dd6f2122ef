"""A running sandbox Polymarket per test, on 127.0.0.1 with an ephemeral port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from sandbox.polymarket import PolymarketState, serve
from tests.sandbox.polymarket.helpers import RunningSandbox


@pytest.fixture
async def polymarket() -> AsyncIterator[RunningSandbox]:
    """One binary market (tick 0.01, min size 5) with a seeded YES book: bids 0.45/0.44, asks 0.55/0.56."""
    state = PolymarketState()
    market = state.add_market(question="Will the sandbox work?", tick_size=Decimal("0.01"), min_size=Decimal(5))
    state.seed_book(
        market,
        bids=[(Decimal("0.45"), Decimal(100)), (Decimal("0.44"), Decimal(200))],
        asks=[(Decimal("0.55"), Decimal(100)), (Decimal("0.56"), Decimal(200))],
    )
    async with serve(state) as urls:
        yield RunningSandbox(state, urls, market)
