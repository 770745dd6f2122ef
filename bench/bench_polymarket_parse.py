"""Polymarket market-channel parse + book update throughput vs bare `orjson.loads`.

Replays every recorded market-channel message under the shared data directory (the
crossing burst, the ssmd books and trades, the nautilus single-message samples) as
compact wire bytes, many times over, through `PolymarketBookFeed.on_frame` (parse,
then apply to the normalized books), and times the same bytes through
`orjson.loads` alone. Target: parse + update within 2x of bare JSON decoding.

The measured feed is the production one, `PolymarketBookFeed(native=True)` (C parse into
native integer books, Python for whatever it declines); the pure-Python feed
(`native=False`, orjson + Decimal books) is timed too, for comparison.

Run: .venv/bin/python -m bench.bench_polymarket_parse [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import orjson

from venues.polymarket.book_feed import PolymarketBookFeed

DATA = Path(os.environ.get("INERTIAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SOURCES = [
    "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json",
    "nautilus_trader/test_data/ws_book_snapshot_captured.json",
    "nautilus_trader/test_data/ws_market_best_bid_ask_msg.json",
    "nautilus_trader/test_data/ws_market_tick_size_msg.json",
    "nautilus_trader/ws_messages/book.json",
    "nautilus_trader/ws_messages/price_change.json",
    "nautilus_trader/ws_messages/price_change_v2.json",
    "nautilus_trader/ws_messages/last_trade_price.json",
    "nautilus_trader/ws_messages/tick_size_change.json",
    "ssmd/polymarket_book.jsonl",
    "ssmd/polymarket_trade.jsonl",
]


def recorded_frames() -> list[bytes]:
    frames: list[bytes] = []
    for rel in SOURCES:
        raw = (DATA / rel).read_bytes()
        if rel.endswith(".jsonl"):
            frames += [orjson.dumps(orjson.loads(line)) for line in raw.splitlines() if line.strip()]
            continue
        decoded = orjson.loads(raw)
        frames += [orjson.dumps(m) for m in decoded] if isinstance(decoded, list) else [orjson.dumps(decoded)]
    return frames


def feed_for(frames: list[bytes], native: bool = True) -> PolymarketBookFeed:
    """Register every token seen, pairing each market's tokens (a lone token gets a placeholder twin)."""
    feed = PolymarketBookFeed(native=native)
    tokens: dict[str, list[str]] = {}
    for frame in frames:
        message = orjson.loads(frame)
        ids = [c["asset_id"] for c in message.get("price_changes", [])] + [message.get("asset_id")]
        for asset in ids:
            if asset and asset not in tokens.setdefault(message["market"], []):
                tokens[message["market"]].append(asset)
    for market, ids in tokens.items():
        yes = ids[0]
        no = ids[1] if len(ids) > 1 else f"{yes}-no"
        feed.add_tokens(market, yes, no)
    return feed


def timed(run: object, frames: list[bytes], seconds: float) -> tuple[float, int]:
    assert callable(run)
    count, start = 0, time.perf_counter()
    while True:
        for frame in frames:
            run(frame)
        count += len(frames)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    frames = recorded_frames()
    feed = feed_for(frames)
    python_feed = feed_for(frames, native=False)
    timed(feed.on_frame, frames, 0.3)  # warm the price cache and the books
    timed(python_feed.on_frame, frames, 0.3)
    timed(orjson.loads, frames, 0.3)
    size = sum(map(len, frames)) / len(frames)
    print(f"{len(frames)} recorded market-channel frames, {size:.0f} bytes on average")
    groups = {
        "all frames": frames,
        "price_change only": [f for f in frames if b'"price_changes"' in f],
        "book only": [f for f in frames if b'"bids"' in f],
    }
    for name, group in groups.items():
        json_s, json_n = timed(orjson.loads, group, args.seconds)
        feed_s, feed_n = timed(feed.on_frame, group, args.seconds)
        python_s, python_n = timed(python_feed.on_frame, group, args.seconds)
        json_rate, feed_rate, python_rate = json_n / json_s, feed_n / feed_s, python_n / python_s
        print(
            f"{name:18s} ({len(group):2d} frames): orjson.loads {json_rate:10,.0f} msgs/s | "
            f"parse + book update (native) {feed_rate:10,.0f} msgs/s | ratio {json_rate / feed_rate:.2f}x "
            f"(target <= 2x) | pure Python {python_rate:10,.0f} msgs/s, ratio {json_rate / python_rate:.2f}x"
        )
    print(f"feed counters: {feed.counters}")


if __name__ == "__main__":
    main()
