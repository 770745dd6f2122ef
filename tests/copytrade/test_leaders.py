"""A follow's counters: the copies' realized P&L (FIFO, fees included) and the auto-pause past a loss."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from arbitrage.saga import LegFill
from copytrade.copies import CopyState, CopyStatus, copy_intent
from copytrade.fills import FillSource, LeaderFill
from copytrade.leaders import Follow
from copytrade.rules import CopyRules
from copytrade.sizing import CopyPlan, CopyTarget
from domain.models import Market, Outcome, Side, Venue

MARKET = Market(venue=Venue.KALSHI, market_id="KX-A", title="A?", yes_token="KX-A:yes", no_token="KX-A:no")
FILL = LeaderFill(
    venue=Venue.KALSHI,
    leader="lead",
    market_id="KX-A",
    token_id="KX-A:yes",
    side=Side.BUY,
    price=Decimal("0.5"),
    size=Decimal(10),
    at=datetime(2026, 12, 6, tzinfo=UTC),
    source=FillSource.KALSHI_WS,
    venue_fill_id="f",
)


def copied(n: int, side: Side, shares: str, price: str, fees: str = "0") -> CopyStatus:
    plan = CopyPlan(side, Decimal(price), Decimal(shares))
    intent = copy_intent(f"copy-{n}", CopyTarget(market=MARKET, outcome=Outcome.YES), plan, "default")
    order = LegFill(intent=intent, filled=plan.quantity, cost=plan.notional, fees=Decimal(fees))
    return CopyStatus(workflow_id=f"copy-{n}", tenant_id="default", fill=FILL, state=CopyState.FILLED, order=order)


def test_realized_pnl_is_fifo_and_net_of_fees() -> None:
    follow = Follow(venue=Venue.KALSHI, leader="lead")
    for status in (
        copied(1, Side.BUY, "10", "0.40", "0.07"),
        copied(2, Side.BUY, "10", "0.60", "0.08"),
        copied(3, Side.SELL, "15", "0.50", "0.05"),
    ):
        follow = follow.counted(status)
    # 10 x (0.50 - 0.40) + 5 x (0.50 - 0.60) = 0.50, less 0.20 of fees
    assert follow.counters.realized_pnl == Decimal("0.30")
    assert follow.counters.lots == {"kalshi:KX-A:yes": ((Decimal(5), Decimal("0.6")),)}
    assert (follow.counters.copies, follow.counters.filled, follow.paused) == (3, 3, False)


def test_a_loss_past_the_rules_limit_pauses_the_leader_with_the_reason() -> None:
    follow = Follow(venue=Venue.KALSHI, leader="lead", rules=CopyRules(auto_pause_loss=Decimal(2)))
    follow = follow.counted(copied(1, Side.BUY, "10", "0.60"))
    follow = follow.counted(copied(2, Side.SELL, "5", "0.30"))  # -1.50: under the limit
    assert not follow.paused and follow.counters.realized_pnl == Decimal("-1.50")
    follow = follow.counted(copied(3, Side.SELL, "5", "0.50"))  # -0.50 more: -2.00 reaches it
    assert follow.paused and "lost $2.00" in follow.pause_reason and "$2" in follow.pause_reason
    assert follow.counters.lots == {}
