"""Pre-trade checks over the risk book: pure, deterministic and exact.

The same code runs inside the supervisor workflow (no I/O, no clock: the caller passes
`today`) and in the hot process. An approved request is reserved in the `RiskBook` at
once, so two concurrent sagas are checked one after the other against the same totals
and cannot both pass a limit only one of them fits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.models import UtcDatetime, Venue
from risk.models import (
    AccountSnapshot,
    Decision,
    Holding,
    Limits,
    RejectCode,
    SagaFinished,
    SagaOutcome,
    TradeRequest,
)

ZERO = Decimal(0)
DAILY_PNL_DAYS_KEPT = 7


def market_key(venue: Venue, market_id: str) -> str:
    return f"{venue.value}:{market_id}"


class Reservation(BaseModel):
    request: TradeRequest
    reserved_at: UtcDatetime


@dataclass(slots=True)
class Totals:
    """Contracts and dollars at risk, held plus reserved, by market, by venue and overall."""

    market_contracts: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    venue_contracts: defaultdict[Venue, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    venue_at_risk: defaultdict[Venue, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    reserved_cash: defaultdict[Venue, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def contracts(self) -> Decimal:
        return sum(self.venue_contracts.values(), ZERO)

    @property
    def at_risk(self) -> Decimal:
        return sum(self.venue_at_risk.values(), ZERO)


class RiskBook(BaseModel):
    """Holdings and balances (from the last account sync, plus completed sagas since), open
    reservations, and net realized P&L per UTC day. Serializable, so it survives continue-as-new."""

    holdings: dict[str, Holding] = Field(default_factory=dict)
    balances: dict[Venue, Decimal] = Field(default_factory=dict)
    reservations: dict[str, Reservation] = Field(default_factory=dict)
    daily_net_pnl: dict[date, Decimal] = Field(default_factory=dict)

    def totals(self) -> Totals:
        totals = Totals()
        for holding in self.holdings.values():
            totals.market_contracts[market_key(holding.venue, holding.market_id)] += holding.contracts
            totals.venue_contracts[holding.venue] += holding.contracts
            totals.venue_at_risk[holding.venue] += holding.at_risk
        for reservation in self.reservations.values():
            for leg in reservation.request.legs:
                totals.market_contracts[market_key(leg.venue, leg.market_id)] += leg.quantity
                totals.venue_contracts[leg.venue] += leg.quantity
                totals.venue_at_risk[leg.venue] += leg.at_risk
                totals.reserved_cash[leg.venue] += leg.at_risk
        return totals

    def net_pnl_on(self, day: date) -> Decimal:
        return self.daily_net_pnl.get(day, ZERO)

    def reserve(self, request: TradeRequest, at: UtcDatetime) -> None:
        if request.saga_id in self.reservations:
            raise ValueError(f"saga {request.saga_id} already holds a reservation")
        self.reservations[request.saga_id] = Reservation(request=request, reserved_at=at)

    def settle(self, finished: SagaFinished, today: date) -> Reservation | None:
        """Release the saga's reservation; a completed saga's legs become holdings and spend their cash.

        Returns the released reservation (None when the saga held none, e.g. a repeated report).
        """
        reservation = self.reservations.pop(finished.saga_id, None)
        if reservation is None:
            return None
        self.daily_net_pnl[today] = self.net_pnl_on(today) + finished.net_pnl
        for old in [d for d in self.daily_net_pnl if d <= today - timedelta(days=DAILY_PNL_DAYS_KEPT)]:
            del self.daily_net_pnl[old]
        if finished.outcome is SagaOutcome.COMPLETED:
            for leg in reservation.request.legs:
                key = market_key(leg.venue, leg.market_id)
                held = self.holdings.get(key)
                self.holdings[key] = Holding(
                    venue=leg.venue,
                    market_id=leg.market_id,
                    contracts=(held.contracts if held else ZERO) + leg.quantity,
                    at_risk=(held.at_risk if held else ZERO) + leg.at_risk,
                )
                self.balances[leg.venue] = self.balances.get(leg.venue, ZERO) - leg.at_risk
        return reservation

    def sync(self, snapshot: AccountSnapshot) -> None:
        """The venues are the truth for balances and holdings; reservations are ours and stay."""
        self.balances = dict(snapshot.balances)
        self.holdings = {market_key(h.venue, h.market_id): h for h in snapshot.holdings}


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

    totals = book.totals()
    needed_cash: defaultdict[Venue, Decimal] = defaultdict(Decimal)
    for leg in request.legs:
        needed_cash[leg.venue] += leg.at_risk
    for venue, needed in needed_cash.items():
        available = book.balances.get(venue, ZERO) - totals.reserved_cash[venue]
        if needed > available:
            return _reject(
                request,
                RejectCode.INSUFFICIENT_BALANCE,
                f"{venue.value} needs {needed}, available {available} after reservations",
            )

    for leg in request.legs:
        totals.market_contracts[market_key(leg.venue, leg.market_id)] += leg.quantity
        totals.venue_contracts[leg.venue] += leg.quantity
        totals.venue_at_risk[leg.venue] += leg.at_risk
    for leg in request.legs:
        key = market_key(leg.venue, leg.market_id)
        if totals.market_contracts[key] > limits.max_contracts_per_market:
            return _reject(
                request,
                RejectCode.MARKET_POSITION,
                f"{key} would hold {totals.market_contracts[key]} contracts, limit {limits.max_contracts_per_market}",
            )
    for venue in needed_cash:
        if totals.venue_contracts[venue] > limits.max_contracts_per_venue:
            return _reject(
                request,
                RejectCode.VENUE_POSITION,
                f"{venue.value} would hold {totals.venue_contracts[venue]} contracts, "
                f"limit {limits.max_contracts_per_venue}",
            )
    if totals.contracts > limits.max_contracts_total:
        return _reject(
            request,
            RejectCode.TOTAL_POSITION,
            f"would hold {totals.contracts} contracts in total, limit {limits.max_contracts_total}",
        )
    for venue in needed_cash:
        if totals.venue_at_risk[venue] > limits.max_exposure_per_venue:
            return _reject(
                request,
                RejectCode.VENUE_EXPOSURE,
                f"{venue.value} exposure would be {totals.venue_at_risk[venue]}, limit {limits.max_exposure_per_venue}",
            )
    if totals.at_risk > limits.max_exposure_total:
        return _reject(
            request,
            RejectCode.TOTAL_EXPOSURE,
            f"total exposure would be {totals.at_risk}, limit {limits.max_exposure_total}",
        )
    return Decision(saga_id=request.saga_id, approved=True, message="approved")
