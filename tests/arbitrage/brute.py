"""Brute-force reference for the detector: every contract count, Decimal money, the fee module.

Deliberately naive and independent of `arbitrage.sizing`: it walks the books level by level
for each candidate size and charges through `domain.fees`.
"""

from __future__ import annotations

from decimal import Decimal

from domain.fees import kalshi_order_fee, polymarket_fee_in_shares, polymarket_order_fee
from domain.money import CENT, MICRO, Rounding, quantize

Book = list[tuple[Decimal, Decimal]]


def walk(levels: Book, contracts: int) -> list[tuple[Decimal, Decimal]]:
    fills = []
    left = Decimal(contracts)
    for price, size in sorted(levels):
        if left <= 0:
            break
        take = min(size, left)
        fills.append((price, take))
        left -= take
    return fills


def unrounded(
    poly: Book, kalshi: Book, poly_rate: Decimal, kalshi_mult: Decimal, contracts: int, in_shares: bool = False
) -> Decimal:
    """Worst-case profit before venue rounding; `in_shares`: the Polymarket fee is withheld in tokens."""
    total = Decimal(contracts)
    for levels, rate, per_token in ((poly, poly_rate, in_shares), (kalshi, kalshi_mult, False)):
        for price, qty in walk(levels, contracts):
            total -= price * qty + rate * qty * ((1 - price) if per_token else price * (1 - price))
    return total


def charged_profit(
    poly: Book, kalshi: Book, poly_rate: Decimal, kalshi_mult: Decimal, contracts: int, in_shares: bool = False
) -> Decimal:
    pf = walk(poly, contracts)
    kf = walk(kalshi, contracts)
    poly_cost = quantize(sum((p * q for p, q in pf), Decimal(0)), MICRO, Rounding.UP)
    kalshi_cost = quantize(sum((p * q for p, q in kf), Decimal(0)), CENT, Rounding.UP)
    return (
        Decimal(contracts)
        - poly_cost
        - (polymarket_fee_in_shares(pf, poly_rate) if in_shares else polymarket_order_fee(pf, poly_rate))
        - kalshi_cost
        - kalshi_order_fee(kf, kalshi_mult)
    )


def best(
    poly: Book,
    kalshi: Book,
    poly_rate: Decimal,
    kalshi_mult: Decimal,
    *,
    min_contracts: int,
    max_contracts: int | None,
    min_edge: Decimal,
    min_profit: Decimal,
    in_shares: bool = False,
) -> tuple[int, Decimal] | None:
    depth = min(sum((s for _, s in poly), Decimal(0)), sum((s for _, s in kalshi), Decimal(0)))
    most = int(depth)
    if max_contracts is not None:
        most = min(most, max_contracts)
    worth = 0
    previous = Decimal(0)
    for contracts in range(1, most + 1):
        current = unrounded(poly, kalshi, poly_rate, kalshi_mult, contracts, in_shares)
        if current - previous < min_edge:
            break
        worth, previous = contracts, current
    found: tuple[int, Decimal] | None = None
    for contracts in range(min_contracts, worth + 1):
        profit = charged_profit(poly, kalshi, poly_rate, kalshi_mult, contracts, in_shares)
        if found is None or profit > found[1]:
            found = (contracts, profit)
    if found is None or found[1] < min_profit:
        return None
    return found
