"""Exact trading fees of both venues, rounded toward what we actually pay.

Kalshi (fee schedule, formula in effect since 2025-07-01; docs.kalshi.com "Fee Rounding"):
the trading fee of an order is ``round up(multiplier x C x P x (1 - P))`` to the next cent,
P the price in dollars, C the contract count. The taker multiplier is 0.07; some series use
0.035, and some charge makers 0.0175. A single order that walks several price levels is
charged so that "the total fee converges to what a single equivalent fill would cost"
(fee accumulator), so we charge the order once: the cent-ceiling of the summed exact
per-level fees.

Polymarket (docs.polymarket.com/trading/fees): takers on fee-enabled markets pay
``C x feeRate x p x (1 - p)`` in USDC, makers pay nothing. The venue computes it at match
time at sub-cent precision (reported as floored to 1e-5); we charge ourselves the exact
amount rounded *up* to the USDC unit (1e-6), which is never less than what is taken.
Fees are taken from what the taker receives; on a BUY that is the outcome token, so the
fee ``C x r x p(1-p)`` dollars arrives as ``C x r x (1-p)`` fewer tokens
(`polymarket_fee_in_shares`), and a hedge sized in tokens must count those.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.money import CENT, MICRO, ONE, ZERO, Rounding, check_price, quantize

KALSHI_TAKER_MULTIPLIER = Decimal("0.07")
KALSHI_REDUCED_TAKER_MULTIPLIER = Decimal("0.035")
KALSHI_MAKER_MULTIPLIER = Decimal("0.0175")

FillLevel = tuple[Decimal, Decimal]
"""(price in dollars, quantity) of one price level an order fills against."""


def _exact_fee(rate: Decimal, fills: Iterable[FillLevel], *, per_token: bool = False) -> Decimal:
    """rate x sum of q x p(1-p) (dollars), or with `per_token` rate x sum of q x (1-p) (tokens)."""
    if rate < 0:
        raise ValueError(f"fee rate must not be negative, got {rate}")
    total = ZERO
    for price, quantity in fills:
        check_price(price)
        if quantity < 0:
            raise ValueError(f"fill quantity must not be negative, got {quantity}")
        total += quantity * (ONE - price) if per_token else quantity * price * (ONE - price)
    return rate * total


def kalshi_fee(contracts: Decimal | int, price: Decimal, multiplier: Decimal = KALSHI_TAKER_MULTIPLIER) -> Decimal:
    """Fee in dollars of one Kalshi order of `contracts` at one price."""
    return kalshi_order_fee([(price, Decimal(contracts))], multiplier)


def kalshi_order_fee(fills: Iterable[FillLevel], multiplier: Decimal = KALSHI_TAKER_MULTIPLIER) -> Decimal:
    """Fee in dollars of one Kalshi order filling at several levels: one cent-ceiling for the order."""
    return quantize(_exact_fee(multiplier, fills), CENT, Rounding.UP)


def polymarket_fee(shares: Decimal | int, price: Decimal, fee_rate: Decimal) -> Decimal:
    """Taker fee in USDC of `shares` at `price`; zero on markets without fees (fee_rate 0)."""
    return polymarket_order_fee([(price, Decimal(shares))], fee_rate)


def polymarket_order_fee(fills: Iterable[FillLevel], fee_rate: Decimal) -> Decimal:
    """Taker fee in USDC of an order walking several levels, rounded up to 1e-6 USDC."""
    return quantize(_exact_fee(fee_rate, fills), MICRO, Rounding.UP)


def polymarket_fee_in_shares(fills: Iterable[FillLevel], fee_rate: Decimal) -> Decimal:
    """Tokens withheld from a BUY when the fee is collected in the token bought: the dollar fee
    divided by each fill's price, rounded up to 1e-6 tokens (what the hedge may be short)."""
    return quantize(_exact_fee(fee_rate, fills, per_token=True), MICRO, Rounding.UP)
