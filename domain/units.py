"""Integer units of the detector's hot path.

Prices are counted in 1e-4 dollars (the finest tick either venue lists), sizes in 1e-2
contracts (the finest size either venue shows), and money in FINE = 1e-14 dollars, the unit
in which a fee rate (1e-4) x size (1e-2) x price (1e-4) x (1 - price) (1e-4) is an integer.
With these units every cost, fee and profit is an exact integer and only the venue's own
rounding (USDC 1e-6, Kalshi cents) is applied, explicitly, by ceiling division.
"""

from __future__ import annotations

from decimal import Decimal

PRICE_SCALE = 10_000
SIZE_SCALE = 100
RATE_SCALE = 10_000
FINE_PER_DOLLAR = 10**14
FINE_PER_COST_UNIT = FINE_PER_DOLLAR // (PRICE_SCALE * SIZE_SCALE)
FINE_PER_MICRO = FINE_PER_DOLLAR // 10**6
FINE_PER_CENT = FINE_PER_DOLLAR // 100


class UnitError(ValueError):
    """A price, size or rate is finer than the hot path's integer units can hold exactly."""


def _scaled(value: Decimal, scale: int, what: str) -> int:
    scaled = value * scale
    integral = scaled.to_integral_value()
    if scaled != integral:
        raise UnitError(f"{what} {value} is finer than 1/{scale}")
    return int(integral)


def price_units(price: Decimal) -> int:
    return _scaled(price, PRICE_SCALE, "price")


def rate_units(rate: Decimal) -> int:
    return _scaled(rate, RATE_SCALE, "fee rate")


def size_units_floor(size: Decimal) -> int:
    """Book sizes finer than 1e-2 are floored: we never count on depth that may not be there."""
    return int((size * SIZE_SCALE).to_integral_value(rounding="ROUND_FLOOR"))


def fine_to_dollars(fine: int) -> Decimal:
    return Decimal(fine).scaleb(-14)


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
