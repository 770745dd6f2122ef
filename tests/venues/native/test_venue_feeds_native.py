"""The venue feeds in native mode (the streams' default) equal their pure-Python mode.

`PolymarketBookFeed(native=True)` against `native=False`, and `KalshiBooks(native=True)` fed
like the stream feeds it (`on_frame`, else parse + `on_delta`/`on_snapshot`) against the
pure path. Where every value fits the integer units the two must agree exactly after every
frame: snapshots (levels, sequence, time, hash, sync), counters, notified books, desyncs,
resyncs. Where a value does not fit (a size finer than 0.01, say) the native book must be out
of sync rather than different.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.book import BookSnapshot, OrderBook
from domain.models import Outcome, Venue
from tests.venues.native.frames import kalshi_envelopes, kalshi_frames, poly_frame, poly_markets, recorded_frames
from venues.kalshi.books import KalshiBooks, Resync
from venues.kalshi.parse import KalshiParseError, OrderbookDelta, OrderbookSnapshot, parse_ws_message
from venues.native import NativeOrderBook
from venues.polymarket.book_feed import PolymarketBookFeed

BURST = "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"
KALSHI_STREAM = "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"
POLY_SOURCES = [
    BURST,
    "nautilus_trader/test_data/ws_book_snapshot_captured.json",
    "nautilus_trader/test_data/ws_market_best_bid_ask_msg.json",
    "nautilus_trader/test_data/ws_market_tick_size_msg.json",
    "nautilus_trader/test_data/ws_market_resolved_msg.json",
    "nautilus_trader/test_data/ws_market_new_market_msg.json",
    "nautilus_trader/ws_messages/book.json",
    "nautilus_trader/ws_messages/price_change.json",
    "nautilus_trader/ws_messages/price_change_v2.json",
    "nautilus_trader/ws_messages/last_trade_price.json",
    "nautilus_trader/ws_messages/tick_size_change.json",
    "ssmd/polymarket_book.jsonl",
    "ssmd/polymarket_trade.jsonl",
]


@pytest.fixture(autouse=True, scope="module")
def _quiet_venue_logs() -> Iterator[None]:
    """Thousands of bad frames are logged by design; capturing them all would dominate the run time."""
    logger = logging.getLogger("venues")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def _fits(text: object, places: int) -> bool:
    """A value the Python path accepts that integer units hold exactly (or one it rejects anyway)."""
    if not isinstance(text, str):
        return True
    try:
        value = Decimal(text)
    except ArithmeticError:
        return True
    if not value.is_finite():
        return True
    return value == value.quantize(Decimal(1).scaleb(-places)) if abs(value) < 10**13 else False


def exact_units(raw: bytes) -> bool:
    """Every price (1e-4) and size (1e-2) in the frame fits the native units."""
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return True
    stack = [decoded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            row = len(item) == 2 and all(isinstance(v, str) for v in item)  # a Kalshi [price, size] row
            if row and not (_fits(item[0], 4) and _fits(item[1], 2)):
                return False
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in ("price", "best_bid", "best_ask", "price_dollars") and not _fits(value, 4):
                    return False
                if key in ("size", "delta_fp") and not _fits(value, 2):
                    return False
                if key == "delta" and isinstance(value, int) and abs(value) >= 10**13:
                    return False
                stack.append(value)
    return True


def _view(snap: BookSnapshot) -> tuple[Any, ...]:
    return (snap.yes_bids, snap.yes_asks, snap.sequence, snap.updated_at, snap.in_sync, snap.hash)


class PolyTwin:
    def __init__(self, markets: dict[str, tuple[str, str]]) -> None:
        self.feeds = (PolymarketBookFeed(native=False), PolymarketBookFeed(native=True))
        self.seen: tuple[list[list[str]], list[list[str]]] = ([], [])
        self.desyncs: tuple[list[str], list[str]] = ([], [])
        for feed, seen, desyncs in zip(self.feeds, self.seen, self.desyncs, strict=True):
            feed.on_book = lambda book, seen=seen: seen[-1].append(book.market_id)
            feed.on_desync = desyncs.append
            for cond, (yes, no) in markets.items():
                feed.add_tokens(cond, yes, no)
        assert isinstance(self.feeds[1].book(next(iter(markets))), NativeOrderBook)

    def send(self, raw: bytes, exact: bool = True) -> None:
        for feed, seen in zip(self.feeds, self.seen, strict=True):
            seen.append([])
            feed.on_frame(raw)
        pure, native = self.feeds
        for book in pure.books():
            mine = native.book(book.market_id)
            if exact:
                assert _view(book.snapshot()) == _view(mine.snapshot()), raw
                assert book.best_yes_bid() == mine.best_yes_bid() and book.best_yes_ask() == mine.best_yes_ask()
            elif mine.in_sync:  # never in sync with a different book
                assert (book.snapshot().yes_bids, book.snapshot().yes_asks) == (
                    mine.snapshot().yes_bids,
                    mine.snapshot().yes_asks,
                ), raw
        if exact:
            assert pure.counters == native.counters, raw
            assert sorted(self.seen[0][-1]) == sorted(self.seen[1][-1]), raw
            assert self.desyncs[0] == self.desyncs[1], raw
            assert (pure.tick_sizes, pure.resolved) == (native.tick_sizes, native.resolved)
        else:
            assert pure.counters.parse_errors == native.counters.parse_errors, raw


def test_every_recorded_polymarket_frame_gives_the_same_books(shared_data: Path) -> None:
    frames = [f for rel in POLY_SOURCES for f in recorded_frames(shared_data / rel)]
    twin = PolyTwin(poly_markets(frames))
    for frame in frames:
        twin.send(frame)
    # and as one frame each, arrays included (how the venue batches its first books)
    twin.send(b"[" + b",".join(recorded_frames(shared_data / "ssmd/polymarket_book.jsonl")) + b"]")
    assert twin.feeds[1].counters.messages == twin.feeds[0].counters.messages > len(frames)


def test_crossing_burst_is_parsed_natively_and_rebuilds_the_final_book(shared_data: Path) -> None:
    frames = json.loads((shared_data / BURST).read_text())
    feed = PolymarketBookFeed(native=True)
    market = frames[0]["market"]
    yes = frames[0]["asset_id"]
    no = next(c["asset_id"] for c in frames[1]["price_changes"] if c["asset_id"] != yes)
    book = feed.add_tokens(market, yes, no)
    native = feed._native
    assert native is not None
    for frame in frames[:-1]:  # first book + 49 price_changes, each parsed by the C path
        assert native.feed(orjson.dumps(frame), None) is not None
    reference = OrderBook(Venue.POLYMARKET, market)
    final = frames[-1]
    reference.replace(
        [(Decimal(lv["price"]), Decimal(lv["size"])) for lv in final["bids"]],
        [(Decimal(lv["price"]), Decimal(lv["size"])) for lv in final["asks"]],
    )
    assert book.snapshot().yes_bids == reference.snapshot().yes_bids
    assert book.snapshot().yes_asks == reference.snapshot().yes_asks
    assert book.in_sync and feed.counters.bbo_mismatches == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(frames=st.lists(poly_frame(), max_size=25))
def test_random_polymarket_frames_native_equals_python(frames: list[bytes]) -> None:
    twin = PolyTwin({"0xa": ("0xa-yes", "0xa-no"), "0xb": ("0xb-yes", "0xb-no")})
    exact = True
    for raw in frames:
        exact = exact and exact_units(raw)
        twin.send(raw, exact)


def _resync(value: object) -> object:
    """A resync's decision (its reason is log text, worded by the book that refused)."""
    return (value.sid, value.tickers) if isinstance(value, Resync) else value


class KalshiTwin:
    """Both books fed as `KalshiStream._on_frame` feeds them."""

    def __init__(self) -> None:
        self.books = (KalshiBooks(native=False), KalshiBooks(native=True))
        self.handled = 0

    def _feed(self, books: KalshiBooks, raw: bytes) -> tuple[str, object]:
        if books.native:
            book = books.on_frame(raw)
            if book is not None:
                self.handled += 1
                return ("native", book.market_id)
        try:
            msg = parse_ws_message(raw)
        except KalshiParseError:
            return ("error", None)
        if isinstance(msg, OrderbookDelta):
            return ("delta", books.on_delta(msg))
        if isinstance(msg, OrderbookSnapshot):
            return ("snapshot", books.on_snapshot(msg))
        return ("other", None)

    def send(self, raw: bytes, exact: bool = True) -> None:
        pure, native = (self._feed(b, raw) for b in self.books)
        if native[0] == "native":
            assert pure[0] == "delta" and pure[1] is None, raw  # the plain case: no resync
        elif exact:
            assert pure[0] == native[0] and _resync(pure[1]) == _resync(native[1]), raw
        for ticker in self.books[0].tickers:
            ref, mine = self.books[0].book(ticker), self.books[1].book(ticker)
            if exact:
                assert _view(ref.snapshot()) == _view(mine.snapshot()), raw
            elif mine.in_sync:
                assert (ref.snapshot().yes_bids, ref.snapshot().yes_asks) == (
                    mine.snapshot().yes_bids,
                    mine.snapshot().yes_asks,
                ), raw
        if exact:
            assert self.books[0].counters == self.books[1].counters, raw
            assert set(self.books[0].tickers) == set(self.books[1].tickers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=kalshi_frames())
def test_random_kalshi_frames_native_equals_python(frames: list[bytes]) -> None:
    twin = KalshiTwin()
    exact = True
    for raw in frames:
        exact = exact and exact_units(raw)
        twin.send(raw, exact)


def test_recorded_kalshi_stream_native_equals_python(shared_data: Path) -> None:
    """The mdowis stream in the wire envelope, seq renumbered contiguously (the recorder's sid was shared)."""
    twin = KalshiTwin()
    ticker = "KXBTC15M-26APR191215-15"
    envelopes = kalshi_envelopes(shared_data / KALSHI_STREAM, ticker)
    for frame in envelopes:
        twin.send(frame)
    seq = len(envelopes)
    book = twin.books[1].book(ticker)
    assert twin.handled == 116 and book.in_sync
    assert (book.best_yes_bid(), book.best_yes_ask()) == (Decimal("0.37"), Decimal("0.38"))
    # a gap is left to the Python path, which resyncs
    gap = {"market_ticker": ticker, "price_dollars": "0.37", "delta_fp": "1.00", "side": "yes"}
    assert (
        twin.books[1].on_frame(orjson.dumps({"type": "orderbook_delta", "sid": 7, "seq": seq + 2, "msg": gap})) is None
    )
    twin.send(orjson.dumps({"type": "orderbook_delta", "sid": 7, "seq": seq + 2, "msg": gap}))
    assert not book.in_sync


D = Decimal
exact_prices = st.integers(0, 10_000).map(lambda u: D(u) / 10_000)
exact_sizes = st.integers(0, 10**6).map(lambda u: D(u) / 100)
any_prices = st.one_of(exact_prices, st.sampled_from([D("0.00001"), D("1.5"), D("-0.1"), D("0.12345")]))
any_sizes = st.one_of(exact_sizes, st.sampled_from([D("0.001"), D(-1), D("1e13"), D("12.345")]))
ops = st.lists(
    st.tuples(st.integers(0, 3), st.booleans(), st.booleans(), any_prices, any_sizes, st.integers(-100, 100)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops)
def test_native_order_book_has_the_order_book_interface(ops: list[Any]) -> None:
    """Same calls on an OrderBook and a NativeOrderBook: same snapshots, or both refuse; a value the
    units cannot hold is refused by the native book (never rounded)."""
    ref, mine = OrderBook(Venue.KALSHI, "T"), NativeOrderBook(Venue.KALSHI, "T")
    for op, yes, is_bid, price, size, delta in ops:
        outcome = Outcome.YES if yes else Outcome.NO
        outcomes = []
        for book in (ref, mine):
            try:
                if op == 0:
                    book.set_level(outcome, is_bid, price, size)
                elif op == 1:
                    book.apply_delta(outcome, is_bid, price, D(delta) + size % 1)
                elif op == 2:
                    book.replace([(price, size), (D("0.3"), D(2))], [(D(1) - price, size)], hash=f"h{delta}")
                else:
                    book.mark_out_of_sync()
                outcomes.append("ok")
            except ValueError as exc:
                outcomes.append(type(exc).__name__)
        representable = _fits(str(price), 4) and _fits(str(size), 2) and 0 <= price <= 1
        if outcomes[0] != outcomes[1]:
            # only a value the units cannot hold may be refused by the native book alone
            assert not representable and outcomes == ["ok", "BookIntegrityError"]
            return  # the reference now holds an exact odd value the native book refused
        assert _view(ref.snapshot()) == _view(mine.snapshot())
        assert (ref.best_yes_bid(), ref.best_yes_ask()) == (mine.best_yes_bid(), mine.best_yes_ask())
