"""Rules a venue imposes on every order, written once: which quantities it takes and what a taker pays.

Kalshi trades whole contracts only; Polymarket takes shares in steps of 0.01 (the signer,
venues/polymarket/orders.py, floors to that step too, so a quantity rounded here is what is
signed). Which way a quantity rounds is the caller's safety decision: a second leg rounds down
(never more than the first leg matched), a hedge that buys rounds up (flat beats a sliver left
exposed), a sale rounds down (never sell what is not held).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.fees import FillLevel, kalshi_order_fee, polymarket_order_fee
from domain.models import Market, Venue
from domain.money import ONE, Rounding, quantize

SHARE_STEP = {Venue.KALSHI: ONE, Venue.POLYMARKET: Decimal("0.01")}


def orderable(venue: Venue, quantity: Decimal, rounding: Rounding) -> Decimal:
    """`quantity` as the venue takes it: whole contracts on Kalshi, 0.01 shares on Polymarket, rounded as asked."""
    return quantize(quantity, SHARE_STEP[venue], rounding)


def taker_fee(market: Market, fills: Sequence[FillLevel]) -> Decimal:
    """What a taker order filling `fills` pays on `market`'s venue (Kalshi's standard rate when unlisted)."""
    if market.venue is Venue.KALSHI:
        return kalshi_order_fee(fills, market.taker_fee_rate) if market.taker_fee_rate else kalshi_order_fee(fills)
    return polymarket_order_fee(fills, market.taker_fee_rate)
