"""Hand-checked fee cases for both venues, plus the rounding laws as properties."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fees import (
    KALSHI_MAKER_MULTIPLIER,
    KALSHI_REDUCED_TAKER_MULTIPLIER,
    kalshi_fee,
    kalshi_order_fee,
    polymarket_fee,
    polymarket_fee_in_shares,
    polymarket_order_fee,
)


@pytest.mark.parametrize(
    ("contracts", "price", "expected"),
    [
        (1, "0.50", "0.02"),  # 0.0175 rounds up
        (10, "0.50", "0.18"),  # 0.175 rounds up
        (100, "0.50", "1.75"),  # exactly on a cent: no rounding
        (1, "0.01", "0.01"),  # 0.000693 rounds up to one cent
        (1, "0.99", "0.01"),
        (100, "0.05", "0.34"),  # 0.3325
        (100, "0.10", "0.63"),  # exactly 0.63
        (100, "0.25", "1.32"),  # 1.3125
        (10_000, "0.50", "175.00"),
        (10_000, "0.01", "6.93"),  # exactly 6.93
        (10_000, "0.37", "163.17"),  # 163.1700 exactly
        (9_999, "0.37", "163.16"),  # 163.153683 rounds up
        (5, "0.00", "0.00"),
        (5, "1.00", "0.00"),
        (0, "0.50", "0.00"),
    ],
)
def test_kalshi_taker_fee_hand_checked(contracts: int, price: str, expected: str) -> None:
    assert kalshi_fee(contracts, D(price)) == D(expected)


def test_kalshi_other_multipliers() -> None:
    assert kalshi_fee(100, D("0.50"), KALSHI_REDUCED_TAKER_MULTIPLIER) == D("0.88")  # 0.875
    assert kalshi_fee(10, D("0.50"), KALSHI_MAKER_MULTIPLIER) == D("0.05")  # 0.04375
    assert kalshi_fee(400, D("0.50"), KALSHI_MAKER_MULTIPLIER) == D("1.75")  # exactly


def test_kalshi_fee_is_charged_once_per_order_across_levels() -> None:
    fills = [(D("0.40"), D(3)), (D("0.41"), D(2))]
    # 0.07 * (3*0.24 + 2*0.2419) = 0.084266 -> 0.09, less than two separately rounded orders.
    assert kalshi_order_fee(fills) == D("0.09")
    assert kalshi_fee(3, D("0.40")) + kalshi_fee(2, D("0.41")) == D("0.10")


@pytest.mark.parametrize(
    ("shares", "price", "rate", "expected"),
    [
        ("100", "0.50", "0.03", "0.75"),
        ("1", "0.01", "0.07", "0.000693"),
        ("1", "0.99", "0.07", "0.000693"),
        ("3", "0.333", "0.07", "0.046644"),  # 0.04664331 rounds up to the USDC unit
        ("10000", "0.99", "0.04", "3.96"),
        ("12.34", "0.5", "0.07", "0.215950"),  # exactly 0.21595
        ("100", "0.50", "0", "0"),
    ],
)
def test_polymarket_fee_hand_checked(shares: str, price: str, rate: str, expected: str) -> None:
    assert polymarket_fee(D(shares), D(price), D(rate)) == D(expected)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        kalshi_fee(1, D("1.01"))
    with pytest.raises(ValueError):
        polymarket_fee(D(-1), D("0.5"), D("0.03"))
    with pytest.raises(ValueError):
        polymarket_fee(D(1), D("0.5"), D("-0.01"))


cents = st.integers(min_value=0, max_value=100).map(lambda c: D(c) / 100)


@given(st.integers(min_value=0, max_value=100_000), cents)
def test_kalshi_fee_is_the_smallest_cent_amount_covering_the_exact_fee(contracts: int, price: D) -> None:
    exact = D("0.07") * contracts * price * (1 - price)
    fee = kalshi_fee(contracts, price)
    assert fee == fee.quantize(D("0.01"))
    assert exact <= fee < exact + D("0.01")


@given(
    st.lists(st.tuples(cents, st.integers(min_value=0, max_value=10_000).map(D)), max_size=6),
    st.sampled_from([D(0), D("0.03"), D("0.04"), D("0.07")]),
)
def test_polymarket_fee_rounds_up_to_one_usdc_unit(fills: list[tuple[D, D]], rate: D) -> None:
    exact = rate * sum((q * p * (1 - p) for p, q in fills), D(0))
    fee = polymarket_order_fee(fills, rate)
    assert exact <= fee < exact + D("0.000001")


def test_polymarket_fee_withheld_in_tokens_on_a_buy() -> None:
    # 100 @ 0.40, rate 0.03: fee 0.72 USDC = 1.8 tokens at 0.40 (0.03 * 100 * 0.60)
    assert polymarket_fee(100, D("0.40"), D("0.03")) == D("0.72")
    assert polymarket_fee_in_shares([(D("0.40"), D(100))], D("0.03")) == D("1.8")
    # 3 @ 0.333, rate 0.07: 0.07 * 3 * 0.667 = 0.14007 tokens exactly
    assert polymarket_fee_in_shares([(D("0.333"), D(3))], D("0.07")) == D("0.14007")
    # 7 @ 0.3331: 0.07 * 7 * 0.6669 = 0.326781 exactly; 0.07 * 7.01 * 0.6669 = 0.32724783 rounds up
    assert polymarket_fee_in_shares([(D("0.3331"), D("7.01"))], D("0.07")) == D("0.327248")
