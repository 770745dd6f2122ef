"""Copy sizing: the rules' caps always hold, every rounding goes toward safety, every refusal says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from copytrade.fills import FillSource, LeaderFill
from copytrade.rules import BelowMinimum, CopyRules, SellMode, SideFilter, Sizing
from copytrade.sizing import CopyPlan, CopyTarget, FollowerView, Skip, plan_copy
from domain.models import Market, Outcome, Side, Venue

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POLY_MARKET = Market(
    venue=Venue.POLYMARKET, market_id="0xc", title="t", yes_token="1", no_token="2", min_order_size=Decimal(5)
)
POLY = CopyTarget(market=POLY_MARKET, outcome=Outcome.YES)
KALSHI = CopyTarget(
    market=Market(venue=Venue.KALSHI, market_id="KX", title="t", yes_token="yes", no_token="no"), outcome=Outcome.YES
)


def fill(side: Side = Side.BUY, price: str = "0.40", size: str = "100", age_s: int = 1) -> LeaderFill:
    return LeaderFill(
        venue=Venue.POLYMARKET,
        leader="0x" + "ab" * 20,
        market_id="0xc",
        token_id="1",
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        at=NOW - timedelta(seconds=age_s),
        source=FillSource.RTDS,
        venue_fill_id="0x" + "cd" * 32,
    )


def test_a_fixed_amount_buy_is_a_limit_at_the_leader_price_plus_slippage() -> None:
    plan = plan_copy(fill(), CopyRules(fixed_amount=Decimal(10)), POLY, FollowerView(available=Decimal(500)), NOW)
    assert plan == CopyPlan(Side.BUY, Decimal("0.42"), Decimal("23.80"))  # 23.8095 shares, down to 0.01
    whole = plan_copy(fill(), CopyRules(fixed_amount=Decimal(10)), KALSHI, FollowerView(available=Decimal(500)), NOW)
    assert whole == CopyPlan(Side.BUY, Decimal("0.42"), Decimal(23))  # 23.8 contracts, rounded down


@pytest.mark.parametrize(
    ("rules", "the_fill", "why"),
    [
        (CopyRules(), fill(age_s=600), "stale"),
        (CopyRules(markets_allow=frozenset({"0xother"})), fill(), "allow list"),
        (CopyRules(markets_deny=frozenset({"0xc"})), fill(), "deny list"),
        (CopyRules(sides=SideFilter.BUYS_ONLY), fill(Side.SELL), "buys only"),
        (CopyRules(min_price=Decimal("0.5")), fill(), "outside the band"),
        (CopyRules(min_leader_amount=Decimal(100)), fill(size="10"), "dust"),
        (CopyRules(sell_mode=SellMode.IGNORE), fill(Side.SELL), "ignore"),
        (CopyRules(), fill(Side.SELL), "nothing to sell"),
        (CopyRules(fixed_amount=Decimal(1)), fill(), "below the venue minimum"),
    ],
)
def test_every_refusal_has_its_reason(rules: CopyRules, the_fill: LeaderFill, why: str) -> None:
    got = plan_copy(the_fill, rules, POLY, FollowerView(available=Decimal(500)), NOW)
    assert isinstance(got, Skip) and why in got.reason


def test_round_up_buys_the_minimum_only_within_the_caps() -> None:
    rules = CopyRules(fixed_amount=Decimal(1), below_minimum=BelowMinimum.ROUND_UP)
    assert plan_copy(fill(), rules, POLY, FollowerView(available=Decimal(500)), NOW) == CopyPlan(
        Side.BUY, Decimal("0.42"), Decimal(5)
    )
    poor = plan_copy(fill(), rules, POLY, FollowerView(available=Decimal(2)), NOW)
    assert isinstance(poor, Skip)


def test_mirror_sell_sells_the_leaders_share_of_our_position() -> None:
    view = FollowerView(available=Decimal(0), position=Decimal(30), leader_position_before=Decimal(400))
    plan = plan_copy(fill(Side.SELL, size="100"), CopyRules(), POLY, view, NOW)
    assert plan == CopyPlan(Side.SELL, Decimal("0.38"), Decimal("7.5"))
    every = plan_copy(fill(Side.SELL), CopyRules(sell_mode=SellMode.ALL), KALSHI, view, NOW)
    assert every == CopyPlan(Side.SELL, Decimal("0.38"), Decimal(30))


def test_reverse_copy_trades_the_other_outcome_at_its_price() -> None:
    other = CopyTarget(market=POLY_MARKET, outcome=Outcome.NO, complement=True)
    plan = plan_copy(fill(price="0.30"), CopyRules(reverse=True), other, FollowerView(available=Decimal(500)), NOW)
    assert isinstance(plan, CopyPlan) and plan.limit_price == Decimal("0.72")


def test_rules_out_of_range_are_refused() -> None:
    for bad in ({"fixed_amount": 0}, {"max_slippage": "0.9"}, {"min_price": "0.6", "max_price": "0.5"}):
        with pytest.raises(ValidationError):
            CopyRules.model_validate(bad)
    with pytest.raises(ValidationError, match="both allowed and denied"):
        CopyRules(markets_allow=frozenset({"a"}), markets_deny=frozenset({"a"}))


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)
prices = st.integers(min_value=2, max_value=98).map(lambda c: Decimal(c) / 100)


@settings(max_examples=300, deadline=None)
@given(
    price=prices,
    size=st.decimals(min_value=Decimal(1), max_value=Decimal(100_000), places=2),
    sizing=st.sampled_from(Sizing),
    amount=money,
    cap=st.one_of(st.none(), money),
    daily=st.one_of(st.none(), money),
    used=money,
    available=money,
    slippage=st.decimals(min_value=0, max_value=Decimal("0.1"), places=3),
    target=st.sampled_from([POLY, KALSHI]),
    round_up=st.booleans(),
)
def test_buys_never_exceed_any_cap_and_round_toward_safety(
    price, size, sizing, amount, cap, daily, used, available, slippage, target, round_up
) -> None:
    rules = CopyRules(
        sizing=sizing,
        fixed_amount=amount,
        proportion=Decimal("0.5"),
        balance_percent=Decimal(10),
        max_per_trade=cap,
        max_daily_volume=daily,
        max_market_exposure=None,
        max_slippage=slippage,
        min_leader_amount=Decimal(0),
        below_minimum=BelowMinimum.ROUND_UP if round_up else BelowMinimum.SKIP,
    )
    view = FollowerView(available=available, day_volume=used)
    plan = plan_copy(fill(price=str(price), size=str(size)), rules, target, view, NOW)
    if isinstance(plan, Skip):
        assert plan.reason
        return
    assert plan.side is Side.BUY
    assert plan.limit_price <= price + slippage and plan.limit_price % target.tick_size == 0 and plan.limit_price < 1
    assert plan.quantity >= target.min_order_size
    if target.venue is Venue.KALSHI:
        assert plan.quantity == plan.quantity.to_integral_value()
    assert plan.notional <= available
    if cap is not None:
        assert plan.notional <= cap
    if daily is not None:
        assert plan.notional <= daily - used


@settings(max_examples=200, deadline=None)
@given(
    price=prices,
    size=st.decimals(min_value=Decimal(1), max_value=Decimal(10_000), places=2),
    position=st.decimals(min_value=Decimal(0), max_value=Decimal(10_000), places=2),
    before=st.one_of(st.none(), st.decimals(min_value=Decimal(1), max_value=Decimal(20_000), places=2)),
    mode=st.sampled_from([SellMode.MIRROR, SellMode.ALL]),
    target=st.sampled_from([POLY, KALSHI]),
)
def test_sells_never_sell_more_than_is_held(price, size, position, before, mode, target) -> None:
    view = FollowerView(available=Decimal(0), position=position, leader_position_before=before)
    rules = CopyRules(sell_mode=mode, min_leader_amount=Decimal(0))
    plan = plan_copy(fill(Side.SELL, price=str(price), size=str(size)), rules, target, view, NOW)
    if isinstance(plan, Skip):
        return
    assert plan.side is Side.SELL and 0 < plan.quantity <= position
    assert plan.limit_price >= price - rules.max_slippage and plan.limit_price % target.tick_size == 0


def _fee(rate: Decimal, price: Decimal) -> Decimal:
    return rate * price * (1 - price)


@given(
    price=st.integers(5, 95).map(lambda c: Decimal(c) / 100),
    slippage=st.integers(0, 10).map(lambda c: Decimal(c) / 100),
    leader_rate=st.sampled_from([Decimal(0), Decimal("0.02"), Decimal("0.07")]),
    side=st.sampled_from([Side.BUY, Side.SELL]),
)
@settings(max_examples=300, deadline=None)
def test_a_cross_venue_limit_holds_the_leaders_all_in_price(
    price: Decimal, slippage: Decimal, leader_rate: Decimal, side: Side
) -> None:
    """Onto Kalshi (taker 0.07 x p(1-p) a contract) from a Polymarket fill: a buy pays at most the leader's
    price + fee + slippage all in, a sell nets at least its price - fee - slippage, each limit the best such
    on the tick grid."""
    kalshi_market = KALSHI.market.model_copy(update={"taker_fee_rate": Decimal("0.07")})
    target = CopyTarget(market=kalshi_market, outcome=Outcome.YES, leader_fee_rate=leader_rate)
    rules = CopyRules(max_slippage=slippage, min_price=Decimal(0), max_price=Decimal(1), fixed_amount=Decimal(50))
    view = FollowerView(available=Decimal(1000), position=Decimal(1000))
    plan = plan_copy(fill(side, str(price)), rules, target, view, NOW)
    if isinstance(plan, Skip):
        assert side is Side.BUY and "no buy price" in plan.reason
        return
    rate, tick = Decimal("0.07"), Decimal("0.01")
    if side is Side.BUY:
        budget = price + _fee(leader_rate, price) + slippage
        assert plan.limit_price + _fee(rate, plan.limit_price) <= budget
        higher = plan.limit_price + tick
        assert higher > price + slippage or higher + _fee(rate, higher) > budget or higher >= 1
    else:
        floor = price - _fee(leader_rate, price) - slippage
        lower = plan.limit_price - tick
        assert plan.limit_price == Decimal("0.99") or plan.limit_price - _fee(rate, plan.limit_price) >= floor
        assert lower < price - slippage or lower - _fee(rate, lower) < floor or lower <= 0
