"""Cross-venue arbitrage detector: on every book change of a confirmed pair, is YES + NO < $1?

Hot path (`evaluate`, synchronous): the changed book's pairs are looked up, both books must
be in sync and fresh, and for each direction the two best asks are checked in O(1) against
`min_edge` with the exact per-contract fee slope. Only when the top crosses is depth walked
(`arbitrage.sizing.best_size`, exact). A crossing that persists over many updates is one
*window* and yields one opportunity, whose id hashes pair, direction and the window's start.

`on_update`/`on_snapshot` (async) wrap the hot path: every new opportunity is recorded as
detected, then the pre-trade risk hook decides; approved ones are returned (emitted),
rejected ones are logged as skipped with the hook's reason.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from math import ceil

from arbitrage.intbook import IntBook
from arbitrage.opportunity import (
    AllowAll,
    Decision,
    Direction,
    InMemoryRecorder,
    Opportunity,
    OpportunityLeg,
    OpportunityRecorder,
    OutcomeKind,
    RiskCheck,
    ns_to_datetime,
    opportunity_id,
)
from arbitrage.sizing import Leg, LegTerms, Sizing, SizingLimits, best_size, top_marginal_edge
from arbitrage.units import (
    FINE_PER_DOLLAR,
    PRICE_SCALE,
    SIZE_SCALE,
    fine_to_dollars,
    rate_units,
)
from domain.book import BookSnapshot
from domain.fees import KALSHI_TAKER_MULTIPLIER
from domain.models import MarketPair, Outcome, PairStatus, Venue

DIRECTIONS = (Direction.POLYMARKET_YES, Direction.POLYMARKET_NO)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """`min_edge` is per contract after fees (>= 0.0001); `min_profit` is for the whole trade.

    `kalshi_multiplier` is used for Kalshi markets whose fee rate the listing did not give:
    Kalshi charges takers on every series, so an unknown rate is the standard 0.07, never 0.
    """

    min_edge: Decimal = Decimal("0.005")
    min_profit: Decimal = Decimal("0.10")
    max_contracts: int | None = None
    max_book_age_ns: int = 5_000_000_000
    kalshi_multiplier: Decimal = KALSHI_TAKER_MULTIPLIER


@dataclass(slots=True)
class _PairState:
    pair: MarketPair
    polymarket_key: tuple[Venue, str]
    kalshi_key: tuple[Venue, str]
    polymarket_terms: LegTerms
    kalshi_terms: LegTerms
    limits: SizingLimits
    # kalshi_yes[direction]: is the Kalshi leg of that direction the Kalshi YES?
    kalshi_yes: tuple[bool, bool]
    window_start_ns: list[int | None] = field(default_factory=lambda: [None, None])


def _leg_terms(pair: MarketPair, config: DetectorConfig) -> tuple[LegTerms, LegTerms]:
    kalshi_rate = pair.kalshi.taker_fee_rate or config.kalshi_multiplier
    return (
        LegTerms.polymarket(rate_units(pair.polymarket.taker_fee_rate)),
        LegTerms.kalshi(rate_units(kalshi_rate)),
    )


class Detector:
    """Owns the detector's integer books; one writer task feeds it updates, in order."""

    def __init__(
        self,
        pairs: Iterable[MarketPair],
        config: DetectorConfig | None = None,
        *,
        risk: RiskCheck | None = None,
        recorder: OpportunityRecorder | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config or DetectorConfig()
        self.risk: RiskCheck = risk or AllowAll()
        self.recorder: OpportunityRecorder = recorder or InMemoryRecorder()
        self.clock_ns = clock_ns
        self.books: dict[tuple[Venue, str], IntBook] = {}
        self._by_market: dict[tuple[Venue, str], list[_PairState]] = {}
        self._min_edge_fine = int(self.config.min_edge * FINE_PER_DOLLAR)
        self.stale_skips = 0
        for pair in pairs:
            self.add_pair(pair)

    def add_pair(self, pair: MarketPair) -> None:
        if pair.status is not PairStatus.CONFIRMED:
            raise ValueError(f"pair {pair.pair_id} is {pair.status.value}; only confirmed pairs are traded")
        config = self.config
        poly_terms, kalshi_terms = _leg_terms(pair, config)
        min_contracts = max(1, ceil(pair.polymarket.min_order_size), ceil(pair.kalshi.min_order_size))
        state = _PairState(
            pair=pair,
            polymarket_key=(Venue.POLYMARKET, pair.polymarket.market_id),
            kalshi_key=(Venue.KALSHI, pair.kalshi.market_id),
            polymarket_terms=poly_terms,
            kalshi_terms=kalshi_terms,
            limits=SizingLimits(
                min_contracts=min_contracts,
                max_contracts=config.max_contracts,
                min_edge_fine=self._min_edge_fine,
                min_profit_fine=int(config.min_profit * FINE_PER_DOLLAR),
            ),
            kalshi_yes=tuple(  # type: ignore[arg-type]
                pair.kalshi_outcome(d.polymarket_outcome.other) is Outcome.YES for d in DIRECTIONS
            ),
        )
        for key in (state.polymarket_key, state.kalshi_key):
            self._by_market.setdefault(key, []).append(state)
            if key not in self.books:
                self.books[key] = IntBook(*key)

    def book(self, venue: Venue, market_id: str) -> IntBook:
        """The book a writer updates in place before calling `evaluate`/`on_update`."""
        return self.books[(venue, market_id)]

    def evaluate(self, venue: Venue, market_id: str) -> list[Opportunity]:
        """Opportunities whose window opens with this update (usually none)."""
        states = self._by_market.get((venue, market_id))
        if not states:
            return []
        now = self.clock_ns()
        found: list[Opportunity] = []
        for state in states:
            self._evaluate_pair(state, now, found)
        return found

    def _evaluate_pair(self, state: _PairState, now: int, found: list[Opportunity]) -> None:
        books = self.books
        poly = books[state.polymarket_key]
        kalshi = books[state.kalshi_key]
        windows = state.window_start_ns
        max_age = self.config.max_book_age_ns
        if (
            not poly.in_sync
            or not kalshi.in_sync
            or now - poly.updated_ns > max_age
            or now - kalshi.updated_ns > max_age
        ):
            windows[0] = windows[1] = None
            self.stale_skips += 1
            return
        for index in (0, 1):
            poly_yes = index == 0
            kalshi_yes = state.kalshi_yes[index]
            p1 = poly.best_ask_of(poly_yes)
            p2 = kalshi.best_ask_of(kalshi_yes)
            if (
                p1 is None
                or p2 is None
                or top_marginal_edge(p1, p2, state.polymarket_terms, state.kalshi_terms) < self._min_edge_fine
            ):
                windows[index] = None
                continue
            if windows[index] is not None:
                continue
            first = Leg(poly.asks_of(poly_yes), state.polymarket_terms)
            second = Leg(kalshi.asks_of(kalshi_yes), state.kalshi_terms)
            sizing = best_size(first, second, state.limits)
            if sizing is None:
                continue
            windows[index] = now
            found.append(self._opportunity(state, DIRECTIONS[index], sizing, first, second, now, poly, kalshi))

    def _opportunity(
        self,
        state: _PairState,
        direction: Direction,
        sizing: Sizing,
        first: Leg,
        second: Leg,
        now: int,
        poly: IntBook,
        kalshi: IntBook,
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
            polymarket_book_at=ns_to_datetime(poly.updated_ns),
            kalshi_book_at=ns_to_datetime(kalshi.updated_ns),
        )

    def apply_snapshot(self, snapshot: BookSnapshot) -> None:
        """Load a normalized `BookSnapshot` (from the streamers) as this detector's book."""
        key = (snapshot.venue, snapshot.market_id)
        if key not in self.books:
            return
        at = snapshot.updated_at
        updated_ns = self.clock_ns() if at is None else int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000
        self.books[key] = IntBook.from_snapshot(snapshot, updated_ns)

    async def on_snapshot(self, snapshot: BookSnapshot) -> list[Opportunity]:
        self.apply_snapshot(snapshot)
        return await self.on_update(snapshot.venue, snapshot.market_id)

    async def on_update(self, venue: Venue, market_id: str) -> list[Opportunity]:
        """Evaluate, record, ask risk; return the approved opportunities (the emitted ones)."""
        emitted: list[Opportunity] = []
        for opportunity in self.evaluate(venue, market_id):
            await self.recorder.record_detected(opportunity)
            decision = self.risk.check(opportunity)
            if inspect.isawaitable(decision):
                decision = await decision
            assert isinstance(decision, Decision)
            if decision.approved:
                emitted.append(opportunity)
            else:
                await self.recorder.record_outcome(
                    opportunity.opportunity_id, OutcomeKind.SKIPPED, decision.reason or "rejected by risk"
                )
        return emitted
