"""The detector's own copy of a binary book, in integer units, with the best levels tracked.

`domain.book.OrderBook` is exact and general, but every change costs Decimal arithmetic and a
sorted-list insert, and a snapshot copies every level. The detector looks at the top of both
books on every update and walks depth only when the top crosses, so here a side is a plain
dict price -> size (ints, see `domain.units`) with its best price kept incrementally;
depth is sorted only for the rare walk. Like `OrderBook`, YES bids and asks are stored and
the NO side is derived (a NO ask at q is a YES bid at 1 - q).
"""

from __future__ import annotations

from domain.book import BookSnapshot
from domain.models import Venue
from domain.units import PRICE_SCALE, price_units, size_units_floor

Levels = list[tuple[int, int]]


class IntBook:
    """Single-writer book; `best_bid`/`best_ask` are YES prices in 1e-4 dollars, None when empty."""

    __slots__ = ("asks", "best_ask", "best_bid", "bids", "in_sync", "market_id", "updated_ns", "venue")

    def __init__(self, venue: Venue, market_id: str) -> None:
        self.venue = venue
        self.market_id = market_id
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid: int | None = None
        self.best_ask: int | None = None
        self.in_sync = False
        self.updated_ns = 0

    def replace(self, bids: Levels, asks: Levels, updated_ns: int) -> None:
        self.bids = {p: s for p, s in bids if s > 0}
        self.asks = {p: s for p, s in asks if s > 0}
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None
        self.in_sync = True
        self.updated_ns = updated_ns

    def set_bid(self, price: int, size: int) -> None:
        bids = self.bids
        if size > 0:
            bids[price] = size
            best = self.best_bid
            if best is None or price > best:
                self.best_bid = price
        elif bids.pop(price, None) is not None and price == self.best_bid:
            self.best_bid = max(bids) if bids else None

    def set_ask(self, price: int, size: int) -> None:
        asks = self.asks
        if size > 0:
            asks[price] = size
            best = self.best_ask
            if best is None or price < best:
                self.best_ask = price
        elif asks.pop(price, None) is not None and price == self.best_ask:
            self.best_ask = min(asks) if asks else None

    def add_bid(self, price: int, delta: int) -> bool:
        """Kalshi-style delta; False (and nothing changed) if it would leave a negative size."""
        bids = self.bids
        size = bids.get(price, 0) + delta
        if size > 0:
            bids[price] = size
            best = self.best_bid
            if best is None or price > best:
                self.best_bid = price
        elif size == 0:
            if bids.pop(price, None) is not None and price == self.best_bid:
                self.best_bid = max(bids) if bids else None
        else:
            return False
        return True

    def add_ask(self, price: int, delta: int) -> bool:
        asks = self.asks
        size = asks.get(price, 0) + delta
        if size > 0:
            asks[price] = size
            best = self.best_ask
            if best is None or price < best:
                self.best_ask = price
        elif size == 0:
            if asks.pop(price, None) is not None and price == self.best_ask:
                self.best_ask = min(asks) if asks else None
        else:
            return False
        return True

    def best_ask_of(self, yes: bool) -> int | None:
        """Best ask of YES, or of NO (derived from the best YES bid)."""
        if yes:
            return self.best_ask
        bid = self.best_bid
        return None if bid is None else PRICE_SCALE - bid

    def asks_of(self, yes: bool) -> Levels:
        """All asks of YES or NO, best (lowest) first."""
        if yes:
            return sorted(self.asks.items())
        return [(PRICE_SCALE - p, s) for p, s in sorted(self.bids.items(), reverse=True)]

    def load(self, snapshot: BookSnapshot, updated_ns: int) -> None:
        """Replace this book's content with a normalized snapshot of the same market."""
        self.replace(
            [(price_units(p), size_units_floor(s)) for p, s in snapshot.yes_bids],
            [(price_units(p), size_units_floor(s)) for p, s in snapshot.yes_asks],
            updated_ns,
        )
        self.in_sync = snapshot.in_sync
