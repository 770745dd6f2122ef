"""One leader fill + the follower's rules and book of positions -> the follower's order, or why not.

Pure and deterministic (it runs inside the copy workflow). Every rounding goes toward safety:
a buy's limit is rounded down to the tick and its quantity down (never pay or buy more than the
rules allow), a sell's limit up and its quantity down (never sell what is not held).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from copytrade.fills import LeaderFill
from copytrade.rules import BelowMinimum, CopyRules, SellMode, SideFilter, Sizing
from domain.models import Frozen, Market, Outcome, Side, Venue
from domain.money import ONE, ZERO, Rounding, quantize
from domain.venue_rules import orderable


class CopyTarget(Frozen):
    """Where the copy trades: the leader's own outcome, its other outcome (reverse), or the confirmed
    twin's on the other venue; `complement`: the target's price is 1 - the leader's."""

    market: Market
    outcome: Outcome
    complement: bool = False
    # a copy on the other venue: the leader's market's taker fee rate, so the copy's limit holds the
    # leader's all-in price (price + fee per share) rather than the bare price
    leader_fee_rate: Decimal | None = None

    def fee_per_share(self, price: Decimal) -> Decimal:
        """Both venues charge takers rate x p x (1 - p) per share (Kalshi then rounds the order up a cent)."""
        return _fee_per_share(self.market.taker_fee_rate, price)

    @property
    def venue(self) -> Venue:
        return self.market.venue

    @property
    def token_id(self) -> str:
        return self.market.token(self.outcome).token_id

    @property
    def tick_size(self) -> Decimal:
        return self.market.tick_size

    @property
    def min_order_size(self) -> Decimal:
        return self.market.min_order_size


class FollowerView(Frozen):
    """What the follower holds, read just before sizing (an activity), in dollars and shares."""

    available: Decimal
    position: Decimal = ZERO  # shares of the target token held
    open_positions: int = 0
    day_volume: Decimal = ZERO  # dollars copied today
    market_exposure: Decimal = ZERO  # dollars at risk in the target market
    leader_position_before: Decimal | None = None  # the leader's shares before a sell, when known


@dataclass(frozen=True, slots=True)
class CopyPlan:
    side: Side
    limit_price: Decimal
    quantity: Decimal

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.limit_price


@dataclass(frozen=True, slots=True)
class Skip:
    reason: str


def plan_copy(
    fill: LeaderFill, rules: CopyRules, target: CopyTarget, view: FollowerView, now: datetime
) -> CopyPlan | Skip:
    """The follower's order for `fill` under `rules`, or the first rule that says no."""
    age = (now - fill.at).total_seconds()
    if age > rules.max_age_seconds:
        return Skip(f"stale: the leader traded {age:.0f} s ago, the rules copy within {rules.max_age_seconds} s")
    if rules.markets_allow and fill.market_id not in rules.markets_allow:
        return Skip(f"market {fill.market_id} is not on the allow list")
    if fill.market_id in rules.markets_deny:
        return Skip(f"market {fill.market_id} is on the deny list")
    if (rules.sides is SideFilter.BUYS_ONLY and fill.side is Side.SELL) or (
        rules.sides is SideFilter.SELLS_ONLY and fill.side is Side.BUY
    ):
        return Skip(f"the rules copy {rules.sides.value.replace('_', ' ')}")
    if not rules.min_price <= fill.price <= rules.max_price:
        return Skip(f"leader price {fill.price} outside the band {rules.min_price}..{rules.max_price}")
    leader_amount = fill.size * fill.price
    if leader_amount < rules.min_leader_amount:
        return Skip(f"dust: the leader traded ${leader_amount}, below ${rules.min_leader_amount}")
    reference = ONE - fill.price if target.complement else fill.price
    if fill.side is Side.BUY:
        return _buy(fill, rules, target, view, reference, leader_amount)
    return _sell(fill, rules, target, view, reference)


def _fee_per_share(rate: Decimal, price: Decimal) -> Decimal:
    return rate * price * (ONE - price)


def _buy_limit(rules: CopyRules, target: CopyTarget, reference: Decimal) -> Decimal:
    """The highest limit on the tick grid within the slippage; across venues, the follower's price plus
    its fee stays within the leader's price plus the leader's fee plus the slippage."""
    tick = target.tick_size
    limit = quantize(min(reference + rules.max_slippage, ONE - tick), tick, Rounding.DOWN)
    if target.leader_fee_rate is None:
        return limit
    budget = reference + _fee_per_share(target.leader_fee_rate, reference) + rules.max_slippage
    while limit > 0 and limit + target.fee_per_share(limit) > budget:
        limit -= tick
    return limit


def _sell_limit(rules: CopyRules, target: CopyTarget, reference: Decimal) -> Decimal:
    """The lowest limit within the slippage; across venues, what a share brings after the follower's fee
    is no less than the leader's price less the leader's fee less the slippage."""
    tick = target.tick_size
    limit = quantize(max(reference - rules.max_slippage, tick), tick, Rounding.UP)
    if target.leader_fee_rate is None:
        return limit
    floor = reference - _fee_per_share(target.leader_fee_rate, reference) - rules.max_slippage
    while limit < ONE - tick and limit - target.fee_per_share(limit) < floor:
        limit += tick
    return limit


def _buy(
    fill: LeaderFill, rules: CopyRules, target: CopyTarget, view: FollowerView, reference: Decimal, leader: Decimal
) -> CopyPlan | Skip:
    limit = _buy_limit(rules, target, reference)
    if limit <= 0:
        return Skip(f"no buy price within the slippage of {reference}")
    if view.position <= 0 and rules.max_open_positions is not None and view.open_positions >= rules.max_open_positions:
        return Skip(f"already {view.open_positions} open positions, the rules allow {rules.max_open_positions}")
    wanted = {
        Sizing.FIXED_AMOUNT: rules.fixed_amount,
        Sizing.PROPORTIONAL: leader * rules.proportion,
        Sizing.BALANCE_PERCENT: view.available * rules.balance_percent / 100,
        Sizing.MIRROR_SHARES: fill.size * limit,
    }[rules.sizing]
    room = [wanted, view.available]
    if rules.max_per_trade is not None:
        room.append(rules.max_per_trade)
    if rules.max_daily_volume is not None:
        room.append(rules.max_daily_volume - view.day_volume)
    if rules.max_market_exposure is not None:
        room.append(rules.max_market_exposure - view.market_exposure)
    dollars = min(room)
    cap = min(room[1:])
    quantity = orderable(target.venue, dollars / limit, Rounding.DOWN)
    if quantity < target.min_order_size:
        minimum = target.min_order_size
        if rules.below_minimum is BelowMinimum.ROUND_UP and minimum * limit <= cap:
            quantity = orderable(target.venue, minimum, Rounding.UP)
        else:
            return Skip(f"{quantity} shares is below the venue minimum {minimum}")
    if quantity <= 0:
        return Skip("no room left under the rules' caps or the balance")
    return CopyPlan(Side.BUY, limit, quantity)


def _sell(
    fill: LeaderFill, rules: CopyRules, target: CopyTarget, view: FollowerView, reference: Decimal
) -> CopyPlan | Skip:
    if rules.sell_mode is SellMode.IGNORE:
        return Skip("the rules ignore the leader's sells")
    if view.position <= 0:
        return Skip("nothing to sell: the follower holds none of this outcome")
    if rules.sell_mode is SellMode.ALL:
        wanted = view.position
    elif view.leader_position_before:
        wanted = view.position * min(ONE, fill.size / view.leader_position_before)
    else:
        wanted = fill.size  # the leader's position is unknown: sell as many shares as they did
    quantity = orderable(target.venue, min(wanted, view.position), Rounding.DOWN)
    limit = _sell_limit(rules, target, reference)
    if quantity <= 0 or (quantity < target.min_order_size and quantity < view.position):
        return Skip(f"{quantity} shares is below the venue minimum {target.min_order_size}")
    return CopyPlan(Side.SELL, limit, quantity)
