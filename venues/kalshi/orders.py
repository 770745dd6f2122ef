"""Our order intents in Kalshi's create-order shape, and Kalshi's order reports back as domain orders.

Kalshi prices an order on the side it trades (`yes_price` for a YES order, `no_price`
for a NO order) in integer cents, or as a 4-decimal dollar string on sub-cent
markets; contracts are whole. Anything that would need rounding is refused here:
an order must be sent exactly as the strategy priced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.models import Order, OrderIntent, Outcome, Side, TimeInForce, Venue, utc_now
from domain.money import CENT, ONE, ZERO
from venues.errors import InvalidOrderError
from venues.kalshi.parse import KalshiOrder, split_token

_TIME_IN_FORCE = {
    TimeInForce.GTC: None,
    TimeInForce.GTD: None,
    TimeInForce.FOK: "fill_or_kill",
    TimeInForce.FAK: "immediate_or_cancel",
}
_FOUR_DP = Decimal("0.0001")


def _reject(message: str) -> InvalidOrderError:
    return InvalidOrderError(Venue.KALSHI, message)


@dataclass(frozen=True, slots=True)
class KalshiOrderRequest:
    """One `POST /portfolio/orders` body; `price` is the price of `side` in dollars (None for market orders)."""

    ticker: str
    side: Outcome
    action: Side
    count: int
    price: Decimal | None
    client_order_id: str | None = None
    order_type: str = "limit"
    time_in_force: str | None = None
    expiration_ts: int | None = None
    post_only: bool | None = None
    buy_max_cost_cents: int | None = None
    reduce_only: bool | None = None

    def __post_init__(self) -> None:
        if self.count < 1:
            raise _reject(f"count must be at least 1, got {self.count}")
        if self.order_type not in ("limit", "market"):
            raise _reject(f"order type must be limit or market, got {self.order_type!r}")
        if self.order_type == "limit" and self.price is None:
            raise _reject("a limit order needs a price")
        if self.price is not None and not ZERO < self.price < ONE:
            raise _reject(f"price {self.price} must be strictly between 0 and 1")
        if self.price is not None and self.price % _FOUR_DP != 0:
            raise _reject(f"price {self.price} is finer than Kalshi's 0.0001 dollar precision")
        if self.post_only and self.time_in_force in ("fill_or_kill", "immediate_or_cancel"):
            raise _reject("post-only orders must be able to rest")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ticker": self.ticker,
            "side": self.side.value,
            "action": self.action.value,
            "count": self.count,
            "type": self.order_type,
        }
        if self.price is not None:
            prefix = "yes_price" if self.side is Outcome.YES else "no_price"
            if self.price % CENT == 0:
                body[prefix] = int(self.price / CENT)
            else:
                body[f"{prefix}_dollars"] = f"{self.price:.4f}"
        optional = {
            "client_order_id": self.client_order_id,
            "time_in_force": self.time_in_force,
            "expiration_ts": self.expiration_ts,
            "post_only": self.post_only,
            "buy_max_cost": self.buy_max_cost_cents,
            "reduce_only": self.reduce_only,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body


def request_from_intent(intent: OrderIntent) -> KalshiOrderRequest:
    """A limit order for `intent`; GTD becomes `expiration_ts` (whole seconds, never later than asked)."""
    if intent.venue is not Venue.KALSHI:
        raise _reject(f"intent {intent.client_order_id} is for {intent.venue.value}")
    ticker, outcome = split_token(intent.token_id)
    if ticker != intent.market_id or outcome is not intent.outcome:
        raise _reject(f"token {intent.token_id} does not match {intent.market_id} {intent.outcome.value}")
    if intent.quantity != intent.quantity.to_integral_value():
        raise _reject(f"Kalshi orders are whole contracts, got {intent.quantity}")
    expiration_ts = None
    if intent.time_in_force is TimeInForce.GTD:
        if intent.expires_at is None:
            raise _reject("a GTD order needs expires_at")
        expiration_ts = int(intent.expires_at.timestamp())
    return KalshiOrderRequest(
        ticker=ticker,
        side=intent.outcome,
        action=intent.side,
        count=int(intent.quantity),
        price=intent.price,
        client_order_id=intent.client_order_id,
        time_in_force=_TIME_IN_FORCE[intent.time_in_force],
        expiration_ts=expiration_ts,
        post_only=intent.post_only or None,
    )


def to_domain_order(intent: OrderIntent, report: KalshiOrder) -> Order:
    """Kalshi's report of the order placed for `intent` as a domain `Order`."""
    if report.client_order_id is not None and report.client_order_id != intent.client_order_id:
        raise ValueError(f"report for {report.client_order_id} does not belong to {intent.client_order_id}")
    now = utc_now()
    return Order(
        intent=intent,
        venue_order_id=report.order_id,
        status=report.status,
        filled_quantity=report.fill_count,
        average_price=report.average_price,
        fees_paid=report.fees,
        created_at=report.created_at or now,
        updated_at=now,
    )
