"""Pre-trade checks over the risk book: pure, deterministic and exact.

The same code runs inside the supervisor workflow (no I/O, no clock: the caller passes
`today`) and in the hot process. An approved request is reserved in the `RiskBook` at
once, so two concurrent sagas are checked one after the other against the same totals
and cannot both pass a limit only one of them fits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field, PrivateAttr

from domain.models import UtcDatetime, Venue
from risk.models import (
    AccountSnapshot,
    Decision,
    Holding,
    Limits,
    RejectCode,
    SagaFinished,
    SagaOutcome,
    TradeLeg,
    TradeRequest,
)

ZERO = Decimal(0)
DAILY_PNL_DAYS_KEPT = 7
SYNC_OVERLAP = timedelta(seconds=30)
COMPLETIONS_KEPT = 1000


def market_key(venue: Venue, market_id: str) -> str:
    return f"{venue.value}:{market_id}"


class Reservation(BaseModel):
    request: TradeRequest
    reserved_at: UtcDatetime


class Completion(BaseModel):
    """A completed saga's legs, kept until an account snapshot surely includes them."""

    at: UtcDatetime
    legs: tuple[TradeLeg, ...]


@dataclass(slots=True)
class Totals:
    """Contracts and dollars at risk by market, by venue and overall; `cash` is what reservations tie up."""

    market_contracts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    venue_contracts: defaultdict[Venue, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    venue_at_risk: defaultdict[Venue, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cash: defaultdict[Venue, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def contracts(self) -> Decimal:
        return sum(self.venue_contracts.values(), ZERO)

    @property
    def at_risk(self) -> Decimal:
        return sum(self.venue_at_risk.values(), ZERO)

    def add_legs(self, legs: Iterable[TradeLeg]) -> None:
        for leg in legs:
            self.market_contracts[market_key(leg.venue, leg.market_id)] += leg.quantity
            self.venue_contracts[leg.venue] += leg.quantity
            self.venue_at_risk[leg.venue] += leg.at_risk
            self.cash[leg.venue] += leg.at_risk

    def merged(self, *others: Totals) -> Totals:
        result = Totals()
        for part in (self, *others):
            for mine, theirs in (
                (result.market_contracts, part.market_contracts),
                (result.venue_contracts, part.venue_contracts),
                (result.venue_at_risk, part.venue_at_risk),
                (result.cash, part.cash),
            ):
                for key, value in theirs.items():
                    mine[key] += value  # type: ignore[index]
        return result


class RiskBook(BaseModel):
    """Holdings and balances (from the last account sync, plus completed sagas since), open
    reservations, and net realized P&L per UTC day. Serializable, so it survives continue-as-new.

    The totals of holdings are cached (holdings change only in `sync` and on a completed
    saga), so a decision costs O(legs + open reservations), not O(holdings).
    """

    holdings: dict[str, Holding] = Field(default_factory=dict)
    balances: dict[Venue, Decimal] = Field(default_factory=dict)
    reservations: dict[str, Reservation] = Field(default_factory=dict)
    daily_net_pnl: dict[date, Decimal] = Field(default_factory=dict)
    completions: list[Completion] = Field(default_factory=list)
    _held: Totals | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Books are equal by content; the cache does not count."""
        if not isinstance(other, RiskBook):
            return NotImplemented
        fields = ("holdings", "balances", "reservations", "daily_net_pnl", "completions")
        return all(getattr(self, name) == getattr(other, name) for name in fields)

    __hash__ = None  # type: ignore[assignment]

    def held_totals(self) -> Totals:
        if self._held is None:
            held = Totals()
            for key, holding in self.holdings.items():
                held.market_contracts[key] += holding.contracts
                held.venue_contracts[holding.venue] += holding.contracts
                held.venue_at_risk[holding.venue] += holding.at_risk
            self._held = held
        return self._held

    def reserved_totals(self) -> Totals:
        reserved = Totals()
        for reservation in self.reservations.values():
            reserved.add_legs(reservation.request.legs)
        return reserved

    def totals(self) -> Totals:
        return self.held_totals().merged(self.reserved_totals())

    def net_pnl_on(self, day: date) -> Decimal:
        return self.daily_net_pnl.get(day, ZERO)

    def reserve(self, request: TradeRequest, at: UtcDatetime) -> None:
        if request.saga_id in self.reservations:
            raise ValueError(f"saga {request.saga_id} already holds a reservation")
        self.reservations[request.saga_id] = Reservation(request=request, reserved_at=at)

    def settle(self, finished: SagaFinished, at: datetime) -> Reservation | None:
        """Release the saga's reservation; a completed saga's legs become holdings and spend their cash.

        Returns the released reservation (None when the saga held none, e.g. a repeated report).
        """
        reservation = self.reservations.pop(finished.saga_id, None)
        if reservation is None:
            return None
        today = at.date()
        self.daily_net_pnl[today] = self.net_pnl_on(today) + finished.net_pnl
        for old in [d for d in self.daily_net_pnl if d <= today - timedelta(days=DAILY_PNL_DAYS_KEPT)]:
            del self.daily_net_pnl[old]
        if finished.outcome is SagaOutcome.COMPLETED:
            self._hold(reservation.request.legs)
            self.completions = [
                *self.completions[-(COMPLETIONS_KEPT - 1) :],
                Completion(at=at, legs=reservation.request.legs),
            ]
        return reservation

    def sync(self, snapshot: AccountSnapshot) -> None:
        """The venues are the truth for balances and holdings; reservations are ours and stay.

        A snapshot may have been read before the fills of a saga that completed since, so
        sagas completed from `SYNC_OVERLAP` before `as_of` on are applied again on top of it:
        at worst counted twice for a while (conservative), never missed.
        """
        self.balances = dict(snapshot.balances)
        self.holdings = {market_key(h.venue, h.market_id): h for h in snapshot.holdings}
        self._held = None
        self.completions = [c for c in self.completions if c.at >= snapshot.as_of - SYNC_OVERLAP]
        for completion in self.completions:
            self._hold(completion.legs)

    def _hold(self, legs: Iterable[TradeLeg]) -> None:
        self._held = None
        for leg in legs:
            key = market_key(leg.venue, leg.market_id)
            held = self.holdings.get(key)
            self.holdings[key] = Holding(
                venue=leg.venue,
                market_id=leg.market_id,
                contracts=(held.contracts if held else ZERO) + leg.quantity,
                at_risk=(held.at_risk if held else ZERO) + leg.at_risk,
            )
            self.balances[leg.venue] = self.balances.get(leg.venue, ZERO) - leg.at_risk


def _reject(request: TradeRequest, code: RejectCode, message: str) -> Decision:
    return Decision(saga_id=request.saga_id, approved=False, code=code, message=message)


def check_trade(
    request: TradeRequest,
    limits: Limits,
    book: RiskBook,
    *,
    today: date,
    kill_switch: bool = False,
    breaker_open: bool = False,
) -> Decision:
    """Every limit, cheapest first; the first one broken is the reason. Does not reserve."""
    if kill_switch:
        return _reject(request, RejectCode.KILL_SWITCH, "kill switch is on: no new exposure")
    if breaker_open:
        return _reject(request, RejectCode.CIRCUIT_BREAKER, "circuit breaker is open: reset it to trade again")
    if len(book.reservations) >= limits.max_open_sagas:
        return _reject(
            request, RejectCode.MAX_OPEN_SAGAS, f"{len(book.reservations)} sagas open, limit {limits.max_open_sagas}"
        )
    day_pnl = book.net_pnl_on(today)
    if -day_pnl >= limits.max_daily_loss:
        return _reject(request, RejectCode.DAILY_LOSS, f"lost {-day_pnl} today (UTC), limit {limits.max_daily_loss}")

    held, reserved, new = book.held_totals(), book.reserved_totals(), Totals()
    new.add_legs(request.legs)

    def after(attr: str, key: str | Venue) -> Decimal:
        """Held + reserved + this request, for one market or venue."""
        return sum((getattr(part, attr).get(key, ZERO) for part in (held, reserved, new)), ZERO)

    for venue, needed in new.cash.items():
        available = book.balances.get(venue, ZERO) - reserved.cash.get(venue, ZERO)
        if needed > available:
            return _reject(
                request,
                RejectCode.INSUFFICIENT_BALANCE,
                f"{venue.value} needs {needed}, available {available} after reservations",
            )
    for key in new.market_contracts:
        if (contracts := after("market_contracts", key)) > limits.max_contracts_per_market:
            return _reject(
                request,
                RejectCode.MARKET_POSITION,
                f"{key} would hold {contracts} contracts, limit {limits.max_contracts_per_market}",
            )
    for venue in new.venue_contracts:
        if (contracts := after("venue_contracts", venue)) > limits.max_contracts_per_venue:
            return _reject(
                request,
                RejectCode.VENUE_POSITION,
                f"{venue.value} would hold {contracts} contracts, limit {limits.max_contracts_per_venue}",
            )
    if (contracts := held.contracts + reserved.contracts + new.contracts) > limits.max_contracts_total:
        return _reject(
            request,
            RejectCode.TOTAL_POSITION,
            f"would hold {contracts} contracts in total, limit {limits.max_contracts_total}",
        )
    for venue in new.venue_at_risk:
        if (at_risk := after("venue_at_risk", venue)) > limits.max_exposure_per_venue:
            return _reject(
                request,
                RejectCode.VENUE_EXPOSURE,
                f"{venue.value} exposure would be {at_risk}, limit {limits.max_exposure_per_venue}",
            )
    if (at_risk := held.at_risk + reserved.at_risk + new.at_risk) > limits.max_exposure_total:
        return _reject(
            request,
            RejectCode.TOTAL_EXPOSURE,
            f"total exposure would be {at_risk}, limit {limits.max_exposure_total}",
        )
    return Decision(saga_id=request.saga_id, approved=True, message="approved")
