"""A replay rebuilds, on the sandbox venue, the very book the venue's own feed builds from the same lines."""

from __future__ import annotations

import json
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import orjson
import pytest

from domain.money import CENT
from sandbox.engine import BookSide, MatchingEngine
from sandbox.handles import KalshiHandle, Sandboxes
from sandbox.kalshi import KalshiVenue
from sandbox.polymarket.state import PolymarketState
from sandbox.replay import replay_file
from venues.kalshi.books import KalshiBooks
from venues.kalshi.parse import OrderbookDelta, OrderbookSnapshot, parse_recorder_line
from venues.polymarket.book_feed import PolymarketBookFeed

KALSHI_RECORDING = Path("mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl")
POLYMARKET_RECORDINGS = (
    Path("nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"),
    Path("nautilus_trader/test_data/ws_book_snapshot_captured.json"),
    Path("nautilus_trader/ws_messages/book.json"),
)

Levels = list[tuple[Decimal, Decimal]]


def engine_levels(engine: MatchingEngine) -> tuple[Levels, Levels]:
    return sorted(engine.levels(BookSide.BID)), sorted(engine.levels(BookSide.ASK))


async def test_kalshi_replay_equals_the_feed_book_at_whole_cents(shared_data: Path) -> None:
    path = shared_data / KALSHI_RECORDING
    feed = KalshiBooks(enforce_seq=False, native=False)
    ticker = ""
    for line in path.read_text().splitlines():
        msg = parse_recorder_line(line)
        if isinstance(msg, OrderbookSnapshot):
            feed.on_snapshot(msg)
            ticker = msg.ticker
        elif isinstance(msg, OrderbookDelta):
            assert feed.on_delta(msg) is None
    venue = KalshiVenue()
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused")), speed=0)
    book = feed.book(ticker).snapshot()

    def held(levels: tuple[tuple[Decimal, Decimal], ...]) -> Levels:
        whole = [(p, s.to_integral_value(rounding=ROUND_FLOOR)) for p, s in levels if p % CENT == 0]
        return sorted((p, s) for p, s in whole if s > 0)

    assert engine_levels(venue.markets[ticker].engine) == (held(book.yes_bids), held(book.yes_asks))
    sub_cent = {p for p, _ in (*book.yes_bids, *book.yes_asks) if p % CENT}
    assert stats.malformed == 0 and stats.skipped >= len(sub_cent) > 0


@pytest.mark.parametrize("name", POLYMARKET_RECORDINGS, ids=lambda p: p.name)
async def test_polymarket_replay_equals_the_feed_book(shared_data: Path, tmp_path: Path, name: Path) -> None:
    recorded = json.loads((shared_data / name).read_text())
    frames = recorded if isinstance(recorded, list) else [recorded]
    first = frames[0]
    feed = PolymarketBookFeed(native=False)
    tokens = [
        first["asset_id"],
        *{c["asset_id"] for f in frames for c in f.get("price_changes", [])} - {first["asset_id"]},
    ]
    feed.add_tokens(first["market"], tokens[0], tokens[1] if len(tokens) > 1 else f"{tokens[0]}0")
    for frame in frames:
        feed.on_frame(orjson.dumps(frame))
    state = PolymarketState()
    stats = await replay_file(
        shared_data / name, Sandboxes(KalshiHandle(KalshiVenue(), "http://unused"), state), speed=0
    )
    book = feed.book(first["market"]).snapshot()
    assert book.in_sync and (book.yes_bids or book.yes_asks)
    assert engine_levels(state.markets[first["market"]].engine) == (sorted(book.yes_bids), sorted(book.yes_asks))
    assert (stats.malformed, stats.skipped, stats.messages) == (0, 0, len(frames))


async def test_malformed_lines_of_either_venue_are_counted_and_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        {"type": "snapshot", "ticker": "KX-1", "yes": [["0.4000", "5.00"]], "no": []},
        {"type": "delta", "ticker": "KX-1", "price_dollars": "1.7", "delta_fp": "5", "side": "yes"},
        {"type": "delta", "ticker": "KX-1", "price_dollars": "0.40", "delta_fp": "x", "side": "yes"},
        {"type": "delta", "ticker": "KX-1", "price_dollars": "0.40", "delta_fp": "2", "side": "maybe"},
        {"type": "delta", "ticker": "KX-1", "ts": "yesterday", "price_dollars": "0.40", "delta_fp": "2", "side": "yes"},
        {"event_type": "book", "market": "0xc", "asset_id": "1", "bids": [{"price": "abc", "size": "1"}]},
        {"neither": "venue"},
        {"type": "delta", "ticker": "KX-1", "price_dollars": "0.40", "delta_fp": "3", "side": "yes"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    venue = KalshiVenue()
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused"), PolymarketState()), speed=0)
    assert venue.book("KX-1") == ([(40, 8)], [])
    assert (stats.malformed, stats.messages) == (6, 2)
