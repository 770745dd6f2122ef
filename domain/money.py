"""Exact money and price arithmetic shared by every venue.

Prices are dollars per contract as `Decimal` in [0, 1]. Each venue settles in its
own integer unit (Kalshi cents, USDC 1e-6 on Polygon), so every conversion names
its rounding: a conversion that can lose value must say which way it rounds, and
callers pick the direction that is safe for them (pay more / receive less).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

ONE = Decimal(1)
ZERO = Decimal(0)
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
USDC_DECIMALS = 6


class Rounding(StrEnum):
    """Direction of an explicit rounding; UP and DOWN are toward +inf and -inf."""

    UP = "up"
    DOWN = "down"
    EXACT = "exact"


class InexactAmountError(ValueError):
    """An amount asked to convert exactly is not representable in the target unit."""


def quantize(value: Decimal, step: Decimal, rounding: Rounding) -> Decimal:
    """Round `value` to a multiple of `step` in the given direction."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    units = value / step
    if rounding is Rounding.EXACT:
        if units != units.to_integral_value():
            raise InexactAmountError(f"{value} is not a multiple of {step}")
        return units.to_integral_value() * step
    mode = ROUND_CEILING if rounding is Rounding.UP else ROUND_FLOOR
    return units.to_integral_value(rounding=mode) * step


def to_units(value: Decimal, unit: Decimal, rounding: Rounding) -> int:
    """Dollars (or shares) to an integer count of `unit`."""
    return int(quantize(value, unit, rounding) / unit)


def dollars_to_cents(value: Decimal, rounding: Rounding = Rounding.EXACT) -> int:
    return to_units(value, CENT, rounding)


def cents_to_dollars(cents: int) -> Decimal:
    return Decimal(cents) * CENT


def dollars_to_micro(value: Decimal, rounding: Rounding = Rounding.EXACT) -> int:
    return to_units(value, MICRO, rounding)


def micro_to_dollars(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-USDC_DECIMALS)


def check_price(price: Decimal) -> Decimal:
    """Reject a binary-contract price outside [0, 1]; prices at 0 or 1 are legal book levels."""
    if not ZERO <= price <= ONE:
        raise ValueError(f"price {price} outside [0, 1]")
    return price
