"""Fuzz the native venue-frame parser (venues/native/_books.c) against the pure-Python parser.

Each input is up to 16 frames separated by newlines. `FUZZ_MODE=differential` (the default) feeds
them to a Polymarket and a Kalshi feed twice, natively and in pure Python, and compares the books
after every frame; `FUZZ_MODE=native` feeds only the C parser, for volume. The C code is the
sanitized build from fuzz/build-native.sh (libFuzzer coverage, ASan, UBSan). Any crash, sanitizer
report or disagreement is a finding and libFuzzer saves the input. Seeds are the recorded frames
under ../shared/data.

Run it through fuzz/run.sh (which builds, preloads the sanitizer runtime, and checks for leaks):
`fuzz/run.sh native 10000000`, or `make fuzz` for both modes.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path

import atheris
import orjson

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
MAX_FRAMES = 16


def _load_sanitized() -> None:
    """The sanitized build stands in for `venues.native._books` before anything imports the real one."""
    [built] = Path(os.environ.get("FUZZ_BUILD", ROOT / "build" / "fuzz")).glob("_books*.so") or [None]
    if built is None:
        sys.exit("no sanitized build: run fuzz/build-native.sh first")
    spec = importlib.util.spec_from_file_location("venues.native._books", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["venues.native._books"] = module
    spec.loader.exec_module(module)


_load_sanitized()

from domain.models import Venue  # noqa: E402
from tests.venues.native.frames import kalshi_envelopes, poly_markets, recorded_frames  # noqa: E402
from tests.venues.native.test_venue_feeds_native import (  # noqa: E402
    KALSHI_STREAM,
    POLY_SOURCES,
    KalshiTwin,
    PolyTwin,
    exact_units,
)
from venues.kalshi.books import KalshiBooks  # noqa: E402
from venues.kalshi.parse import OrderbookSnapshot, parse_ws_message  # noqa: E402
from venues.native._books import Book, PolyFeed  # noqa: E402
from venues.polymarket.book_feed import FeedCounters  # noqa: E402

POLY = [f for rel in POLY_SOURCES for f in recorded_frames(SHARED_DATA / rel)]
MARKETS = poly_markets(POLY)
KALSHI_TICKER = "KXBTC15M-26APR191215-15"
KALSHI = kalshi_envelopes(SHARED_DATA / KALSHI_STREAM, KALSHI_TICKER)


def _small_snapshot() -> OrderbookSnapshot:
    """A small book to start each input from (a recorded snapshot's hundred levels would cost more than the input)."""
    body = {"market_ticker": KALSHI_TICKER, "yes_dollars_fp": [["0.37", "10.00"]], "no_dollars_fp": [["0.62", "5.00"]]}
    parsed = parse_ws_message(orjson.dumps({"type": "orderbook_snapshot", "sid": 7, "seq": 1, "msg": body}))
    assert isinstance(parsed, OrderbookSnapshot)
    return parsed


KALSHI_SNAPSHOT = _small_snapshot()


def seed(corpus: Path) -> None:
    """Write the recorded frames as seeds (a few consecutive frames each) into an empty corpus."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    for name, frames in (("poly", POLY), ("kalshi", KALSHI)):
        for i in range(0, len(frames), 4):
            (corpus / f"{name}-{i:05d}").write_bytes(b"\n".join(frames[i : i + 4]))


def differential(data: bytes) -> None:
    """Both parsers, books compared after every frame (about 250 inputs a second)."""
    poly, kalshi = PolyTwin(MARKETS), KalshiTwin()
    exact = True
    for raw in data.split(b"\n")[:MAX_FRAMES]:
        exact = exact and exact_units(raw)
        poly.send(raw, exact)
        kalshi.send(raw, exact)


def native_only(data: bytes) -> None:
    """The C parser alone on fresh books (a loaded Kalshi book, every Polymarket market): for volume."""
    poly = PolyFeed(venue_rules=True, counters=FeedCounters())
    for market, (yes, no) in MARKETS.items():
        book = Book(Venue.POLYMARKET, market)
        poly.add(yes, book, True, book)
        poly.add(no, book, False, book)
    kalshi = KalshiBooks(native=True)
    kalshi.on_snapshot(KALSHI_SNAPSHOT)
    for raw in data.split(b"\n")[:MAX_FRAMES]:
        poly.feed(raw, None)
        kalshi.on_frame(raw)


def main() -> None:
    logging.getLogger("venues").setLevel(logging.CRITICAL)  # bad frames are logged by design
    corpora = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    for corpus in corpora:
        if not corpus.is_file():  # a file is one input to reproduce, not a corpus
            seed(corpus)
    mode = os.environ.get("FUZZ_MODE", "differential")
    atheris.Setup(sys.argv, native_only if mode == "native" else differential)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
