"""The one path up: frames -> the venue feeds' native books -> relay -> detector, as `inertial up` runs it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from arbitrage.detector import Detector, DetectorConfig
from arbitrage.opportunity import Direction, Opportunity
from streamers.relay import BookRelay
from streamers.venue_books import NotNativeError, venue_books
from tests.arbitrage import brute
from tests.arbitrage.factories import T0_NS, confirmed_pair, kalshi_market, poly_market
from venues.kalshi.books import KalshiBooks, Resync
from venues.kalshi.stream import KalshiStream
from venues.polymarket.book_feed import PolymarketBookFeed

BURST = "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"
YES_TOKEN = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
NO_TOKEN = "54179564009642723353355316176091991063553046330768303687769988635499280029688"


class FeedPath:
    """The production pieces wired as `control.trading.trading_stack` wires them."""

    def __init__(self, condition: str = "0xcond", yes: str = "0xcond-yes", no: str = "0xcond-no") -> None:
        poly = poly_market(market_id=condition).model_copy(update={"yes_token": yes, "no_token": no})
        self.pair = confirmed_pair(poly=poly, kalshi=kalshi_market(ticker="KX-TEST"))
        self.relay = BookRelay()
        self.feed = PolymarketBookFeed()
        self.feed.on_book = self.relay.on_book
        self.kalshi_books = KalshiBooks()
        self.kalshi = KalshiStream("ws://unused", ["KX-TEST"], books=self.kalshi_books, on_book=self.relay.on_book)
        self.detector = Detector(
            [self.pair], DetectorConfig(), books=venue_books(self.feed, self.kalshi_books), clock_ns=lambda: T0_NS
        )

    def detect(self) -> list[Opportunity]:
        found: list[Opportunity] = []
        for book in self.relay.drain():
            found += self.detector.changed(book, T0_NS)
        return found

    def polymarket(self, frame: object) -> list[Opportunity]:
        self.feed.on_frame(frame if isinstance(frame, bytes) else orjson.dumps(frame))
        return self.detect()

    def kalshi_frame(self, frame: object) -> tuple[Resync | None, list[Opportunity]]:
        resync = self.kalshi.apply_frame(orjson.dumps(frame))
        return resync, self.detect()


def kalshi_snapshot(seq: int, yes: list[list[str]], no: list[list[str]] | None = None) -> dict[str, object]:
    msg = {"market_ticker": "KX-TEST", "yes_dollars_fp": yes, "no_dollars_fp": no or []}
    return {"type": "orderbook_snapshot", "sid": 1, "seq": seq, "msg": msg}


def dollars(levels: list[tuple[int, int]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p) / 10_000, Decimal(s) / 100) for p, s in levels]


def test_real_polymarket_burst_against_a_kalshi_book_finds_exact_opportunities(shared_data: Path) -> None:
    """Every opportunity the production path reports is the brute-force optimum of the feeds' books
    at that moment (the detector reads those books, not a copy)."""
    frames = json.loads((shared_data / BURST).read_text())
    path = FeedPath(frames[0]["market"], YES_TOKEN, NO_TOKEN)
    resync, found = path.kalshi_frame(kalshi_snapshot(1, [["0.4500", "80.00"], ["0.4400", "300.00"]]))
    assert resync is None and found == []
    poly_book = path.feed.book(frames[0]["market"])
    kalshi_book = path.kalshi_books.book("KX-TEST")
    seen = 0
    for frame in frames:
        for opp in path.polymarket(frame):
            seen += 1
            expected = brute.best(
                dollars(poly_book.asks_of(True)),  # type: ignore[attr-defined]
                dollars(kalshi_book.asks_of(False)),  # type: ignore[attr-defined]
                Decimal(0),
                Decimal("0.07"),
                min_contracts=1,
                max_contracts=None,
                min_edge=path.detector.config.min_edge,
                min_profit=path.detector.config.min_profit,
            )
            assert opp.direction is Direction.POLYMARKET_YES
            assert (opp.contracts, opp.expected_profit) == expected
    assert seen >= 1
    assert path.feed.counters.parse_errors == 0


def _poly_book(ask: str) -> dict[str, object]:
    return {
        "event_type": "book",
        "market": "0xcond",
        "asset_id": "0xcond-yes",
        "timestamp": str(T0_NS // 1_000_000),
        "hash": "0" * 40,
        "bids": [],
        "asks": [{"price": ask, "size": "100"}],
    }


def test_a_kalshi_sequence_gap_blinds_the_book_until_its_next_snapshot() -> None:
    path = FeedPath()
    path.kalshi_frame(kalshi_snapshot(1, [["0.5000", "100.00"]]))
    gap = {
        "type": "orderbook_delta",
        "sid": 1,
        "seq": 3,
        "msg": {"market_ticker": "KX-TEST", "price_dollars": "0.5000", "delta_fp": "5.00", "side": "yes"},
    }
    resync, _ = path.kalshi_frame(gap)
    assert resync is not None and resync.tickers == ("KX-TEST",)
    assert path.polymarket(_poly_book("0.45")) == []  # it would cross, but the Kalshi book is blind
    assert path.detector.stale_skips >= 1
    _, found = path.kalshi_frame(kalshi_snapshot(4, [["0.5000", "100.00"]]))
    assert [o.direction for o in found] == [Direction.POLYMARKET_YES]


def test_a_malformed_frame_changes_no_book_and_finds_nothing() -> None:
    path = FeedPath()
    path.kalshi_frame(kalshi_snapshot(1, [["0.5000", "100.00"]]))
    assert path.polymarket(_poly_book("0.60")) == []
    assert path.polymarket(b'{"event_type": "book", "market": "0xcond", "asset_id": ') == []
    assert path.feed.counters.parse_errors == 1
    assert path.feed.book("0xcond").best_yes_ask() == Decimal("0.6")
    resync, found = path.kalshi_frame({"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"side": "up"}})
    assert (resync, found) == (None, [])
    assert path.kalshi.stats.parse_errors == 1
    assert path.kalshi_books.book("KX-TEST").best_yes_bid() == Decimal("0.5")


def test_the_detector_refuses_books_it_cannot_read_in_integer_units() -> None:
    pair = confirmed_pair()
    with pytest.raises(NotNativeError, match="native"):
        Detector([pair], books=venue_books(PolymarketBookFeed(native=False), KalshiBooks(native=False)))
