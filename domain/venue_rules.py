"""Rules a venue imposes on every order, written once: which quantities it takes and what a taker pays.

Kalshi trades whole contracts only; Polymarket takes fractional shares (its own 0.01 size step
is applied where the order is signed, venues/polymarket/orders.py). Which way a quantity rounds
is the caller's safety decision: a second leg rounds down (never more than the first leg
matched), a hedge that buys rounds up (flat beats a sliver left exposed), a sale rounds down
(never sell what is not held).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.fees import FillLevel, kalshi_order_fee, polymarket_order_fee
from domain.models import Market, Venue
from domain.money import ONE, Rounding, quantize


def orderable(venue: Venue, quantity: Decimal, rounding: Rounding) -> Decimal:
    """`quantity` as the venue takes it: whole contracts on Kalshi (rounded as asked), as is elsewhere."""
    if venue is Venue.KALSHI:
        return quantize(quantity, ONE, rounding)
    return quantity


def taker_fee(market: Market, fills: Sequence[FillLevel]) -> Decimal:
    """What a taker order filling `fills` pays on `market`'s venue (Kalshi's standard rate when unlisted)."""
    if market.venue is Venue.KALSHI:
        return kalshi_order_fee(fills, market.taker_fee_rate) if market.taker_fee_rate else kalshi_order_fee(fills)
    return polymarket_order_fee(fills, market.taker_fee_rate)
