"""Cross-venue arbitrage detector: on every book change of a confirmed pair, is YES + NO < $1?

The books are the venue feeds' own (`BookSource`: the native books the C parsers write from
the frames), so there is one path from a frame to a detection and no copy of a book. The
detector only keeps, per book, when it last saw it change or heard its feed was alive.

Hot path (`changed`, synchronous; `check` over the pairs of one book): both books must
be in sync and fresh, and for each direction the two best asks are checked in O(1) against
`min_edge` with the exact per-contract fee slope. Only when the top crosses is depth walked
(`arbitrage.sizing.best_size`, exact). A crossing that persists over many updates is one
*window* and yields one opportunity, whose id hashes pair, direction and the window's start.

The detector only finds: what becomes of an opportunity (recorded, admitted, started) is the
hot process's business (streamers/arbitrage.py), so a backtest can drive the same detector.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from math import ceil
from typing import Any, Protocol

from arbitrage.opportunity import Direction, Opportunity, OpportunityLeg, ns_to_datetime, opportunity_id
from arbitrage.sizing import Leg, LegTerms, Sizing, SizingLimits, best_size, contract_cost_table
from domain.fees import KALSHI_TAKER_MULTIPLIER
from domain.models import Market, MarketPair, Outcome, PairStatus, Venue
from domain.units import (
    FINE_PER_DOLLAR,
    PRICE_SCALE,
    SIZE_SCALE,
    fine_to_dollars,
    rate_units,
)
from matching.pairs import PairRepository

DIRECTIONS = (Direction.POLYMARKET_YES, Direction.POLYMARKET_NO)


class BookView(Protocol):
    """What the detector reads of a book: YES prices in 1e-4 dollars (`domain.units`), sizes in 1e-2
    contracts; the native `venues.native.Book` the venue feeds keep is one."""

    @property
    def venue(self) -> Venue: ...

    @property
    def market_id(self) -> str: ...

    @property
    def best_bid(self) -> int | None: ...

    @property
    def best_ask(self) -> int | None: ...

    @property
    def in_sync(self) -> bool: ...

    def asks_of(self, yes: bool) -> list[tuple[int, int]]:
        """All asks of YES, or of NO (derived from the YES bids), best first."""
        ...


BookSource = Callable[[Market], BookView]
"""The live book of a market, kept by its venue feed (`streamers.venue_books`)."""


class WatchedBook:
    """A venue feed's book and when the detector last knew it current (epoch ns): a change it was
    told of, or its feed being alive (`Detector.touch`). The feed's own clock is not touched."""

    __slots__ = ("book", "seen_ns")

    def __init__(self, book: BookView) -> None:
        self.book = book
        self.seen_ns = 0


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """`min_edge` is per contract after fees (>= 0.0001); `min_profit` is for the whole trade.

    `kalshi_multiplier` is used for Kalshi markets whose fee rate the listing did not give:
    Kalshi charges takers on every series, so an unknown rate is the standard 0.07, never 0.
    `polymarket_fee_in_shares` (default, the safe reading): a Polymarket BUY's fee is withheld
    from the tokens received, so the worst case loses fee/p, not fee (see `domain.fees`).
    """

    min_edge: Decimal = Decimal("0.005")
    min_profit: Decimal = Decimal("0.10")
    max_contracts: int | None = None
    max_book_age_ns: int = 5_000_000_000
    kalshi_multiplier: Decimal = KALSHI_TAKER_MULTIPLIER
    polymarket_fee_in_shares: bool = True


@dataclass(slots=True)
class PairWatch:
    """A confirmed pair as the hot path sees it: both books, fee tables, limits, open windows."""

    pair: MarketPair
    polymarket: WatchedBook
    kalshi: WatchedBook
    polymarket_terms: LegTerms
    kalshi_terms: LegTerms
    # per-contract cost (FINE, fee included) by price unit, for the O(1) top-of-book check
    polymarket_costs: list[int]
    kalshi_costs: list[int]
    limits: SizingLimits
    # kalshi_yes[direction index]: is the Kalshi leg of that direction the Kalshi YES?
    kalshi_yes: tuple[bool, bool]
    window_start_ns: list[int | None] = field(default_factory=lambda: [None, None])


def _leg_terms(pair: MarketPair, config: DetectorConfig) -> tuple[LegTerms, LegTerms]:
    kalshi_rate = pair.kalshi.taker_fee_rate or config.kalshi_multiplier
    return (
        LegTerms.polymarket(rate_units(pair.polymarket.taker_fee_rate), config.polymarket_fee_in_shares),
        LegTerms.kalshi(rate_units(kalshi_rate)),
    )


class Detector:
    """Reads the venue feeds' books; called from the one task that applies their frames, in order."""

    def __init__(
        self,
        pairs: Iterable[MarketPair],
        config: DetectorConfig | None = None,
        *,
        books: BookSource,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config or DetectorConfig()
        self.clock_ns = clock_ns
        self.books = books
        self.watched: dict[tuple[Venue, str], WatchedBook] = {}
        # the hot lookup: a changed book (the feed's object itself) -> its seen time and its pairs
        self._by_book: dict[object, tuple[WatchedBook, list[PairWatch]]] = {}
        self._by_market: dict[tuple[Venue, str], list[PairWatch]] = {}
        self._min_edge_fine = int(self.config.min_edge * FINE_PER_DOLLAR)
        self._budget = FINE_PER_DOLLAR - self._min_edge_fine
        self.max_book_age_ns = self.config.max_book_age_ns
        self._cost_tables: dict[LegTerms, list[int]] = {}
        self.stale_skips = 0
        for pair in pairs:
            self.add_pair(pair)

    @classmethod
    async def for_confirmed(
        cls, pairs: PairRepository, config: DetectorConfig | None = None, **kwargs: Any
    ) -> Detector:
        """A detector over every confirmed pair in the store (the only pairs that are traded)."""
        return cls(await pairs.list_pairs(PairStatus.CONFIRMED), config, **kwargs)

    def add_pair(self, pair: MarketPair) -> None:
        if pair.status is not PairStatus.CONFIRMED:
            raise ValueError(f"pair {pair.pair_id} is {pair.status.value}; only confirmed pairs are traded")
        config = self.config
        poly_terms, kalshi_terms = _leg_terms(pair, config)
        min_contracts = max(1, ceil(pair.polymarket.min_order_size), ceil(pair.kalshi.min_order_size))
        keys = ((Venue.POLYMARKET, pair.polymarket.market_id), (Venue.KALSHI, pair.kalshi.market_id))
        for key, market in zip(keys, (pair.polymarket, pair.kalshi), strict=True):
            if key not in self.watched:
                self.watched[key] = WatchedBook(self.books(market))
        state = PairWatch(
            pair=pair,
            polymarket=self.watched[keys[0]],
            kalshi=self.watched[keys[1]],
            polymarket_terms=poly_terms,
            kalshi_terms=kalshi_terms,
            polymarket_costs=self._cost_table(poly_terms),
            kalshi_costs=self._cost_table(kalshi_terms),
            limits=SizingLimits(
                min_contracts=min_contracts,
                max_contracts=config.max_contracts,
                min_edge_fine=self._min_edge_fine,
                min_profit_fine=int(config.min_profit * FINE_PER_DOLLAR),
            ),
            kalshi_yes=(
                pair.kalshi_outcome(Outcome.NO) is Outcome.YES,
                pair.kalshi_outcome(Outcome.YES) is Outcome.YES,
            ),
        )
        for key in keys:
            self._by_market.setdefault(key, []).append(state)
            watched = self.watched[key]
            self._by_book[watched.book] = (watched, self._by_market[key])

    def _cost_table(self, terms: LegTerms) -> list[int]:
        table = self._cost_tables.get(terms)
        if table is None:
            table = self._cost_tables[terms] = contract_cost_table(terms)
        return table

    @property
    def pairs(self) -> list[MarketPair]:
        """The pairs watched, each once."""
        states = {id(s): s for group in self._by_market.values() for s in group}.values()
        return [s.pair for s in states]

    def touch(self, venue: Venue, now: int) -> list[BookView]:
        """The venue's feed is alive (a heartbeat or any frame on the connection) at `now`: its
        in-sync books are current even if quiet. Freshness means "still subscribed", not "changed".

        Returns the books that were stale until now: a window that opened while one of them was
        stale was skipped, and only a new evaluation (`evaluate`) finds it without a new change.
        """
        oldest = now - self.max_book_age_ns
        revived: list[BookView] = []
        for key, watched in self.watched.items():
            if key[0] is venue and watched.book.in_sync:
                if watched.seen_ns < oldest:
                    revived.append(watched.book)
                watched.seen_ns = max(watched.seen_ns, now)
        return revived

    def changed(self, book: object, now: int) -> list[Opportunity]:
        """The feed changed `book` (its own object) at `now` (epoch ns): the opportunities whose window
        opens with the change (usually none). A book no pair watches finds nothing."""
        entry = self._by_book.get(book)
        if entry is None:
            return []
        watched, states = entry
        watched.seen_ns = now
        return self.check(states, now)

    def evaluate(self, book: object, now: int | None = None) -> list[Opportunity]:
        """Look at a book again without a change (it became fresh, see `touch`)."""
        entry = self._by_book.get(book)
        if entry is None:
            return []
        return self.check(entry[1], self.clock_ns() if now is None else now)

    def check(self, states: list[PairWatch], now: int) -> list[Opportunity]:
        """The hot path: O(1) per pair and direction unless the top of book crosses."""
        found: list[Opportunity] = []
        oldest = now - self.max_book_age_ns
        budget = self._budget
        for state in states:
            poly_seen = state.polymarket
            kalshi_seen = state.kalshi
            poly = poly_seen.book
            kalshi = kalshi_seen.book
            windows = state.window_start_ns
            if not (poly.in_sync and kalshi.in_sync and poly_seen.seen_ns >= oldest and kalshi_seen.seen_ns >= oldest):
                windows[0] = windows[1] = None
                self.stale_skips += 1
                continue
            k_bid = kalshi.best_bid
            k_ask = kalshi.best_ask
            k_no_ask = None if k_bid is None else PRICE_SCALE - k_bid
            # Direction 0 buys Polymarket YES, direction 1 Polymarket NO (the complement of its YES bid).
            p1 = poly.best_ask
            p2 = k_ask if state.kalshi_yes[0] else k_no_ask
            if p1 is None or p2 is None or state.polymarket_costs[p1] + state.kalshi_costs[p2] > budget:
                windows[0] = None
            elif windows[0] is None:
                self._size(state, 0, now, found)
            bid = poly.best_bid
            p2 = k_ask if state.kalshi_yes[1] else k_no_ask
            if bid is None or p2 is None or state.polymarket_costs[PRICE_SCALE - bid] + state.kalshi_costs[p2] > budget:
                windows[1] = None
            elif windows[1] is None:
                self._size(state, 1, now, found)
        return found

    def _size(self, state: PairWatch, index: int, now: int, found: list[Opportunity]) -> None:
        """The top crosses and no window is open: walk depth, and open a window if it pays."""
        poly_yes = index == 0
        kalshi_yes = state.kalshi_yes[index]
        first = Leg(state.polymarket.book.asks_of(poly_yes), state.polymarket_terms)
        second = Leg(state.kalshi.book.asks_of(kalshi_yes), state.kalshi_terms)
        sizing = best_size(first, second, state.limits)
        if sizing is None:
            return
        state.window_start_ns[index] = now
        found.append(self._opportunity(state, DIRECTIONS[index], sizing, first, second, now))

    def _opportunity(
        self,
        state: PairWatch,
        direction: Direction,
        sizing: Sizing,
        first: Leg,
        second: Leg,
        now: int,
    ) -> Opportunity:
        pair = state.pair
        poly_outcome = direction.polymarket_outcome
        kalshi_outcome = pair.kalshi_outcome(poly_outcome.other)
        units = sizing.contracts * SIZE_SCALE

        def leg(
            venue: Venue, market_id: str, token: str, outcome: Outcome, book_leg: Leg, cost: int, fee: int
        ) -> OpportunityLeg:
            fills = tuple((Decimal(p) / PRICE_SCALE, Decimal(q) / SIZE_SCALE) for p, q in book_leg.fills(units))
            return OpportunityLeg(
                venue=venue,
                market_id=market_id,
                token_id=token,
                outcome=outcome,
                limit_price=fills[-1][0],
                contracts=sizing.contracts,
                fills=fills,
                cost=fine_to_dollars(cost),
                fee=fine_to_dollars(fee),
            )

        return Opportunity(
            opportunity_id=opportunity_id(pair.pair_id, direction, now),
            pair_id=pair.pair_id,
            direction=direction,
            contracts=sizing.contracts,
            polymarket=leg(
                Venue.POLYMARKET,
                pair.polymarket.market_id,
                pair.polymarket.token(poly_outcome).token_id,
                poly_outcome,
                first,
                sizing.first_cost,
                sizing.first_fee,
            ),
            kalshi=leg(
                Venue.KALSHI,
                pair.kalshi.market_id,
                pair.kalshi.token(kalshi_outcome).token_id,
                kalshi_outcome,
                second,
                sizing.second_cost,
                sizing.second_fee,
            ),
            expected_profit=fine_to_dollars(sizing.profit),
            detected_at=ns_to_datetime(now),
            polymarket_book_at=ns_to_datetime(state.polymarket.seen_ns),
            kalshi_book_at=ns_to_datetime(state.kalshi.seen_ns),
        )
