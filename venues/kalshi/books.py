"""Kalshi order books kept from `orderbook_snapshot` + `orderbook_delta`, never silently wrong.

Kalshi lists bids only: YES bids, and NO bids. A NO bid at q is a YES ask at 1 - q,
which is exactly what `OrderBook.apply_delta(Outcome.NO, is_bid=True, ...)` stores, so
the normalized book needs no Kalshi special case.

`seq` counts messages per subscription (`sid`), and one orderbook subscription covers
every market it names, so a gap taints every book under that sid. On a gap, a delta
that would leave a negative size, or a delta for a book still waiting for its
snapshot, the books are marked out of sync and a `Resync` names the markets to
resubscribe; nothing further is applied to them until a fresh snapshot arrives.

`native=True` (the production mode): books are `venues.native.NativeOrderBook`s and
`on_frame` applies the plain delta -- next seq of a known subscription, book in sync, no
negative size -- in C straight from the frame's bytes; anything else it declines untouched,
and the caller parses the frame and uses `on_delta`/`on_snapshot` as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from domain.book import ONE, BookIntegrityError, OrderBook
from domain.models import Venue
from venues.kalshi.parse import Level, OrderbookDelta, OrderbookSnapshot
from venues.native import KalshiFeed, NativeOrderBook

log = logging.getLogger(__name__)


def load_bids(book: OrderBook, yes_bids: list[Level], no_bids: list[Level], *, at: datetime | None = None) -> None:
    """Replace `book` with Kalshi's bid lists: YES bids as they are, NO bids as YES asks at 1 - price."""
    book.replace(yes_bids, [(ONE - price, size) for price, size in no_bids], at=at)


@dataclass(frozen=True, slots=True)
class Resync:
    """These books are out of sync and need a fresh snapshot (resubscribe)."""

    sid: int | None
    tickers: tuple[str, ...]
    reason: str


@dataclass(slots=True)
class BookCounters:
    snapshots: int = 0
    deltas: int = 0
    gaps: int = 0
    integrity_errors: int = 0
    ignored_deltas: int = 0


@dataclass(slots=True)
class _Subscription:
    last_seq: int | None = None
    tickers: set[str] = field(default_factory=set)


class KalshiBooks:
    """The single writer of every Kalshi book one stream maintains.

    `enforce_seq=False` is for replaying recordings whose sequence numbers were shared
    with markets that were not recorded; live streams always enforce it.
    """

    __slots__ = ("_books", "_enforce_seq", "_native", "_subs", "counters")

    def __init__(self, *, enforce_seq: bool = True, native: bool = True) -> None:
        self._books: dict[str, OrderBook] = {}
        self._subs: dict[int | None, _Subscription] = {}
        self._enforce_seq = enforce_seq
        self.counters = BookCounters()
        # the native path checks seq itself, so it only runs where seq is enforced
        self._native = KalshiFeed(subs=self._subs) if native and enforce_seq else None

    def book(self, ticker: str) -> OrderBook:
        book = self._books.get(ticker)
        if book is None:
            if self._native is None:
                book = self._books[ticker] = OrderBook(Venue.KALSHI, ticker)
            else:
                native = NativeOrderBook(Venue.KALSHI, ticker)
                self._native.add(ticker, native, native)
                # NativeOrderBook has OrderBook's interface (tests/venues/native check it against OrderBook)
                book = self._books[ticker] = cast(OrderBook, native)
        return book

    @property
    def native(self) -> bool:
        return self._native is not None

    def on_frame(self, data: str | bytes) -> OrderBook | None:
        """Apply a raw frame natively if it is a plain delta: the book it changed, else None
        (nothing changed; parse the frame and call `on_delta`/`on_snapshot`)."""
        native = self._native
        if native is None:
            return None
        touched = native.feed(data, None)
        if not touched:
            return None
        self.counters.deltas += 1
        return cast(OrderBook, touched[0])

    def get(self, ticker: str) -> OrderBook | None:
        return self._books.get(ticker)

    @property
    def tickers(self) -> list[str]:
        return list(self._books)

    def on_snapshot(self, msg: OrderbookSnapshot) -> Resync | None:
        """Load a fresh book. A seq gap just before it taints the subscription's other books (a `Resync`)."""
        sub = self._subs.get(msg.sid)
        if sub is None:
            sub = self._subs[msg.sid] = _Subscription()
        gap = None
        if msg.seq is not None:
            last = sub.last_seq
            sub.last_seq = msg.seq
            if self._enforce_seq and last is not None and msg.seq != last + 1:
                gap = f"seq gap before snapshot: expected {last + 1}, got {msg.seq}"
        try:
            load_bids(self.book(msg.ticker), msg.yes_bids, msg.no_bids)
        except BookIntegrityError as exc:
            self.counters.integrity_errors += 1
            return self._invalidate(msg.sid, (msg.ticker,), f"impossible snapshot: {exc}")
        self.counters.snapshots += 1
        others = sub.tickers - {msg.ticker}
        sub.tickers.add(msg.ticker)
        if gap is None:
            return None
        self.counters.gaps += 1
        return self._invalidate(msg.sid, others, gap) if others else None

    def on_delta(self, msg: OrderbookDelta) -> Resync | None:
        """Apply one delta; a `Resync` says which books went out of sync and why."""
        seq = msg.seq
        if seq is not None and self._enforce_seq:
            sub = self._subs.get(msg.sid)
            if sub is not None:
                last = sub.last_seq
                sub.last_seq = seq
                if last is not None and seq != last + 1:
                    self.counters.gaps += 1
                    sub.tickers.add(msg.ticker)
                    return self._invalidate(msg.sid, sub.tickers, f"seq gap: expected {last + 1}, got {seq}")
        book = self._books.get(msg.ticker)
        if book is None or not book.in_sync:
            self.counters.ignored_deltas += 1
            return None if book is not None else self._invalidate(msg.sid, (msg.ticker,), "delta before snapshot")
        try:
            book.apply_delta(msg.side, True, msg.price, msg.delta)
        except BookIntegrityError as exc:
            self.counters.integrity_errors += 1
            return self._invalidate(msg.sid, (msg.ticker,), str(exc))
        self.counters.deltas += 1
        return None

    def _invalidate(self, sid: int | None, tickers: Iterable[str], reason: str) -> Resync:
        names = tuple(sorted(tickers))
        for ticker in names:
            self.book(ticker).mark_out_of_sync()
        log.warning("kalshi books out of sync (sid %s, %s): %s", sid, ", ".join(names), reason)
        return Resync(sid, names, reason)

    def subscription_tickers(self, sid: int | None) -> set[str]:
        """Markets seen under `sid` so far."""
        sub = self._subs.get(sid)
        return set() if sub is None else set(sub.tickers)

    def forget_subscription(self, sid: int | None) -> None:
        """The subscription ended (unsubscribed or connection lost): its seq no longer applies."""
        self._subs.pop(sid, None)

    def mark_all_out_of_sync(self) -> None:
        """Connection lost: every book is blind until its next snapshot."""
        for book in self._books.values():
            book.mark_out_of_sync()
        self._subs.clear()
