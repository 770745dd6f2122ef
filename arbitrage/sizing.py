"""Exact best size of a two-leg arbitrage: buy one outcome on each venue, one pays $1.

Taking C contracts on both legs costs each leg's ask depth walked to C plus that leg's fee,
and each venue rounds what it debits: Polymarket in USDC units (1e-6), Kalshi in cents, the
Kalshi fee once per order (see `domain.fees`). So profit is not linear in C and the best size
is not simply "all depth that is in the money".

Let U(C) be the profit before venue rounding and R(C) the profit after it. Each leg's cost
plus exact fee is the integral of a marginal price p + r p (1 - p), which rises with p
(r < 1) while asks are walked best first, so U is concave. A contract is worth taking only
when its marginal edge U(C) - U(C-1) is at least `min_edge`; that bounds C by C_e (binary
search, marginals only fall). Rounding takes less than `EPSILON` = two cents plus one USDC
unit off U, so no C with U(C) < U(C_e) - EPSILON can beat C_e, and the exact maximum of R is
found by scanning down from C_e only while U stays within EPSILON. With `min_edge` at least
1e-4 dollars that is at most a few hundred steps, done only when the top of book crosses.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from domain.units import (
    FINE_PER_CENT,
    FINE_PER_COST_UNIT,
    FINE_PER_DOLLAR,
    FINE_PER_MICRO,
    PRICE_SCALE,
    SIZE_SCALE,
    ceil_div,
)

EPSILON = 2 * FINE_PER_CENT + FINE_PER_MICRO
MIN_EDGE_FLOOR = FINE_PER_DOLLAR // PRICE_SCALE


def _round_up(fine: int, unit: int) -> int:
    return ceil_div(fine, unit) * unit


@dataclass(frozen=True, slots=True)
class LegTerms:
    """How one venue charges a taker: fee rate in 1e-4 and the unit (FINE) its debits round up to.

    `fee_in_shares`: the fee is withheld from the tokens bought (r x q x p(1-p) dollars is
    r x q x (1-p) tokens), so the hedge is short that many tokens and the worst case loses
    r x (1-p) per contract instead of r x p(1-p). Either way the marginal cost per contract
    rises with p while r < 1, which is all `best_size` relies on.
    """

    rate_units: int
    rounding_fine: int
    fee_in_shares: bool = False

    @classmethod
    def polymarket(cls, rate_units: int, fee_in_shares: bool = False) -> LegTerms:
        return cls(rate_units, FINE_PER_MICRO, fee_in_shares)

    def fee_weight(self, price: int) -> int:
        """Per 1e-2 contract at `price`: the fee basis in 1e-10 (times the rate in 1e-4 gives FINE)."""
        return PRICE_SCALE * (PRICE_SCALE - price) if self.fee_in_shares else price * (PRICE_SCALE - price)

    @classmethod
    def kalshi(cls, multiplier_units: int) -> LegTerms:
        return cls(multiplier_units, FINE_PER_CENT)


class Leg:
    """Ask depth of the outcome bought on one venue, with prefix sums for O(log n) cost of any size."""

    __slots__ = ("cum_cost", "cum_feeq", "cum_size", "levels", "terms")

    def __init__(self, levels: list[tuple[int, int]], terms: LegTerms) -> None:
        self.levels = levels
        self.terms = terms
        self.cum_size: list[int] = []
        self.cum_cost: list[int] = []
        self.cum_feeq: list[int] = []
        size = cost = feeq = 0
        for price, qty in levels:
            size += qty
            cost += price * qty
            feeq += qty * terms.fee_weight(price)
            self.cum_size.append(size)
            self.cum_cost.append(cost)
            self.cum_feeq.append(feeq)

    @property
    def depth(self) -> int:
        return self.cum_size[-1] if self.cum_size else 0

    def take(self, units: int) -> tuple[int, int]:
        """(cost in FINE, exact fee in FINE) of buying `units` (1e-2 contracts) best first."""
        if units <= 0:
            return 0, 0
        i = bisect_left(self.cum_size, units)
        price = self.levels[i][0]
        before = self.cum_size[i - 1] if i else 0
        cost = (self.cum_cost[i - 1] if i else 0) + price * (units - before)
        feeq = (self.cum_feeq[i - 1] if i else 0) + (units - before) * self.terms.fee_weight(price)
        return cost * FINE_PER_COST_UNIT, self.terms.rate_units * feeq

    def charged(self, units: int) -> tuple[int, int]:
        """(cost, fee) as the venue debits them, each rounded up to the venue's unit."""
        cost, fee = self.take(units)
        unit = self.terms.rounding_fine
        return _round_up(cost, unit), _round_up(fee, unit)

    def fills(self, units: int) -> list[tuple[int, int]]:
        """(price, units) per level touched when buying `units`."""
        out: list[tuple[int, int]] = []
        left = units
        for price, qty in self.levels:
            if left <= 0:
                break
            take = min(qty, left)
            out.append((price, take))
            left -= take
        return out


@dataclass(frozen=True, slots=True)
class SizingLimits:
    """Contract bounds and hurdles; `min_edge_fine` is per contract and must be >= 1e-4 dollars."""

    min_contracts: int = 1
    max_contracts: int | None = None
    min_edge_fine: int = MIN_EDGE_FLOOR
    min_profit_fine: int = FINE_PER_CENT

    def __post_init__(self) -> None:
        if self.min_contracts < 1:
            raise ValueError("min_contracts must be at least 1")
        if self.max_contracts is not None and self.max_contracts < self.min_contracts:
            raise ValueError("max_contracts below min_contracts")
        if self.min_edge_fine < MIN_EDGE_FLOOR:
            raise ValueError("min_edge must be at least 0.0001 dollars per contract")
        if self.min_profit_fine <= 0:
            raise ValueError("min_profit must be positive")


@dataclass(frozen=True, slots=True)
class Sizing:
    """The chosen size and what each leg costs at it, all in FINE (1e-14 dollars)."""

    contracts: int
    first_cost: int
    first_fee: int
    second_cost: int
    second_fee: int
    profit: int


def contract_cost(price: int, terms: LegTerms) -> int:
    """Cost in FINE of one contract at `price` including the exact (unrounded) fee."""
    return SIZE_SCALE * (price * FINE_PER_COST_UNIT + terms.rate_units * terms.fee_weight(price))


def contract_cost_table(terms: LegTerms) -> list[int]:
    """`contract_cost` for every price unit, so the hot path's top-of-book check is two lookups."""
    return [contract_cost(price, terms) for price in range(PRICE_SCALE + 1)]


def best_size(first: Leg, second: Leg, limits: SizingLimits) -> Sizing | None:
    """The size with the largest venue-rounded profit (smallest such size on ties), or None."""
    most = min(first.depth, second.depth) // SIZE_SCALE
    if limits.max_contracts is not None:
        most = min(most, limits.max_contracts)
    if most < limits.min_contracts:
        return None

    def unrounded(contracts: int) -> int:
        units = contracts * SIZE_SCALE
        c1, f1 = first.take(units)
        c2, f2 = second.take(units)
        return contracts * FINE_PER_DOLLAR - c1 - f1 - c2 - f2

    edge = limits.min_edge_fine
    if unrounded(1) < edge:
        return None
    lo, hi = 1, most
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if unrounded(mid) - unrounded(mid - 1) >= edge:
            lo = mid
        else:
            hi = mid - 1
    top = lo
    if top < limits.min_contracts:
        return None
    floor = unrounded(top) - EPSILON
    best: Sizing | None = None
    contracts = top
    while contracts >= limits.min_contracts and unrounded(contracts) >= floor:
        units = contracts * SIZE_SCALE
        c1, f1 = first.charged(units)
        c2, f2 = second.charged(units)
        profit = contracts * FINE_PER_DOLLAR - c1 - f1 - c2 - f2
        if best is None or profit >= best.profit:
            best = Sizing(contracts, c1, f1, c2, f2, profit)
        contracts -= 1
    if best is None or best.profit < limits.min_profit_fine:
        return None
    return best
