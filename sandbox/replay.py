"""Replay a recorded venue stream onto the sandbox venues at N x speed.

Files: a Polymarket market-channel recording (JSON array or JSON lines of `book` /
`price_change` messages) or a Kalshi recording (JSON lines of `orderbook_snapshot`
/ `orderbook_delta` / `trade`, raw `{type, sid, seq, msg}` envelopes or the flat
re-wrapped `snapshot` / `delta` form with a `meta` line).

The replay does not forward the recorded frames: a replay account rests post-only
orders so the venue's real book has the recorded levels, and the venue publishes
its own snapshots and deltas (with its own sids and seqs). So REST books, stream
deltas and order matching all agree, and clients can trade against the replay.
Levels the sandbox cannot hold (sub-cent Kalshi prices, a level that would cross
the book) are skipped and counted; the recorded trades of a Kalshi file are
republished on the `trade` channel as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from domain.models import Outcome, Side
from domain.money import ONE, ZERO
from sandbox.engine import BookSide, Event, MatchingEngine, OrderNotOpenError, OrderRequest, UnknownOrderError
from sandbox.handles import Sandboxes
from sandbox.kalshi.venue import KalshiVenue
from sandbox.ledger import Ledger
from sandbox.scenarios import load_json_lines

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
        for key in [k for k in self.orders if k not in levels]:
            self.set_level(key[0], key[1], ZERO)
        for (side, price), size in sorted(levels.items(), key=lambda kv: (kv[0][0] is BookSide.ASK, kv[0][1])):
            if self.size(side, price) != size:
                self.set_level(side, price, size)


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


class KalshiReplay:
    def __init__(self, venue: KalshiVenue, stats: ReplayStats) -> None:
        self.venue = venue
        self.stats = stats
        self.books: dict[str, EngineBook] = {}

    def book(self, ticker: str, title: str = "") -> EngineBook:
        found = self.books.get(ticker)
        if found is None:
            if ticker not in self.venue.markets:
                self.venue.add_market(ticker, title=title or ticker)
            market = self.venue.markets[ticker]
            found = self.books[ticker] = EngineBook(
                market.engine, self.venue.ledger, lambda ev: self.venue.apply_engine_events(market, ev), self.stats
            )
        return found

    def apply(self, item: dict[str, Any], meta: dict[str, Any]) -> None:
        kind = item.get("type")
        body = item.get("msg", item)
        ticker = body.get("market_ticker") or body.get("ticker") or meta.get("ticker")
        if kind in ("snapshot", "orderbook_snapshot") and ticker:
            levels: dict[tuple[BookSide, Decimal], Decimal] = {}
            for side in ("yes", "no"):
                for price, size in (
                    body.get(side) or body.get(f"{side}_dollars_fp") or body.get(f"{side}_dollars") or []
                ):
                    level = self._level(side, price, size)
                    if level is not None:
                        levels[level[0]] = level[1]
            self.book(ticker, meta.get("title", "")).replace(levels)
        elif kind in ("delta", "orderbook_delta") and ticker:
            price = body.get("price_dollars", body.get("price"))
            delta = body.get("delta_fp", body.get("delta"))
            level = self._level(body.get("side", ""), price, delta)
            if level is None:
                return
            (side, yes_price), change = level
            book = self.book(ticker, meta.get("title", ""))
            book.set_level(side, yes_price, max(book.size(side, yes_price) + change, ZERO))
        elif kind == "trade" and ticker:
            self.venue.stream.trade({**{k: v for k, v in body.items() if k != "ticker"}, "market_ticker": ticker})

    def _level(self, side: str, price: Any, size: Any) -> tuple[tuple[BookSide, Decimal], Decimal] | None:
        try:
            dollars = Decimal(price) if isinstance(price, str) else Decimal(price) / 100
            count = Decimal(str(size)).to_integral_value(rounding="ROUND_FLOOR")
        except (InvalidOperation, TypeError, ValueError):
            self.stats.malformed += 1
            return None
        if side not in ("yes", "no") or dollars % Decimal("0.01") != 0 or not ZERO < dollars < ONE:
            self.stats.skipped += 1
            return None
        if side == "yes":
            return (BookSide.BID, dollars), count
        return (BookSide.ASK, ONE - dollars), count


class PolymarketReplay:
    def __init__(self, state: Any, stats: ReplayStats, items: list[dict[str, Any]]) -> None:
        self.state = state
        self.stats = stats
        self.books: dict[str, EngineBook] = {}
        self._tokens: dict[str, list[str]] = {}
        self._ticks: dict[str, Decimal] = {}
        for item in items:
            entries = item.get("price_changes") or [item]
            for entry in entries:
                market, asset = item.get("market"), entry.get("asset_id")
                if market and asset and asset not in self._tokens.setdefault(market, []):
                    self._tokens[market].append(asset)
            if item.get("tick_size") and item.get("market"):
                self._ticks.setdefault(item["market"], Decimal(str(item["tick_size"])))

    def book(self, condition_id: str) -> tuple[EngineBook, Any]:
        if condition_id not in self.state.markets:
            tokens = self._tokens.get(condition_id, [])
            yes = tokens[0]
            no = tokens[1] if len(tokens) > 1 else f"{yes}0"
            self.state.add_market(
                question=f"Replayed market {condition_id[:10]}",
                condition_id=condition_id,
                yes_token=yes,
                no_token=no,
                tick_size=self._ticks.get(condition_id, Decimal("0.01")),
                min_size=Decimal(0),
            )
        market = self.state.markets[condition_id]
        found = self.books.get(condition_id)
        if found is None:
            found = self.books[condition_id] = EngineBook(
                market.engine, self.state.ledger, lambda ev: self.state.publish(market, ev), self.stats
            )
        return found, market

    def apply(self, item: dict[str, Any]) -> None:
        kind = item.get("event_type")
        condition_id = item.get("market")
        if not condition_id:
            self.stats.malformed += 1
            return
        if kind == "book":
            book, market = self.book(condition_id)
            is_yes = item["asset_id"] == market.yes_token
            levels: dict[tuple[BookSide, Decimal], Decimal] = {}
            for entries, buy in ((item.get("bids", []), True), (item.get("asks", []), False)):
                for entry in entries:
                    key = _yes_level(Decimal(entry["price"]), buy, is_yes)
                    levels[key] = Decimal(entry["size"])
            book.replace(levels)
        elif kind == "price_change":
            book, market = self.book(condition_id)
            changes = item.get("price_changes") or [
                {**c, "asset_id": item.get("asset_id")} for c in item.get("changes", [])
            ]
            yes_only = [c for c in changes if c.get("asset_id") == market.yes_token] or changes
            for change in yes_only:
                is_yes = change.get("asset_id") == market.yes_token
                side, price = _yes_level(Decimal(change["price"]), change["side"] == "BUY", is_yes)
                book.set_level(side, price, Decimal(change["size"]))


def _yes_level(price: Decimal, buy: bool, is_yes_token: bool) -> tuple[BookSide, Decimal]:
    """A token's bid/ask level in the engine's YES space (a NO bid at q is a YES ask at 1 - q)."""
    if is_yes_token:
        return (BookSide.BID if buy else BookSide.ASK), price
    return (BookSide.ASK if buy else BookSide.BID), ONE - price


async def replay_file(
    path: Path, handles: Sandboxes, *, speed: float = 1.0, max_gap_s: float = MAX_GAP_S
) -> ReplayStats:
    """Replay `path` onto the matching venue; `speed` 0 means as fast as possible."""
    items = load_json_lines(path)
    stats = ReplayStats()
    kalshi = KalshiReplay(handles.kalshi.venue, stats) if handles.kalshi is not None else None
    polymarket = PolymarketReplay(handles.polymarket, stats, items) if handles.polymarket is not None else None
    meta: dict[str, Any] = {}
    previous: float | None = None

    def books() -> list[EngineBook]:
        return [
            *(kalshi.books.values() if kalshi is not None else ()),
            *(polymarket.books.values() if polymarket is not None else ()),
        ]

    for item in items:
        stamp = _seconds(item.get("timestamp", item.get("ts", (item.get("msg") or {}).get("ts"))))
        if speed > 0 and stamp is not None and previous is not None and stamp > previous:
            await asyncio.sleep(min(stamp - previous, max_gap_s) / speed)
        previous = stamp if stamp is not None else previous
        try:
            if item.get("type") == "meta":
                meta = item
            elif "event_type" in item:
                if polymarket is None:
                    stats.skipped += 1
                    continue
                polymarket.apply(item)
            elif "type" in item:
                if kalshi is None:
                    stats.skipped += 1
                    continue
                kalshi.apply(item, meta)
            else:
                stats.malformed += 1
                continue
        except (KeyError, TypeError, ValueError, InvalidOperation, IndexError) as exc:
            stats.malformed += 1
            log.warning("replay %s: bad message skipped (%s)", path.name, exc)
            continue
        stats.messages += 1
        for book in books():
            if book.pending:
                book.retry_pending()
        if speed == 0 and stats.messages % 200 == 0:
            await asyncio.sleep(0)
    stats.skipped += sum(len(book.pending) for book in books())
    log.info("replay %s done: %s", path.name, stats)
    return stats
