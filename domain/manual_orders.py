"""A manual order: one limit order a person asked for, on either venue, through the same order
activities and risk limits as every automated trade.

Checked against its market before anything is reserved or sent, so an off-tick price, a size below
the venue's minimum or a closed market is refused with a reason a person can act on.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.accounts import TenantId
from domain.models import Market, Outcome, Side, TimeInForce, Venue

MAX_REST_SECONDS = 24 * 3600


class ManualOrderState(StrEnum):
    CHECKING = "checking"
    REFUSED = "refused"
    PLACED = "placed"
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    UNFILLED = "unfilled"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self not in (ManualOrderState.CHECKING, ManualOrderState.PLACED)


class ManualOrder(BaseModel):
    """`rest_seconds` = 0 is fill-and-kill (take what is there at the limit, never rest); more lets a
    GTC order rest that long, or until it is cancelled, whichever comes first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: Venue
    market_id: str = Field(min_length=1, max_length=200)
    outcome: Outcome
    side: Side
    price: Decimal = Field(gt=0, lt=1)
    quantity: Decimal = Field(gt=0, le=Decimal(1_000_000))
    rest_seconds: int = Field(default=0, ge=0, le=MAX_REST_SECONDS)

    @property
    def time_in_force(self) -> TimeInForce:
        return TimeInForce.GTC if self.rest_seconds else TimeInForce.FAK

    @property
    def worst_case_cost(self) -> Decimal:
        """What the order can cost at most, in dollars: a buy pays its limit, a sell risks the other side."""
        per_contract = self.price if self.side is Side.BUY else 1 - self.price
        return per_contract * self.quantity

    def describe(self) -> str:
        how = f"GTC for {self.rest_seconds} s" if self.rest_seconds else "FAK"
        return (
            f"{self.side.value.upper()} {self.quantity} {self.outcome.value.upper()} of {self.market_id} "
            f"on {self.venue.value} at {self.price} ({how})"
        )


class ManualOrderInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: TenantId
    order: ManualOrder
    actor: str = ""


class ManualOrderStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    tenant_id: TenantId
    order: ManualOrder
    state: ManualOrderState = ManualOrderState.CHECKING
    reason: str = ""
    filled: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    venue_order_id: str | None = None
    cancel_requested: bool = False


def market_problem(order: ManualOrder, market: Market) -> str | None:
    """Why the venue would refuse this order, said before it is sent; None when it may go."""
    if market.closed or not market.active:
        return f"{market.market_id} is not open for trading"
    if order.price % market.tick_size:
        return f"price {order.price} is not on the market's tick of {market.tick_size}"
    if order.venue is Venue.KALSHI and order.quantity != order.quantity.to_integral_value():
        return f"Kalshi trades whole contracts, not {order.quantity}"
    if order.quantity < market.min_order_size:
        return f"size {order.quantity} is below the market's minimum of {market.min_order_size}"
    return None
