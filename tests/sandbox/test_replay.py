"""Replay through the venues' own parsers: after replaying a recording, the sandbox's REST book is the
book the production feed builds from the same frames, but for the levels the replay counted as skipped."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from domain.book import OrderBook
from domain.money import ONE
from sandbox.handles import KalshiHandle, Sandboxes
from sandbox.kalshi import KalshiVenue
from sandbox.polymarket.state import PolymarketState
from sandbox.replay import ReplayStats, replay_file
from sandbox.scenarios import load_json_lines
from venues.kalshi.books import KalshiBooks
from venues.kalshi.parse import OrderbookDelta, OrderbookSnapshot, parse_recorder_line, parse_ws_message
from venues.polymarket.book_feed import PolymarketBookFeed

CENT = Decimal("0.01")
Levels = set[tuple[str, Decimal, Decimal]]


def recordings(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file())


def feed_levels(book: OrderBook) -> Levels:
    snapshot = book.snapshot()
    return {("bid", p, s) for p, s in snapshot.yes_bids} | {("ask", p, s) for p, s in snapshot.yes_asks}


def kalshi_feed(path: Path) -> KalshiBooks:
    """The production Kalshi book keeper fed each line through `parse_ws_message` (flat lines: the recorder parser)."""
    books = KalshiBooks(enforce_seq=False)
    for item in (i for i in load_json_lines(path) if "type" in i):  # a `type` makes a line Kalshi's
        line = orjson.dumps(item)
        message = parse_ws_message(line) if "msg" in item else parse_recorder_line(line)
        if isinstance(message, OrderbookSnapshot):
            books.on_snapshot(message)
        elif isinstance(message, OrderbookDelta):
            if books.get(message.ticker) is None:  # the replay starts a cut recording from an empty book
                books.on_snapshot(OrderbookSnapshot(message.sid, None, message.ticker, [], []))
            books.on_delta(message)
    return books


def kalshi_rest(venue: KalshiVenue, ticker: str) -> Levels:
    """The venue's REST book (Kalshi bids in cents) in the feed's YES terms."""
    yes, no = venue.book(ticker)
    return {("bid", c * CENT, Decimal(q)) for c, q in yes} | {("ask", ONE - c * CENT, Decimal(q)) for c, q in no}


def kalshi_holdable(levels: Levels) -> Levels:
    """What the sandbox can rest of the feed's levels: whole cents, whole contracts."""
    return {(side, p, s.to_integral_value(rounding="ROUND_FLOOR")) for side, p, s in levels if p % CENT == 0 and s >= 1}


def polymarket_feed(path: Path, state: PolymarketState) -> PolymarketBookFeed:
    """The production Polymarket feed, native path, fed each recorded frame as bytes."""
    feed = PolymarketBookFeed()
    for market in state.markets.values():
        feed.add_tokens(market.condition_id, market.yes_token, market.no_token)
        empty = {"event_type": "book", "market": market.condition_id, "asset_id": market.yes_token}
        feed.on_frame(orjson.dumps({**empty, "bids": [], "asks": [], "timestamp": "0"}))
    for item in (i for i in load_json_lines(path) if "type" not in i):
        feed.on_frame(orjson.dumps(item))
    return feed


def polymarket_rest(state: PolymarketState, yes_token: str) -> Levels:
    summary = state.book_summary(yes_token)
    return {("bid", Decimal(b["price"]), Decimal(b["size"])) for b in summary["bids"]} | {
        ("ask", Decimal(a["price"]), Decimal(a["size"])) for a in summary["asks"]
    }


def check(name: str, rest: Levels, feed: Levels, holdable: Levels, stats: ReplayStats) -> None:
    assert rest <= holdable, f"{name}: the sandbox rests levels the feed does not have: {sorted(rest - holdable)}"
    assert len(feed) - len(rest) <= stats.skipped, f"{name}: {len(feed) - len(rest)} levels missing, {stats}"


async def test_every_recording_replays_to_the_feeds_book(shared_data: Path) -> None:
    replayed: dict[str, int] = {}
    for path in recordings(shared_data):
        venue, state = KalshiVenue(), PolymarketState()
        stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused"), state), speed=0)
        if stats.messages == 0:
            continue  # not a venue stream (listings, REST fixtures, ...)
        name = str(path.relative_to(shared_data))
        assert stats.malformed == 0, name
        books = 0
        kalshi = kalshi_feed(path)
        for ticker in kalshi.tickers:
            book = kalshi.book(ticker)
            assert book.in_sync, name
            levels = feed_levels(book)
            check(name, kalshi_rest(venue, ticker), levels, kalshi_holdable(levels), stats)
            books += 1
        polymarket = polymarket_feed(path, state)
        for market in state.markets.values():
            book = polymarket.book(market.condition_id)
            if not book.in_sync:  # the feed refused a message (a venue BBO that disagrees): counted
                assert stats.skipped > 0, name
                continue
            levels = feed_levels(book)
            tick = market.tick_size
            holdable = {(side, p, s) for side, p, s in levels if p % tick == 0 and tick <= p <= ONE - tick}
            check(name, polymarket_rest(state, market.yes_token), levels, holdable, stats)
            books += 1
        replayed[name] = books
    assert replayed["mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"] == 1
    assert replayed["nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"] == 1
    assert replayed["ssmd/polymarket_book.jsonl"] == 10
    assert replayed["ssmd/kalshi_trade.jsonl"] == 0  # trades are republished, they build no book
    assert replayed["nautilus_trader/kalshi_pr3659_synthetic/ws_orderbook_snapshot.json"] == 1


async def test_recorded_books_are_mirrored_level_for_level(shared_data: Path) -> None:
    """Where every level fits the sandbox, the REST book is exactly the feed's book."""
    path = shared_data / "ssmd/polymarket_book.jsonl"
    state = PolymarketState()
    stats = await replay_file(path, Sandboxes(None, state), speed=0)
    feed = polymarket_feed(path, state)
    assert stats.skipped == 0 and stats.messages == 10
    for market in state.markets.values():
        assert polymarket_rest(state, market.yes_token) == feed_levels(feed.book(market.condition_id))


async def test_kalshi_levels_the_sandbox_cannot_hold_are_counted(shared_data: Path) -> None:
    path = shared_data / "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"
    venue = KalshiVenue()
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused")), speed=0)
    book = kalshi_feed(path).book("KXBTC15M-26APR191215-15")
    levels = feed_levels(book)
    rest = kalshi_rest(venue, "KXBTC15M-26APR191215-15")
    assert rest == kalshi_holdable(levels)
    assert len(levels) - len(rest) == stats.skipped > 0  # the deci-cent tail


async def test_malformed_lines_are_counted_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        "{not json",
        '{"type": "snapshot", "ticker": "KX-1", "yes": [["0.4000", "lots"]]}',
        '{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"market_ticker": "KX-1", "side": "maybe"}}',
        '{"event_type": "book", "market": "0xab", "asset_id": "7", "bids": [{"price": "2", "size": "1"}]}',
        '{"type": "snapshot", "ticker": "KX-1", "yes": [["0.4000", "5.00"]], "no": [["0.5500", "3.00"]]}',
        '{"event_type": "book", "market": "0xab", "asset_id": "7", "bids": [{"price": "0.3", "size": "2"}],'
        ' "asks": [], "timestamp": "1"}',
    ]
    path.write_text("\n".join(lines) + "\n")
    venue, state = KalshiVenue(), PolymarketState()
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused"), state), speed=0)
    assert stats.malformed == 4 and stats.messages == 2
    assert venue.book("KX-1") == ([(40, 5)], [(55, 3)])
    assert polymarket_rest(state, "7") == {("bid", Decimal("0.3"), Decimal(2))}


async def test_replay_paces_by_recorded_time_with_gaps_capped(tmp_path: Path) -> None:
    path = tmp_path / "paced.jsonl"
    stamps = ["2026-04-19T16:00:00Z", "2026-04-19T16:00:01Z", "2026-04-19T17:00:00Z"]
    path.write_text(
        "".join(
            f'{{"type": "delta", "ts": "{ts}", "ticker": "KX-1", "price_dollars": "0.40", "delta_fp": "1",'
            f' "side": "yes"}}\n'
            for ts in stamps
        )
    )
    venue = KalshiVenue()
    started = time.monotonic()
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused")), speed=10, max_gap_s=1.0)
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 1.0  # 1 s and a 1 h gap capped to 1 s, at 10x
    assert stats.messages == 3 and venue.book("KX-1") == ([(40, 3)], [])


async def test_recorded_trades_are_republished_in_both_forms(tmp_path: Path) -> None:
    path = tmp_path / "trades.jsonl"
    path.write_text(
        '{"type": "trade", "sid": 2, "seq": 9, "msg": {"trade_id": "t1", "market_ticker": "KX-1",'
        ' "yes_price_dollars": "0.7700", "count_fp": "75.00", "taker_side": "yes", "ts": 1770897981}}\n'
        '{"type": "trade", "ts": 1776614528, "ticker": "KX-2", "seq": 3387, "trade_id": "t2",'
        ' "yes_price_dollars": "0.3500", "count_fp": "11.72", "taker_side": "no"}\n'
    )
    venue = KalshiVenue()
    published: list[dict[str, Any]] = []
    venue.stream.trade = published.append  # type: ignore[method-assign,assignment]
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused")), speed=0)
    assert stats.messages == 2 and stats.malformed == 0
    assert [(m["trade_id"], m["market_ticker"], m["count_fp"]) for m in published] == [
        ("t1", "KX-1", "75.00"),
        ("t2", "KX-2", "11.72"),
    ]
    assert all("type" not in m and "seq" not in m for m in published)
