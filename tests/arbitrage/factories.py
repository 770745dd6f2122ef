"""Small builders of markets, pairs and books for the arbitrage tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.book import BookSnapshot, OrderBook
from domain.models import Market, MarketPair, PairStatus, Venue

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000


def poly_market(fee_rate: str = "0", min_size: str = "1", market_id: str = "0xcond") -> Market:
    return Market(
        venue=Venue.POLYMARKET,
        market_id=market_id,
        title="Will X happen?",
        yes_token=f"{market_id}-yes",
        no_token=f"{market_id}-no",
        tick_size=Decimal("0.001"),
        min_order_size=Decimal(min_size),
        taker_fee_rate=Decimal(fee_rate),
    )


def kalshi_market(multiplier: str = "0.07", ticker: str = "KX-TEST") -> Market:
    return Market(
        venue=Venue.KALSHI,
        market_id=ticker,
        title="Will X happen?",
        yes_token="yes",
        no_token="no",
        taker_fee_rate=Decimal(multiplier),
    )


def confirmed_pair(
    *, aligned: bool = True, poly: Market | None = None, kalshi: Market | None = None, pair_id: str = "pair-1"
) -> MarketPair:
    return MarketPair(
        pair_id=pair_id,
        polymarket=poly or poly_market(),
        kalshi=kalshi or kalshi_market(),
        aligned=aligned,
        status=PairStatus.CONFIRMED,
        confirmed_by="test",
        confirmed_at=T0,
    )


Levels = list[tuple[Decimal, Decimal]]


def snapshot(venue: Venue, market_id: str, bids: Levels, asks: Levels, at: datetime = T0) -> BookSnapshot:
    book = OrderBook(venue, market_id)
    book.replace(bids, asks, at=at)
    return book.snapshot()


def d(levels: list[tuple[str, str | int]]) -> Levels:
    return [(Decimal(p), Decimal(s)) for p, s in levels]
