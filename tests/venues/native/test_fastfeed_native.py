"""The detector's feed in native mode equals its pure-Python mode, frame by frame.

Two detectors over the same pairs, one with `IntBook`s (every frame parsed in Python) and one
with native books (frames parsed in C, declined ones falling back to Python). After every frame
both must hold identical books, sync flags, timestamps, counters and opportunities.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbitrage.detector import Detector, DetectorConfig
from arbitrage.fastfeed import FastFeed, native_book
from arbitrage.intbook import IntBook
from domain.models import Venue
from tests.arbitrage.factories import T0_NS, confirmed_pair, d, kalshi_market, poly_market, snapshot
from tests.venues.native.frames import kalshi_frames, poly_frame

BURST = "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"
YES_TOKEN = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
NO_TOKEN = "54179564009642723353355316176091991063553046330768303687769988635499280029688"
KALSHI_STREAM = "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"


def pairs(tokens: dict[str, tuple[str, str]] | None = None, tickers: tuple[str, ...] = ("KX-A", "KX-B")) -> list[Any]:
    tokens = tokens or {"0xa": ("0xa-yes", "0xa-no"), "0xb": ("0xb-yes", "0xb-no")}
    out = []
    for i, ((cond, (yes, no)), ticker) in enumerate(zip(tokens.items(), tickers, strict=False)):
        poly = poly_market(market_id=cond, fee_rate="0.03" if i else "0").model_copy(
            update={"yes_token": yes, "no_token": no}
        )
        out.append(confirmed_pair(poly=poly, kalshi=kalshi_market(ticker=ticker), pair_id=f"pair-{i}"))
    return out


class Twin:
    """The same frames through a pure-Python and a native FastFeed."""

    def __init__(self, pair_list: list[Any]) -> None:
        config = DetectorConfig(min_edge=Decimal("0.001"), min_profit=Decimal("0.01"), max_book_age_ns=10**18)
        self.pure = FastFeed(Detector(pair_list, config, clock_ns=lambda: T0_NS))
        self.native = FastFeed(Detector(pair_list, config, clock_ns=lambda: T0_NS, book_type=native_book))
        assert self.native.native and not self.pure.native
        self.now = T0_NS

    def send(self, venue: Venue, raw: bytes) -> None:
        self.now += 1_000
        results: list[tuple[str, object]] = []
        for feed in (self.pure, self.native):
            call = feed.polymarket if venue is Venue.POLYMARKET else feed.kalshi
            try:
                results.append(("ok", call(raw, self.now)))
            except Exception as exc:  # the pure path's own failures must be reproduced, not hidden
                results.append(("raised", type(exc)))
        assert results[0] == results[1], raw
        self.assert_same(raw)

    def assert_same(self, raw: bytes = b"") -> None:
        assert (self.pure.malformed, self.pure.applied) == (self.native.malformed, self.native.applied), raw
        for key, pure in self.pure.detector.books.items():
            native = self.native.detector.books[key]
            assert pure.bids == native.bids and pure.asks == native.asks, (key, raw)
            assert (pure.best_bid, pure.best_ask) == (native.best_bid, native.best_ask), (key, raw)
            assert (pure.in_sync, pure.updated_ns) == (native.in_sync, native.updated_ns), (key, raw)


def test_recorded_polymarket_burst_native_equals_python_and_rebuilds_the_final_book(shared_data: Path) -> None:
    frames = json.loads((shared_data / BURST).read_text())
    twin = Twin(pairs({frames[0]["market"]: (YES_TOKEN, NO_TOKEN)}, ("KX-A",)))
    native = twin.native._native_poly
    assert native is not None
    for frame in frames:
        raw = orjson.dumps(frame)
        twin.send(Venue.POLYMARKET, raw)
    # every recorded book and price_change was parsed natively (re-fed, both are idempotent here)
    assert all(native.feed(orjson.dumps(f), twin.now) is not None for f in frames[:-1])
    book = twin.native.detector.book(Venue.POLYMARKET, frames[0]["market"])
    final = frames[-1]
    yes_bids = {round(Decimal(lv["price"]) * 10_000): round(Decimal(lv["size"]) * 100) for lv in final["bids"]}
    yes_asks = {round(Decimal(lv["price"]) * 10_000): round(Decimal(lv["size"]) * 100) for lv in final["asks"]}
    assert book.bids == yes_bids and book.asks == yes_asks
    twin2 = Twin(pairs({frames[0]["market"]: (YES_TOKEN, NO_TOKEN)}, ("KX-A",)))
    for frame in frames[:-1]:
        twin2.send(Venue.POLYMARKET, orjson.dumps(frame))
    replayed = twin2.native.detector.book(Venue.POLYMARKET, frames[0]["market"])
    assert (replayed.bids, replayed.asks) == (yes_bids, yes_asks)  # first book + 49 price_changes = final book


def test_recorded_kalshi_stream_native_equals_python(shared_data: Path) -> None:
    lines = [json.loads(line) for line in (shared_data / KALSHI_STREAM).read_text().splitlines()]
    ticker = "KXBTC15M-26APR191215-15"
    twin = Twin(pairs({"0xa": ("0xa-yes", "0xa-no")}, (ticker,)))
    native = twin.native._native_kalshi
    assert native is not None
    handled = 0
    for line in lines:
        if line["type"] == "snapshot":
            body = {"market_ticker": ticker, "yes_dollars_fp": line["yes"], "no_dollars_fp": line["no"]}
            raw = orjson.dumps({"type": "orderbook_snapshot", "msg": body})
        elif line["type"] == "delta":
            body = {k: line[k] for k in ("price_dollars", "delta_fp", "side", "market_id", "ts")}
            raw = orjson.dumps({"type": "orderbook_delta", "msg": body | {"market_ticker": ticker}})
        else:
            continue
        before = twin.native.applied
        twin.send(Venue.KALSHI, raw)
        handled += twin.native.applied - before
    book = twin.native.detector.book(Venue.KALSHI, ticker)
    assert handled == 117 and twin.native.malformed == 0 and book.in_sync
    assert (book.best_bid, book.best_ask) == (3700, 3800)  # YES 0.37 / 0.38, as recorded


def test_every_bench_frame_is_parsed_natively_with_identical_results() -> None:
    """The benchmark's generated stream (valid frames of both venues): all native, same opportunities."""
    from bench.bench_detector import initial_frames, make_pairs, make_stream

    rnd = random.Random(3)
    bench_pairs = make_pairs(rnd, 40)
    poly0, kalshi0 = initial_frames(bench_pairs)
    stream = make_stream(rnd, bench_pairs, 3_000)
    twin = Twin([bp.pair for bp in bench_pairs])
    poly_native, kalshi_native = twin.native._native_poly, twin.native._native_kalshi
    assert poly_native is not None and kalshi_native is not None
    declined = 0
    for raw in poly0:
        twin.send(Venue.POLYMARKET, raw)
    for raw in kalshi0:
        twin.send(Venue.KALSHI, raw)
    for is_poly, raw in stream:
        twin.send(Venue.POLYMARKET if is_poly else Venue.KALSHI, raw)
    for book in twin.native.detector.books.values():
        assert book.in_sync
    # all frames were native: replaying the stream on a third native feed never declines
    third = Twin([bp.pair for bp in bench_pairs]).native
    assert third._native_poly is not None and third._native_kalshi is not None
    for raw in poly0:
        declined += third._native_poly.feed(raw, T0_NS) is None
    for raw in kalshi0:
        declined += third._native_kalshi.feed(raw, T0_NS) is None
    for is_poly, raw in stream:
        parser = third._native_poly if is_poly else third._native_kalshi
        declined += parser.feed(raw, T0_NS) is None
    assert declined == 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(poly=st.lists(poly_frame(), max_size=25), kalshi=kalshi_frames(), order=st.randoms(use_true_random=False))
def test_random_frame_streams_give_identical_books_and_decisions(poly, kalshi, order) -> None:
    twin = Twin(pairs())
    stream = [(Venue.POLYMARKET, f) for f in poly] + [(Venue.KALSHI, f) for f in kalshi]
    order.shuffle(stream)
    for venue, raw in stream:
        twin.send(venue, raw)


def test_native_declines_change_nothing_and_seq_state_is_shared() -> None:
    """A declined frame leaves the native books alone; the Python path then sees the same seq table."""
    twin = Twin(pairs())
    snap = {"market_ticker": "KX-A", "yes_dollars_fp": [["0.40", "10.00"]], "no_dollars_fp": [["0.55", "3"]]}
    twin.send(Venue.KALSHI, orjson.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": snap}))
    book = twin.native.detector.book(Venue.KALSHI, "KX-A")
    assert book.bids == {4000: 1000} and book.asks == {4500: 300}
    # a delta that would go negative: declined natively, the Python path marks it and counts it
    delta = {"market_ticker": "KX-A", "price_dollars": "0.40", "delta_fp": "-11.00", "side": "yes"}
    raw = orjson.dumps({"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": delta})
    parser = twin.native._native_kalshi
    assert parser is not None
    assert parser.feed(raw, T0_NS) is None and book.in_sync and book.bids == {4000: 1000}
    twin.send(Venue.KALSHI, raw)
    assert not book.in_sync and twin.native.malformed == 1
    # seq 3 after 2: contiguous although 2 went through Python
    twin.send(Venue.KALSHI, orjson.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 3, "msg": snap}))
    ok = {"market_ticker": "KX-A", "price_dollars": "0.40", "delta_fp": "-1", "side": "yes"}
    raw = orjson.dumps({"type": "orderbook_delta", "sid": 1, "seq": 4, "msg": ok})
    assert parser.feed(raw, T0_NS) == (twin.native.detector.watchers(Venue.KALSHI, "KX-A"),)
    assert book.bids == {4000: 900}
    gap = orjson.dumps({"type": "orderbook_delta", "sid": 1, "seq": 6, "msg": ok})
    assert parser.feed(gap, T0_NS) == () and parser.gaps == 1
    assert not any(b.in_sync for (v, _), b in twin.native.detector.books.items() if v is Venue.KALSHI)


def test_native_book_has_the_intbook_interface() -> None:
    """Same operations on an IntBook and a native book give the same state and answers."""
    rnd = random.Random(11)
    pure, native = IntBook(Venue.KALSHI, "KX"), native_book(Venue.KALSHI, "KX")
    assert (native.venue, native.market_id, native.in_sync) == (Venue.KALSHI, "KX", False)
    for step in range(3_000):
        op = rnd.randrange(5)
        p, s = rnd.randrange(0, 10_001, 100), rnd.randrange(-300, 3_000)
        if op == 0:
            pure.set_bid(p, s)
            native.set_bid(p, s)
        elif op == 1:
            pure.set_ask(p, s)
            native.set_ask(p, s)
        elif op == 2:
            assert pure.add_bid(p, s - 1_000) == native.add_bid(p, s - 1_000)
        elif op == 3:
            assert pure.add_ask(p, s - 1_000) == native.add_ask(p, s - 1_000)
        elif step % 50 == 0:
            levels = [(rnd.randrange(0, 10_001, 100), rnd.randrange(-5, 50)) for _ in range(rnd.randrange(8))]
            pure.replace(levels, levels[::-1], step)
            native.replace(levels, levels[::-1], step)
        assert (pure.bids, pure.asks, pure.best_bid, pure.best_ask) == (
            native.bids,
            native.asks,
            native.best_bid,
            native.best_ask,
        )
        for yes in (True, False):
            assert pure.asks_of(yes) == native.asks_of(yes)
            assert pure.best_ask_of(yes) == native.best_ask_of(yes)
    assert (pure.in_sync, pure.updated_ns) == (native.in_sync, native.updated_ns)
    snap = snapshot(Venue.KALSHI, "KX", d([("0.41", "2.5"), ("0.4", "3.999")]), d([("0.6", "1")]))
    pure.load(snap, 7)
    native.load(snap, 7)  # sizes finer than 0.01 are floored, as IntBook does
    assert (pure.bids, pure.asks, pure.in_sync, pure.updated_ns) == (
        native.bids,
        native.asks,
        native.in_sync,
        native.updated_ns,
    )
