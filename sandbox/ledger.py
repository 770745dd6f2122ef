"""Accounts of a sandbox venue: cash, outcome-token positions, reservations and fees.

Everything is exact `Decimal` in dollars (cash) and contracts (positions); a venue
layer converts to its wire units (USDC micro, cents) at its edge.

Reservations are how the sandbox rejects orders the real venue would reject: a
resting buy reserves its worst-case cost (limit price x quantity plus the largest
fee it could pay), a resting sell reserves the tokens it offers. `available` is
what is left for new orders. Fills consume the reservation of the order that
made them (see `sandbox.engine`).

Fee models are pluggable per venue (`FeeModel`, built on `domain.fees`). A model
returns the total fee of one order's fills in one role (maker or taker), prices in
that order's own outcome terms; it must be largest at the price nearest 1/2 and
charge a maker no more than a taker, because the engine reserves
`order_fee([(min(limit, 1/2), qty)], taker)` for a resting buy. Fees are paid from
cash and collected in `Ledger.fees_collected`.

Positions of a binary market are kept per outcome (YES and NO tokens apart, as on
Polymarket). A venue that nets them (Kalshi) can read both and present the net.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from domain.fees import KALSHI_TAKER_MULTIPLIER, FillLevel, kalshi_order_fee, polymarket_order_fee
from domain.models import Outcome
from domain.money import ONE, ZERO

HALF = Decimal("0.5")
FEE_BOUND_CACHE = 8192


class LedgerError(ValueError):
    """A ledger operation would overdraw cash or tokens; nothing was changed."""


class InsufficientCashError(LedgerError):
    pass


class InsufficientPositionError(LedgerError):
    pass


class FeeModel(Protocol):
    """A venue's fee schedule; immutable and hashable (fee bounds are cached per model)."""

    def __hash__(self) -> int: ...

    def order_fee(self, fills: Sequence[FillLevel], is_taker: bool) -> Decimal:
        """Total fee in dollars of one order's fills in one role, prices in the order's own outcome terms.

        The engine charges each new fill the increase of this total, so a venue that rounds
        once per order (Kalshi's fee accumulator) and one that rounds per fill both fit.
        """
        ...


@dataclass(frozen=True, slots=True)
class NoFees:
    def order_fee(self, fills: Sequence[FillLevel], is_taker: bool) -> Decimal:
        return ZERO


@dataclass(frozen=True, slots=True)
class PolymarketFees:
    """Takers pay C x feeRate x p x (1 - p) (rounded up to 1e-6 USDC); makers pay nothing."""

    fee_rate: Decimal

    def order_fee(self, fills: Sequence[FillLevel], is_taker: bool) -> Decimal:
        if not is_taker or self.fee_rate == 0:
            return ZERO
        return polymarket_order_fee(fills, self.fee_rate)


@dataclass(frozen=True, slots=True)
class KalshiFees:
    """Cent-ceiling of multiplier x C x P x (1 - P) per order; makers use `maker_multiplier`."""

    multiplier: Decimal = KALSHI_TAKER_MULTIPLIER
    maker_multiplier: Decimal = ZERO

    def order_fee(self, fills: Sequence[FillLevel], is_taker: bool) -> Decimal:
        rate = self.multiplier if is_taker else self.maker_multiplier
        if rate == 0:
            return ZERO
        return kalshi_order_fee(fills, rate)


@functools.lru_cache(maxsize=FEE_BOUND_CACHE)
def fee_bound(model: FeeModel, limit_price: Decimal, quantity: Decimal) -> Decimal:
    """The largest fee a buy limited at `limit_price` can pay: fills happen at or below the limit.

    Cached (fee models are immutable): every resting buy asks for it when it reserves
    and again as it fills, and market makers reuse a few hundred price/size pairs.
    """
    return model.order_fee([(min(limit_price, HALF), quantity)], True)


@dataclass(slots=True)
class Holding:
    quantity: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.quantity - self.reserved


@dataclass(slots=True)
class Account:
    account_id: str
    cash: Decimal = ZERO
    reserved_cash: Decimal = ZERO
    positions: dict[tuple[str, Outcome], Holding] = field(default_factory=dict)

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.reserved_cash

    def holding(self, market_id: str, outcome: Outcome) -> Holding:
        key = (market_id, outcome)
        found = self.positions.get(key)
        if found is None:
            found = self.positions[key] = Holding()
        return found


def _positive(amount: Decimal, what: str) -> Decimal:
    if amount < 0:
        raise LedgerError(f"{what} must not be negative, got {amount}")
    return amount


class Ledger:
    """All accounts of one sandbox venue; every method either applies fully or raises and changes nothing."""

    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}
        self.fees_collected = ZERO

    def account(self, account_id: str) -> Account:
        found = self._accounts.get(account_id)
        if found is None:
            found = self._accounts[account_id] = Account(account_id)
        return found

    def accounts(self) -> Iterator[Account]:
        return iter(self._accounts.values())

    def deposit(self, account_id: str, amount: Decimal) -> None:
        self.account(account_id).cash += _positive(amount, "deposit")

    def withdraw(self, account_id: str, amount: Decimal) -> None:
        acct = self.account(account_id)
        if _positive(amount, "withdrawal") > acct.available_cash:
            raise InsufficientCashError(f"{account_id}: withdraw {amount} > available {acct.available_cash}")
        acct.cash -= amount

    def grant_position(self, account_id: str, market_id: str, outcome: Outcome, quantity: Decimal) -> None:
        """Seed tokens out of thin air (admin only); trading moves tokens but only mint/merge creates them."""
        self.account(account_id).holding(market_id, outcome).quantity += _positive(quantity, "grant")

    def reserve_cash(self, account_id: str, amount: Decimal) -> None:
        acct = self.account(account_id)
        if _positive(amount, "reservation") > acct.available_cash:
            raise InsufficientCashError(
                f"{account_id}: needs {amount}, available {acct.available_cash}",
            )
        acct.reserved_cash += amount

    def release_cash(self, account_id: str, amount: Decimal) -> None:
        acct = self.account(account_id)
        if _positive(amount, "release") > acct.reserved_cash:
            raise LedgerError(f"{account_id}: release {amount} > reserved {acct.reserved_cash}")
        acct.reserved_cash -= amount

    def reserve_tokens(self, account_id: str, market_id: str, outcome: Outcome, quantity: Decimal) -> None:
        holding = self.account(account_id).holding(market_id, outcome)
        if _positive(quantity, "reservation") > holding.available:
            raise InsufficientPositionError(
                f"{account_id}: needs {quantity} {outcome.value} of {market_id}, available {holding.available}",
            )
        holding.reserved += quantity

    def release_tokens(self, account_id: str, market_id: str, outcome: Outcome, quantity: Decimal) -> None:
        holding = self.account(account_id).holding(market_id, outcome)
        if _positive(quantity, "release") > holding.reserved:
            raise LedgerError(f"{account_id}: release {quantity} > reserved {holding.reserved}")
        holding.reserved -= quantity

    def pay(self, account_id: str, amount: Decimal, *, from_reserved: Decimal) -> None:
        """Pay `amount` out of cash, `from_reserved` of it out of this account's reservation."""
        acct = self.account(account_id)
        _positive(amount, "payment")
        if not ZERO <= from_reserved <= min(amount, acct.reserved_cash):
            raise LedgerError(f"{account_id}: cannot take {from_reserved} of {amount} from reservation")
        if amount - from_reserved > acct.available_cash:
            raise InsufficientCashError(f"{account_id}: pay {amount} exceeds cash")
        acct.reserved_cash -= from_reserved
        acct.cash -= amount

    def receive(self, account_id: str, amount: Decimal) -> None:
        self.account(account_id).cash += _positive(amount, "receipt")

    def collect_fee(self, account_id: str, amount: Decimal, *, from_reserved: Decimal = ZERO) -> None:
        self.pay(account_id, amount, from_reserved=from_reserved)
        self.fees_collected += amount

    def take_tokens(self, account_id: str, market_id: str, outcome: Outcome, quantity: Decimal) -> None:
        """Remove reserved tokens that were sold (or merged)."""
        holding = self.account(account_id).holding(market_id, outcome)
        if _positive(quantity, "tokens") > holding.reserved:
            raise InsufficientPositionError(f"{account_id}: take {quantity} > reserved {holding.reserved}")
        holding.reserved -= quantity
        holding.quantity -= quantity

    def give_tokens(self, account_id: str, market_id: str, outcome: Outcome, quantity: Decimal) -> None:
        self.account(account_id).holding(market_id, outcome).quantity += _positive(quantity, "tokens")

    def settle(self, market_id: str, yes_payout: Decimal) -> None:
        """Resolve a market: each YES pays `yes_payout`, each NO pays 1 - `yes_payout`; tokens are burned.

        Call after cancelling the market's orders, so no token is still reserved.
        """
        if not ZERO <= yes_payout <= ONE:
            raise LedgerError(f"payout {yes_payout} outside [0, 1]")
        for acct in self._accounts.values():
            for outcome in Outcome:
                held = acct.positions.get((market_id, outcome))
                if held is not None and held.reserved:
                    raise LedgerError(f"{acct.account_id}: {outcome.value} tokens still reserved at settlement")
        for acct in self._accounts.values():
            for outcome, payout in ((Outcome.YES, yes_payout), (Outcome.NO, ONE - yes_payout)):
                holding = acct.positions.get((market_id, outcome))
                if holding is None:
                    continue
                acct.cash += holding.quantity * payout
                holding.quantity = ZERO
