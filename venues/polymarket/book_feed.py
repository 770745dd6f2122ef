"""Keeps one normalized `OrderBook` per Polymarket market from market-channel events.

A binary market has two ERC-1155 tokens (YES and NO) and Polymarket publishes a book
for each, but they are one book seen from two sides: a NO bid at q is a YES ask at
1 - q. Both tokens' events therefore land in the same YES-oriented book. Current
`price_change` messages carry each change twice (YES entry and mirrored NO entry);
both are applied as absolute level sizes, so the second write is a no-op when they
agree and the book stays exact either way.

After each `price_change` the venue's own best bid/ask (sent with every entry) is
compared with ours; a mismatch means we missed something, so the book is marked out
of sync and `on_desync` asks the stream for a fresh snapshot. A crossed book is
skipped by that check: the venue sends the post-match BBO before the deltas that
remove the consumed levels.

`native=True` (the production mode): books are `venues.native.NativeOrderBook`s and each
frame first goes to the C parser, which applies `book` and `price_change` frames by exactly
these rules, BBO check and tick size included; whatever it declines (other events, several
events in one frame, values integer units cannot hold) takes the Python path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from domain.book import BookIntegrityError, OrderBook
from domain.models import Market, Outcome, Venue
from venues.native import Book, NativeOrderBook, PolyFeed
from venues.native.books import price_decimal
from venues.polymarket import parse
from venues.polymarket.messages import (
    BestBidAskEvent,
    BookEvent,
    MarketEvent,
    MarketResolvedEvent,
    PolymarketParseError,
    PriceChangeEvent,
    TickSizeChangeEvent,
)

log = logging.getLogger(__name__)

ONE = Decimal(1)
ZERO = Decimal(0)
_YES, _NO = Outcome.YES, Outcome.NO


@dataclass(slots=True)
class FeedCounters:
    messages: int = 0
    parse_errors: int = 0
    unknown_assets: int = 0
    integrity_errors: int = 0
    bbo_mismatches: int = 0
    crossed: int = 0
    stale_snapshots: int = 0


def _at(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


class PolymarketBookFeed:
    """Single writer of the books of the markets it was given; readers use `book(id).snapshot()`."""

    def __init__(self, on_desync: Callable[[str], None] | None = None, *, native: bool = True) -> None:
        self.counters = FeedCounters()
        self._native = PolyFeed(venue_rules=True, counters=self.counters) if native else None
        self.tick_sizes: dict[str, Decimal] = {}
        self.resolved: dict[str, str] = {}
        self.on_desync = on_desync
        self.on_book: Callable[[OrderBook], None] | None = None
        self._touched: set[OrderBook] = set()
        self._books: dict[str, OrderBook] = {}
        self._tokens: dict[str, tuple[OrderBook, bool]] = {}
        self._yes_tokens: dict[str, str] = {}

    def add_market(self, market: Market) -> OrderBook:
        book = self.add_tokens(market.market_id, market.yes_token, market.no_token)
        self.tick_sizes[market.market_id] = market.tick_size
        return book

    def add_tokens(self, condition_id: str, yes_token: str, no_token: str) -> OrderBook:
        book = self._books.get(condition_id)
        if book is None:
            book = self._books[condition_id] = self._new_book(condition_id)
        self._tokens[yes_token] = (book, True)
        self._tokens[no_token] = (book, False)
        if self._native is not None:
            self._native.add(yes_token, cast(Book, book), True, book)
            self._native.add(no_token, cast(Book, book), False, book)
        self._yes_tokens[condition_id] = yes_token
        return book

    def _new_book(self, condition_id: str) -> OrderBook:
        if self._native is None:
            return OrderBook(Venue.POLYMARKET, condition_id)
        # NativeOrderBook has OrderBook's interface (tests/venues/native check it against OrderBook)
        return cast(OrderBook, NativeOrderBook(Venue.POLYMARKET, condition_id))

    def yes_token(self, condition_id: str) -> str:
        return self._yes_tokens[condition_id]

    @property
    def asset_ids(self) -> list[str]:
        return list(self._tokens)

    def book(self, condition_id: str) -> OrderBook:
        return self._books[condition_id]

    def books(self) -> list[OrderBook]:
        return list(self._books.values())

    def mark_all_out_of_sync(self) -> None:
        for book in self._books.values():
            book.mark_out_of_sync()
        self._touched.update(self._books.values())
        self._flush()

    def _flush(self) -> None:
        """Tell the listener (the hot loop) once per changed book per frame, after the whole frame applied."""
        touched, self._touched = self._touched, set()
        listener = self.on_book
        if listener is not None:
            for book in touched:
                listener(book)

    def on_frame(self, data: bytes | str) -> None:
        """Parse and apply one market-channel frame; bad input is logged and counted, never raised."""
        native = self._native
        if native is not None:
            touched = native.feed(data, None)
            if touched is not None:
                self.counters.messages += 1
                if native.desyncs:
                    self._native_desyncs()
                if native.ticks:
                    for book, tick in native.ticks:
                        self.tick_sizes[book.market_id] = Decimal(tick)
                    native.ticks.clear()
                if self._touched:
                    self._touched.update(touched)
                    self._flush()
                elif self.on_book is not None:
                    for book in touched:  # the usual frame: one book, nothing else pending
                        self.on_book(book)
                return
        try:
            events = parse.market_frame(data)
        except PolymarketParseError as exc:
            self.counters.parse_errors += 1
            log.warning("polymarket market frame rejected: %s: %.200r", exc, data)
            return
        for event in events:
            self.apply(event)
        self._flush()

    def _native_desyncs(self) -> None:
        """BBO mismatches the native parser found (it already skipped crossed books)."""
        assert self._native is not None
        found = self._native.desyncs

        def text(units: int | None) -> Decimal | None:
            return None if units is None else price_decimal(units)

        for book, want_bid, want_ask, got_bid, got_ask in found:
            self.counters.bbo_mismatches += 1
            self._desync(book, f"venue BBO {text(want_bid)}/{text(want_ask)} != ours {text(got_bid)}/{text(got_ask)}")
        found.clear()

    def apply(self, event: MarketEvent) -> None:
        self.counters.messages += 1
        if type(event) is PriceChangeEvent:
            self._apply_price_change(event)
        elif type(event) is BookEvent:
            self._apply_book(event)
        elif type(event) is TickSizeChangeEvent:
            if event.asset_id in self._tokens:
                self.tick_sizes[self._tokens[event.asset_id][0].market_id] = event.new_tick_size
        elif type(event) is BestBidAskEvent:
            entry = self._tokens.get(event.asset_id)
            if entry is not None and entry[0].in_sync:
                self._check_bbo(entry[0], entry[1], event.best_bid, event.best_ask)
        elif type(event) is MarketResolvedEvent:
            for asset_id in event.asset_ids:
                entry = self._tokens.get(asset_id)
                if entry is not None:
                    self.resolved[entry[0].market_id] = event.winning_asset_id
                    entry[0].mark_out_of_sync()
                    self._touched.add(entry[0])

    def apply_rest_snapshot(self, event: BookEvent) -> None:
        """A `GET /book` answer: applied unless the stream already moved the book past its timestamp."""
        self.counters.messages += 1
        self._apply_book(event, only_if_newer=True)
        self._flush()

    def _apply_book(self, event: BookEvent, only_if_newer: bool = False) -> None:
        entry = self._tokens.get(event.asset_id)
        if entry is None:
            self.counters.unknown_assets += 1
            return
        book, is_yes = entry
        at = _at(event.timestamp_ms)
        if only_if_newer and book.in_sync and book.updated_at is not None and at < book.updated_at:
            # A REST snapshot fetched before deltas we already applied: it would roll the book back.
            self.counters.stale_snapshots += 1
            return
        if is_yes:
            bids, asks, book_hash = event.bids, event.asks, event.hash
        else:
            bids = [(ONE - p, s) for p, s in event.asks]
            asks = [(ONE - p, s) for p, s in event.bids]
            book_hash = book.hash
        try:
            book.replace(bids, asks, at=at, hash=book_hash)
        except BookIntegrityError as exc:
            self._desync(book, f"bad snapshot: {exc}")
            self.counters.integrity_errors += 1
            return
        self._touched.add(book)
        if event.tick_size is not None:
            self.tick_sizes[book.market_id] = event.tick_size

    def _apply_price_change(self, event: PriceChangeEvent) -> None:
        tokens, touched = self._tokens, self._touched
        at = _at(event.timestamp_ms)
        last: dict[OrderBook, tuple[bool, Decimal | None, Decimal | None]] = {}
        # Unpacking the NamedTuple is cheaper than seven attribute reads (hot path).
        for asset_id, price, size, is_bid, level_hash, best_bid, best_ask in event.changes:
            entry = tokens.get(asset_id)
            if entry is None:
                self.counters.unknown_assets += 1
                continue
            book, is_yes = entry
            if not book.in_sync:
                continue
            try:
                book.set_level(_YES if is_yes else _NO, is_bid, price, size, at=at)
            except BookIntegrityError as exc:
                self.counters.integrity_errors += 1
                self._desync(book, f"bad level: {exc}")
                continue
            touched.add(book)
            if is_yes and level_hash is not None:
                book.hash = level_hash
            if best_bid is not None or best_ask is not None:
                last[book] = (is_yes, best_bid, best_ask)
        for book, (is_yes, best_bid, best_ask) in last.items():
            if book.in_sync:
                self._check_bbo(book, is_yes, best_bid, best_ask)

    def _check_bbo(self, book: OrderBook, is_yes: bool, best_bid: Decimal | None, best_ask: Decimal | None) -> None:
        """Compare the venue's top of book (as seen from the entry's token) with ours; 0/1 mean empty."""
        if is_yes:
            want_bid = best_bid if best_bid else None
            want_ask = best_ask if best_ask is not None and best_ask != ONE else None
        else:
            want_bid = ONE - best_ask if best_ask is not None and best_ask != ONE else None
            want_ask = ONE - best_bid if best_bid else None
        got_bid, got_ask = book.best_yes_bid(), book.best_yes_ask()
        if got_bid is not None and got_ask is not None and got_bid >= got_ask:
            # The venue reports the BBO after matching while the deltas removing the
            # consumed levels arrive in the next messages (see the recorded "crossing
            # burst"): a crossed book is transient, not evidence of a gap.
            self.counters.crossed += 1
            return
        if got_bid != want_bid or got_ask != want_ask:
            self.counters.bbo_mismatches += 1
            self._desync(book, f"venue BBO {want_bid}/{want_ask} != ours {got_bid}/{got_ask}")

    def _desync(self, book: OrderBook, why: str) -> None:
        log.warning("polymarket book %s out of sync: %s", book.market_id, why)
        book.mark_out_of_sync()
        self._touched.add(book)
        if self.on_desync is not None:
            self.on_desync(book.market_id)
