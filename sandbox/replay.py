"""Replay a recorded venue stream onto the sandbox venues at N x speed.

Files: a Polymarket market-channel recording (JSON array or JSON lines of `book` /
`price_change` messages) or a Kalshi recording (JSON lines of `orderbook_snapshot`
/ `orderbook_delta` / `trade`, raw `{type, sid, seq, msg}` envelopes or the flat
re-wrapped `snapshot` / `delta` form with a `meta` line).

Every line goes through the venue's own parser (`venues.polymarket.parse`,
`venues.kalshi.parse`) into the venue's own book keeper (`PolymarketBookFeed`,
`KalshiBooks`), the path the streams trade on, so a replay rebuilds exactly the books a
live subscriber would have. The replay does not forward the frames: a replay account
rests post-only orders so the sandbox venue's real book equals that book, and the venue
publishes its own snapshots and deltas (with its own sids and seqs). So REST books,
stream deltas and order matching all agree, and clients can trade against the replay.
Levels the sandbox cannot hold (sub-cent Kalshi prices, a level that would cross the
book) are skipped and counted; the recorded trades of a Kalshi file are republished on
the `trade` channel as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from domain.book import BookSnapshot
from domain.models import Outcome, Side
from domain.money import CENT, ONE, ZERO
from sandbox.engine import BookSide, Event, MatchingEngine, OrderNotOpenError, OrderRequest, UnknownOrderError
from sandbox.handles import Sandboxes
from sandbox.kalshi.venue import KalshiVenue
from sandbox.kalshi.wire import count_fp
from sandbox.ledger import Ledger
from sandbox.scenarios import load_json_lines
from venues.kalshi.books import KalshiBooks, load_bids
from venues.kalshi.parse import (
    KalshiParseError,
    OrderbookDelta,
    OrderbookSnapshot,
    RecorderMessage,
    RecorderMeta,
    TradeUpdate,
    WsMessage,
    parse_recorder_line,
    parse_ws_message,
)
from venues.kalshi.parse import parse_time as kalshi_time
from venues.polymarket import parse as polymarket_parse
from venues.polymarket.book_feed import PolymarketBookFeed
from venues.polymarket.messages import BookEvent, MarketEvent, PolymarketParseError, PriceChangeEvent

log = logging.getLogger(__name__)

REPLAY_ACCOUNT = "replay"
REPLAY_FUNDING = Decimal(10) ** 12
MAX_GAP_S = 5.0


@dataclass
class ReplayStats:
    messages: int = 0
    levels: int = 0
    deferred: int = 0
    skipped: int = 0
    malformed: int = 0


@dataclass
class EngineBook:
    """The replay account's resting orders on one engine, kept equal to recorded level sizes."""

    engine: MatchingEngine
    ledger: Ledger
    publish: Callable[[tuple[Event, ...]], None]
    stats: ReplayStats
    orders: dict[tuple[BookSide, Decimal], tuple[str, Decimal]] = field(default_factory=dict)
    pending: dict[tuple[BookSide, Decimal], Decimal] = field(default_factory=dict)
    unheld: set[tuple[BookSide, Decimal]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.ledger.account(REPLAY_ACCOUNT).available_cash < REPLAY_FUNDING / 2:
            self.ledger.deposit(REPLAY_ACCOUNT, REPLAY_FUNDING)

    def size(self, side: BookSide, yes_price: Decimal) -> Decimal:
        key = (side, yes_price)
        held = self.orders.get(key)
        return held[1] if held else self.pending.get(key, ZERO)

    def set_level(self, side: BookSide, yes_price: Decimal, size: Decimal) -> None:
        """Make the level `size`; a level that would cross waits in `pending` (recordings cross briefly)."""
        key = (side, yes_price)
        self.pending.pop(key, None)
        held = self.orders.pop(key, None)
        if held is not None:
            with contextlib.suppress(OrderNotOpenError, UnknownOrderError):
                self.publish(self.engine.cancel(held[0], REPLAY_ACCOUNT).events)
        if size <= 0:
            return
        if side is BookSide.BID:
            request = OrderRequest(REPLAY_ACCOUNT, Outcome.YES, Side.BUY, yes_price, size, post_only=True)
        else:
            request = OrderRequest(REPLAY_ACCOUNT, Outcome.NO, Side.BUY, ONE - yes_price, size, post_only=True)
        execution = self.engine.submit(request)
        self.publish(execution.events)
        if execution.order.reject_reason is not None:
            self.stats.deferred += 1
            self.pending[key] = size
            return
        self.stats.levels += 1
        self.orders[key] = (execution.order.order_id, size)

    def retry_pending(self) -> None:
        for (side, price), size in list(self.pending.items()):
            self.set_level(side, price, size)

    def replace(self, levels: dict[tuple[BookSide, Decimal], Decimal]) -> None:
        for key in [k for k in (*self.orders, *self.pending) if k not in levels]:
            self.set_level(key[0], key[1], ZERO)
        for (side, price), size in sorted(levels.items(), key=lambda kv: (kv[0][0] is BookSide.ASK, kv[0][1])):
            if self.size(side, price) != size:
                self.set_level(side, price, size)

    def mirror(self, book: BookSnapshot, hold: Callable[[Decimal, Decimal], Decimal | None]) -> None:
        """Make the replay account's levels those of the venue book; `hold(price, size)` is the size the
        sandbox can rest there, or None for a level it cannot hold (skipped, counted once)."""
        levels: dict[tuple[BookSide, Decimal], Decimal] = {}
        for side, rows in ((BookSide.BID, book.yes_bids), (BookSide.ASK, book.yes_asks)):
            for price, size in rows:
                held = hold(price, size)
                if held is None:
                    if (side, price) not in self.unheld:
                        self.unheld.add((side, price))
                        self.stats.skipped += 1
                elif held > 0:
                    levels[(side, price)] = held
        self.replace(levels)


def _seconds(value: Any) -> float | None:
    """A recorded timestamp (unix s, unix ms, ISO string) as unix seconds."""
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 10**11 else float(value)
    if isinstance(value, str):
        if value.replace(".", "", 1).isdigit():
            return _seconds(float(value))
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _whole_cents(price: Decimal, size: Decimal) -> Decimal | None:
    """The Kalshi sandbox rests whole contracts at whole cents strictly inside (0, 1)."""
    if price % CENT != 0 or not ZERO < price < ONE:
        return None
    return size.to_integral_value(rounding=ROUND_FLOOR)


def _any_level(price: Decimal, size: Decimal) -> Decimal | None:
    return size if ZERO < price < ONE else None


class KalshiReplay:
    """Recorded Kalshi lines -> `KalshiBooks` (the streams' book keeper) -> the sandbox venue's book."""

    def __init__(self, venue: KalshiVenue, stats: ReplayStats) -> None:
        self.venue = venue
        self.stats = stats
        # recordings share seqs with markets that were not recorded (see `KalshiBooks`)
        self.feed = KalshiBooks(enforce_seq=False, native=False)
        self.books: dict[str, EngineBook] = {}
        self.title = ""

    def book(self, ticker: str) -> EngineBook:
        found = self.books.get(ticker)
        if found is None:
            if ticker not in self.venue.markets:
                self.venue.add_market(ticker, title=self.title or ticker)
            market = self.venue.markets[ticker]
            found = self.books[ticker] = EngineBook(
                market.engine, self.venue.ledger, lambda ev: self.venue.apply_engine_events(market, ev), self.stats
            )
        return found

    def parse(self, raw: bytes) -> WsMessage | RecorderMessage:
        """One line, wire envelope or recorder form; raises `KalshiParseError` when it does not parse."""
        msg = parse_ws_message(raw) if b'"msg"' in raw else parse_recorder_line(raw)
        kalshi_time(getattr(msg, "ts", None))  # a bad timestamp is a bad line
        return msg

    def apply(self, msg: WsMessage | RecorderMessage) -> None:
        if isinstance(msg, RecorderMeta):
            self.title = msg.title
        elif isinstance(msg, OrderbookSnapshot):
            self.feed.on_snapshot(msg)
            self._mirror(msg.ticker)
        elif isinstance(msg, OrderbookDelta):
            if self.feed.get(msg.ticker) is None:
                # a recording that starts mid-stream starts from an empty book
                load_bids(self.feed.book(msg.ticker), [], [])
            if self.feed.on_delta(msg) is not None:
                # a delta the recording cannot explain (it would leave a negative size): skipped, the
                # book goes on from its last good state
                self.stats.skipped += 1
                book = self.feed.book(msg.ticker)
                good = book.snapshot()
                book.replace(list(good.yes_bids), list(good.yes_asks))
            self._mirror(msg.ticker)
        elif isinstance(msg, TradeUpdate):
            self.venue.stream.trade(
                {
                    "trade_id": msg.trade_id,
                    "market_ticker": msg.ticker,
                    "yes_price_dollars": f"{msg.yes_price:.4f}",
                    "no_price_dollars": f"{msg.no_price:.4f}",
                    "count_fp": count_fp(msg.count),
                    "taker_side": msg.taker_side.value,
                    "ts": msg.ts,
                }
            )

    def _mirror(self, ticker: str) -> None:
        self.book(ticker).mirror(self.feed.book(ticker).snapshot(), _whole_cents)


class PolymarketReplay:
    """Recorded market-channel messages -> `PolymarketBookFeed` (the streams' book keeper) -> the sandbox book."""

    def __init__(self, state: Any, stats: ReplayStats) -> None:
        self.state = state
        self.stats = stats
        self.feed = PolymarketBookFeed(native=False)
        self.books: dict[str, EngineBook] = {}
        self._tokens: dict[str, list[str]] = {}
        self._ticks: dict[str, Decimal] = {}
        self._implied: dict[str, Decimal] = {}

    def parse(self, raw: bytes) -> list[MarketEvent]:
        """The events of one line, learning each market's tokens and tick (a market is created on first use)."""
        events = polymarket_parse.market_frame(raw)
        for event in events:
            if type(event) is BookEvent:
                self._token(event.market, event.asset_id)
                if event.tick_size is not None:
                    self._ticks.setdefault(event.market, event.tick_size)
                self._finest(event.market, [p for p, _ in (*event.bids, *event.asks)])
            elif type(event) is PriceChangeEvent:
                for change in event.changes:
                    self._token(event.market, change.asset_id)
                self._finest(event.market, [c.price for c in event.changes])
        return events

    def _token(self, market: str, asset_id: str) -> None:
        tokens = self._tokens.setdefault(market, [])
        if asset_id not in tokens:
            tokens.append(asset_id)

    def _finest(self, market: str, prices: list[Decimal]) -> None:
        """A recording without its tick size: the finest tick its prices need (Polymarket's are 0.1 .. 0.0001)."""
        for price in prices:
            exponent = price.normalize().as_tuple().exponent
            tick = Decimal(1).scaleb(min(-1, max(-4, exponent if isinstance(exponent, int) else -4)))
            self._implied[market] = min(tick, self._implied.get(market, tick))

    def book(self, condition_id: str) -> EngineBook:
        found = self.books.get(condition_id)
        if found is not None:
            return found
        if condition_id not in self.state.markets:
            tokens = self._tokens[condition_id]
            yes = tokens[0]
            no = tokens[1] if len(tokens) > 1 else f"{yes}0"
            self.state.add_market(
                question=f"Replayed market {condition_id[:10]}",
                condition_id=condition_id,
                yes_token=yes,
                no_token=no,
                tick_size=self._ticks.get(condition_id, self._implied.get(condition_id, Decimal("0.01"))),
                min_size=Decimal(0),
            )
        market = self.state.markets[condition_id]
        self.feed.add_tokens(condition_id, market.yes_token, market.no_token)
        found = self.books[condition_id] = EngineBook(
            market.engine, self.state.ledger, lambda ev: self.state.publish(market, ev), self.stats
        )
        return found

    def apply(self, events: list[MarketEvent]) -> None:
        for event in events:
            if type(event) is BookEvent or type(event) is PriceChangeEvent:
                engine_book = self.book(event.market)
                self.feed.apply(event)
                feed_book = self.feed.book(event.market)
                if not feed_book.in_sync:
                    # the recording disagrees with itself (a BBO the levels do not show): go on from here
                    self.stats.skipped += 1
                    good = feed_book.snapshot()
                    feed_book.replace(list(good.yes_bids), list(good.yes_asks), hash=good.hash)
                engine_book.mirror(feed_book.snapshot(), _any_level)


def _unix(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


async def replay_file(
    path: Path, handles: Sandboxes, *, speed: float = 1.0, max_gap_s: float = MAX_GAP_S
) -> ReplayStats:
    """Replay `path` onto the matching venue; `speed` 0 means as fast as possible."""
    stats = ReplayStats()
    kalshi = KalshiReplay(handles.kalshi.venue, stats) if handles.kalshi is not None else None
    polymarket = PolymarketReplay(handles.polymarket, stats) if handles.polymarket is not None else None
    previous: float | None = None

    def books() -> list[EngineBook]:
        return [
            *(kalshi.books.values() if kalshi is not None else ()),
            *(polymarket.books.values() if polymarket is not None else ()),
        ]

    def bad_line(_why: str) -> None:
        stats.malformed += 1

    for item in load_json_lines(path, on_bad=bad_line):
        raw = orjson.dumps(item)
        try:
            if "event_type" in item:
                if polymarket is None:
                    stats.skipped += 1
                    continue
                events = polymarket.parse(raw)
                stamp = max((e.timestamp_ms for e in events if hasattr(e, "timestamp_ms")), default=None)
                seconds = None if stamp is None else stamp / 1000
                line: Callable[[], None] = partial(polymarket.apply, events)
            elif "type" in item:
                if kalshi is None:
                    stats.skipped += 1
                    continue
                msg = kalshi.parse(raw)
                seconds = _unix(kalshi_time(getattr(msg, "ts", None)))
                line = partial(kalshi.apply, msg)
            else:
                raise KalshiParseError("neither a Polymarket nor a Kalshi message", item)
        except (KalshiParseError, PolymarketParseError) as exc:
            stats.malformed += 1
            log.warning("replay %s: bad message skipped (%s)", path.name, exc)
            continue
        if speed > 0 and seconds is not None and previous is not None and seconds > previous:
            await asyncio.sleep(min(seconds - previous, max_gap_s) / speed)
        previous = seconds if seconds is not None else previous
        line()
        stats.messages += 1
        for book in books():
            if book.pending:
                book.retry_pending()
        if speed == 0 and stats.messages % 200 == 0:
            await asyncio.sleep(0)
    stats.skipped += sum(len(book.pending) for book in books())
    log.info("replay %s done: %s", path.name, stats)
    return stats
