"""The normalized-book view of a native `Book`: Decimal in, Decimal out, converted on read.

`NativeOrderBook` is a `Book` (integer units, written by the native feeds) that also speaks
`domain.book.OrderBook`'s interface, so the venue feeds' Python paths (`apply`, REST
snapshots, resyncs) and every reader work unchanged. A Decimal that integer units cannot
hold exactly (a price finer than 1e-4, a size finer than 1e-2, a size of 10^13 contracts or
more) raises `BookIntegrityError` and changes nothing: the feed then marks the book out of
sync, never rounds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.book import BookIntegrityError, BookSnapshot, Level, _checked_levels
from domain.models import Outcome, Venue
from domain.units import PRICE_SCALE, SIZE_SCALE, UnitError, price_units
from venues.native._books import MAX_SIZE_UNITS, Book

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YES = Outcome.YES
_PRICES = [Decimal(p) / PRICE_SCALE for p in range(PRICE_SCALE + 1)]


def price_decimal(units: int) -> Decimal:
    return _PRICES[units]


def size_decimal(units: int) -> Decimal:
    return Decimal(units) / SIZE_SCALE


def _price(price: Decimal) -> int:
    try:
        return price_units(price)
    except UnitError as exc:
        raise BookIntegrityError(str(exc)) from None


def _size(size: Decimal) -> int:
    scaled = size * SIZE_SCALE
    units = int(scaled)
    if units != scaled or not -MAX_SIZE_UNITS < units < MAX_SIZE_UNITS:
        raise BookIntegrityError(f"size {size} is not a whole number of 1/{SIZE_SCALE} below 10^13")
    return units


def _units(levels: list[Level]) -> list[tuple[int, int]]:
    prices, sizes = _checked_levels(levels)
    return [(_price(p), _size(sizes[p])) for p in prices]


def ns_to_datetime(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def datetime_to_ns(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1) * 1000


def snapshot_of(book: Book, *, hash: str | None = None) -> BookSnapshot:
    """A normalized snapshot (Decimal) of a native book's current state."""
    return BookSnapshot(
        venue=book.venue,
        market_id=book.market_id,
        yes_bids=tuple((_PRICES[p], size_decimal(s)) for p, s in book.bid_levels()),
        yes_asks=tuple((_PRICES[p], size_decimal(s)) for p, s in book.ask_levels()),
        sequence=book.sequence,
        updated_at=ns_to_datetime(book.updated_ns) if book.timed else None,
        in_sync=book.in_sync,
        hash=hash,
    )


class NativeOrderBook(Book):
    """A native book with `OrderBook`'s methods; the snapshot is rebuilt lazily after a change."""

    def __init__(self, venue: Venue, market_id: str) -> None:
        super().__init__(venue, market_id)
        self._snapshot: BookSnapshot | None = None
        self._snapshot_key: tuple[int, bool, str | None, int] | None = None

    @property
    def updated_at(self) -> datetime | None:
        return ns_to_datetime(self.updated_ns) if self.timed else None

    def _after(self, sequence: int | None, at: datetime | None) -> None:
        if sequence is not None:
            self.sequence = sequence
        if at is not None:
            self.updated_ns = datetime_to_ns(at)

    def replace(  # type: ignore[override]
        self,
        yes_bids: list[Level],
        yes_asks: list[Level],
        *,
        sequence: int | None = None,
        at: datetime | None = None,
        hash: str | None = None,
    ) -> None:
        """Load a full snapshot; the book becomes in sync. A bad level raises and changes nothing."""
        bids, asks = _units(yes_bids), _units(yes_asks)
        Book.replace(self, bids, asks, None if at is None else datetime_to_ns(at))
        self.hash = hash
        self._after(sequence, None)

    def _level(self, outcome: Outcome, is_bid: bool, price: Decimal, size: Decimal) -> tuple[bool, int, int]:
        if not 0 <= price <= 1:
            raise BookIntegrityError(f"price {price} outside [0, 1]")
        p, s = _price(price), _size(size)
        if outcome is _YES:
            return is_bid, p, s
        return not is_bid, PRICE_SCALE - p, s

    def set_level(
        self,
        outcome: Outcome,
        is_bid: bool,
        price: Decimal,
        size: Decimal,
        *,
        sequence: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Set the absolute size at a level of `outcome`'s bids or asks (0 removes it)."""
        if size < 0:
            raise BookIntegrityError(f"negative size {size} at {price}")
        yes_bid, p, s = self._level(outcome, is_bid, price, size)
        (self.set_bid if yes_bid else self.set_ask)(p, s)
        self._after(sequence, at)

    def apply_delta(
        self,
        outcome: Outcome,
        is_bid: bool,
        price: Decimal,
        delta: Decimal,
        *,
        sequence: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add `delta` contracts at a level (Kalshi-style); a negative result raises and changes nothing."""
        yes_bid, p, d = self._level(outcome, is_bid, price, delta)
        if not (self.add_bid if yes_bid else self.add_ask)(p, d):
            raise BookIntegrityError(f"delta {delta} at {price} leaves a negative size")
        self._after(sequence, at)

    def best_yes_bid(self) -> Decimal | None:
        best = self.best_bid
        return None if best is None else _PRICES[best]

    def best_yes_ask(self) -> Decimal | None:
        best = self.best_ask
        return None if best is None else _PRICES[best]

    def snapshot(self) -> BookSnapshot:
        key = (self.sequence, self.in_sync, self.hash, self.updated_ns)
        if self._snapshot is None or key != self._snapshot_key:
            self._snapshot = snapshot_of(self, hash=self.hash)
            self._snapshot_key = key
        return self._snapshot
