"""One normalized binary order book for both venues.

A binary market has one book seen from two sides: a YES bid at p is a NO ask at
1 - p. We store YES bids and YES asks only and derive the NO side, so Kalshi (which
publishes YES bids and NO bids) and Polymarket (which publishes both sides of each
token) land in the same shape and can never disagree with themselves.

`OrderBook` is mutable and owned by exactly one writer (a streamer task).
Readers call `snapshot()` and get an immutable `BookSnapshot`; the snapshot is
rebuilt lazily after a change, so readers never see a half-applied update and
never need a lock.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.models import Outcome, Venue

ONE = Decimal(1)
ZERO = Decimal(0)

Level = tuple[Decimal, Decimal]
_YES = Outcome.YES  # enum member lookups through the class cost ~0.1 us each


class BookIntegrityError(ValueError):
    """An update would make the book wrong (negative size, price outside [0, 1])."""


class _Side:
    """Price levels of one side, kept sorted ascending by price."""

    __slots__ = ("prices", "sizes")

    def __init__(self) -> None:
        self.prices: list[Decimal] = []
        self.sizes: dict[Decimal, Decimal] = {}

    def set(self, price: Decimal, size: Decimal) -> None:
        if size < 0:
            raise BookIntegrityError(f"negative size {size} at {price}")
        if not ZERO <= price <= ONE:
            raise BookIntegrityError(f"price {price} outside [0, 1]")
        known = price in self.sizes
        if size == 0:
            if known:
                del self.sizes[price]
                del self.prices[bisect_left(self.prices, price)]
            return
        if not known:
            insort(self.prices, price)
        self.sizes[price] = size

    def add(self, price: Decimal, delta: Decimal) -> None:
        sizes = self.sizes
        old = sizes.get(price)
        if old is None:
            self.set(price, delta)  # a new level: `set` checks its price and sign
            return
        size = old + delta
        if size > 0:
            sizes[price] = size
        elif size == 0:
            del sizes[price]
            del self.prices[bisect_left(self.prices, price)]
        else:
            raise BookIntegrityError(f"delta {delta} at {price} leaves negative size {size}")

    def load(self, prices: list[Decimal], sizes: dict[Decimal, Decimal]) -> None:
        """Take levels checked by `_checked_levels` (a snapshot), replacing all current ones."""
        self.prices = prices
        self.sizes = sizes

    def ascending(self) -> tuple[Level, ...]:
        sizes = self.sizes
        return tuple((p, sizes[p]) for p in self.prices)

    def descending(self) -> tuple[Level, ...]:
        sizes = self.sizes
        return tuple((p, sizes[p]) for p in reversed(self.prices))


def _checked_levels(levels: Iterable[Level]) -> tuple[list[Decimal], dict[Decimal, Decimal]]:
    """A snapshot side as sorted prices + sizes, checked as a whole (same rules as `_Side.set`).

    Building the dict and sorting once is several times cheaper than inserting level by
    level, and nothing is changed when any level is bad. Zero sizes are dropped and a
    repeated price keeps its last size, as sequential `set` calls would.
    """
    sizes = {p: s for p, s in levels if s}
    if sizes:
        if min(sizes.values()) < 0:
            raise BookIntegrityError(f"negative size in snapshot: {min(sizes.values())}")
        if min(sizes) < ZERO or max(sizes) > ONE:
            raise BookIntegrityError(f"snapshot price outside [0, 1]: {min(sizes)}..{max(sizes)}")
    return sorted(sizes), sizes


def _complement(levels: tuple[Level, ...]) -> tuple[Level, ...]:
    return tuple((ONE - p, s) for p, s in levels)


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Immutable view of a book; bids best (highest) first, asks best (lowest) first."""

    venue: Venue
    market_id: str
    yes_bids: tuple[Level, ...]
    yes_asks: tuple[Level, ...]
    sequence: int
    updated_at: datetime | None
    in_sync: bool
    hash: str | None = None
    _no_cache: dict[str, tuple[Level, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def no_bids(self) -> tuple[Level, ...]:
        """A NO bid at q is a YES ask at 1 - q: same size, complemented price."""
        cached = self._no_cache.get("bids")
        if cached is None:
            cached = self._no_cache["bids"] = _complement(self.yes_asks)
        return cached

    @property
    def no_asks(self) -> tuple[Level, ...]:
        cached = self._no_cache.get("asks")
        if cached is None:
            cached = self._no_cache["asks"] = _complement(self.yes_bids)
        return cached

    def bids(self, outcome: Outcome) -> tuple[Level, ...]:
        return self.yes_bids if outcome is Outcome.YES else self.no_bids

    def asks(self, outcome: Outcome) -> tuple[Level, ...]:
        return self.yes_asks if outcome is Outcome.YES else self.no_asks

    def best_bid(self, outcome: Outcome = Outcome.YES) -> Decimal | None:
        levels = self.bids(outcome)
        return levels[0][0] if levels else None

    def best_ask(self, outcome: Outcome = Outcome.YES) -> Decimal | None:
        levels = self.asks(outcome)
        return levels[0][0] if levels else None


class OrderBook:
    """The single writer's book; every mutation bumps `sequence` and drops the cached snapshot."""

    __slots__ = (
        "_asks",
        "_bids",
        "_snapshot",
        "hash",
        "in_sync",
        "market_id",
        "sequence",
        "updated_at",
        "venue",
    )

    def __init__(self, venue: Venue, market_id: str) -> None:
        self.venue = venue
        self.market_id = market_id
        self._bids = _Side()
        self._asks = _Side()
        self.sequence = 0
        self.updated_at: datetime | None = None
        self.in_sync = False
        self.hash: str | None = None
        self._snapshot: BookSnapshot | None = None

    def _touched(self, sequence: int | None, at: datetime | None) -> None:
        self.sequence = self.sequence + 1 if sequence is None else sequence
        if at is not None:
            self.updated_at = at
        self._snapshot = None

    def replace(
        self,
        yes_bids: list[Level],
        yes_asks: list[Level],
        *,
        sequence: int | None = None,
        at: datetime | None = None,
        hash: str | None = None,
    ) -> None:
        """Load a full snapshot; the book becomes in sync. A bad level raises and changes nothing."""
        bids = _checked_levels(yes_bids)
        asks = _checked_levels(yes_asks)
        self._bids.load(*bids)
        self._asks.load(*asks)
        self.in_sync = True
        self.hash = hash
        self._touched(sequence, at)

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
        # The Polymarket stream's hot path: NO -> YES mapping and `_touched` inlined as in `apply_delta`.
        if outcome is _YES:
            (self._bids if is_bid else self._asks).set(price, size)
        else:
            (self._asks if is_bid else self._bids).set(ONE - price, size)
        self.sequence = self.sequence + 1 if sequence is None else sequence
        if at is not None:
            self.updated_at = at
        self._snapshot = None

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
        # The Kalshi stream's hot path: NO -> YES mapping and `_touched` inlined, enum member read once.
        if outcome is _YES:
            (self._bids if is_bid else self._asks).add(price, delta)
        else:
            (self._asks if is_bid else self._bids).add(ONE - price, delta)
        self.sequence = self.sequence + 1 if sequence is None else sequence
        if at is not None:
            self.updated_at = at
        self._snapshot = None

    def best_yes_bid(self) -> Decimal | None:
        """Cheap top-of-book read for the writer (no snapshot built), e.g. to check venue-sent BBOs."""
        prices = self._bids.prices
        return prices[-1] if prices else None

    def best_yes_ask(self) -> Decimal | None:
        prices = self._asks.prices
        return prices[0] if prices else None

    def mark_out_of_sync(self) -> None:
        """A gap or reconnect: readers must not trade on this book until the next snapshot."""
        self.in_sync = False
        self._snapshot = None

    def snapshot(self) -> BookSnapshot:
        snap = self._snapshot
        if snap is None:
            snap = self._snapshot = BookSnapshot(
                venue=self.venue,
                market_id=self.market_id,
                yes_bids=self._bids.descending(),
                yes_asks=self._asks.ascending(),
                sequence=self.sequence,
                updated_at=self.updated_at,
                in_sync=self.in_sync,
                hash=self.hash,
            )
        return snap
