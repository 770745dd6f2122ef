"""The exact sizer against the brute force: never reports more profit, and finds the optimum."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from arbitrage.sizing import Leg, LegTerms, SizingLimits, best_size
from domain.units import fine_to_dollars, price_units, rate_units, size_units_floor
from tests.arbitrage import brute

poly_prices = st.integers(min_value=200, max_value=700).map(lambda t: Decimal(t) / 1000)
kalshi_prices = st.integers(min_value=25, max_value=80).map(lambda c: Decimal(c) / 100)
sizes = st.integers(min_value=1, max_value=6000).map(lambda c: Decimal(c) / 100)
whole = st.integers(min_value=1, max_value=60).map(Decimal)


def book(prices: st.SearchStrategy[Decimal], qty: st.SearchStrategy[Decimal]) -> st.SearchStrategy:
    return st.dictionaries(prices, qty, min_size=1, max_size=6).map(lambda d: sorted(d.items()))


def leg(levels: list[tuple[Decimal, Decimal]], terms: LegTerms) -> Leg:
    return Leg([(price_units(p), size_units_floor(s)) for p, s in levels], terms)


@settings(max_examples=300, deadline=None)
@given(
    poly=book(poly_prices, sizes),
    kalshi=book(kalshi_prices, st.one_of(whole, sizes)),
    poly_rate=st.sampled_from(["0", "0.03", "0.07"]).map(Decimal),
    kalshi_mult=st.sampled_from(["0.07", "0.035"]).map(Decimal),
    min_contracts=st.sampled_from([1, 5]),
    max_contracts=st.sampled_from([None, 7, 40]),
    min_edge=st.sampled_from(["0.0001", "0.001", "0.01"]).map(Decimal),
    min_profit=st.sampled_from(["0.01", "0.05"]).map(Decimal),
    in_shares=st.booleans(),
)
def test_reported_profit_matches_brute_force(
    poly, kalshi, poly_rate, kalshi_mult, min_contracts, max_contracts, min_edge, min_profit, in_shares
) -> None:
    limits = SizingLimits(
        min_contracts=min_contracts,
        max_contracts=max_contracts,
        min_edge_fine=int(min_edge * 10**14),
        min_profit_fine=int(min_profit * 10**14),
    )
    found = best_size(
        leg(poly, LegTerms.polymarket(rate_units(poly_rate), in_shares)),
        leg(kalshi, LegTerms.kalshi(rate_units(kalshi_mult))),
        limits,
    )
    expected = brute.best(
        poly,
        kalshi,
        poly_rate,
        kalshi_mult,
        min_contracts=min_contracts,
        max_contracts=max_contracts,
        min_edge=min_edge,
        min_profit=min_profit,
        in_shares=in_shares,
    )
    if expected is None:
        assert found is None
        return
    assert found is not None
    reported = fine_to_dollars(found.profit)
    # The profit it reports is what the venues would actually charge for that size...
    assert reported == brute.charged_profit(poly, kalshi, poly_rate, kalshi_mult, found.contracts, in_shares)
    # ...and it is the best any size can do.
    assert (found.contracts, reported) == expected


def test_kalshi_rounding_makes_a_smaller_size_better() -> None:
    # 0.45 + 0.50 leaves 5 cents per contract; the Kalshi fee 0.07*C*0.25 rounds up per order.
    poly = leg([(Decimal("0.45"), Decimal(100))], LegTerms.polymarket(0))
    kalshi = leg([(Decimal("0.50"), Decimal(100))], LegTerms.kalshi(rate_units(Decimal("0.07"))))
    found = best_size(poly, kalshi, SizingLimits(min_edge_fine=10**10))
    assert found is not None
    assert found.contracts == 100
    # 100 * 0.05 - 1.75 = 3.25 exactly
    assert fine_to_dollars(found.profit) == Decimal("3.25")
    capped = best_size(poly, kalshi, SizingLimits(max_contracts=2, min_edge_fine=10**10))
    assert capped is not None
    # C=2: 0.10 - ceil(0.035)=0.04 -> 0.06; C=1: 0.05 - 0.02 = 0.03
    assert (capped.contracts, fine_to_dollars(capped.profit)) == (2, Decimal("0.06"))


def test_no_cross_means_no_size() -> None:
    poly = leg([(Decimal("0.55"), Decimal(100))], LegTerms.polymarket(0))
    kalshi = leg([(Decimal("0.45"), Decimal(100))], LegTerms.kalshi(700))
    assert best_size(poly, kalshi, SizingLimits()) is None


def test_cent_rounding_can_make_one_contract_fewer_as_good_and_it_is_preferred() -> None:
    # Edge 0.02 - 0.0175 fee per contract. C=9: 0.18 - ceil(0.1575)=0.16 -> 0.02;
    # C=8: 0.16 - ceil(0.14)=0.14 -> 0.02; the same profit for less capital wins.
    poly = leg([(Decimal("0.48"), Decimal(9))], LegTerms.polymarket(0))
    kalshi = leg([(Decimal("0.50"), Decimal(9))], LegTerms.kalshi(700))
    found = best_size(poly, kalshi, SizingLimits(min_profit_fine=10**12))
    assert found is not None
    assert (found.contracts, fine_to_dollars(found.profit)) == (8, Decimal("0.02"))


def test_cent_rounding_can_make_a_smaller_size_strictly_better() -> None:
    # Polymarket YES 0.461 (fee rate 0.04) + Kalshi NO 0.51 (0.07), 10 contracts deep each:
    # every contract adds edge, but at 10 the Kalshi fee 0.07*10*0.2499=0.17493 rounds up to 0.18
    # and the profit is 0.010608, while 8 contracts keep 0.012486 (hand-checked with the brute force).
    poly = leg([(Decimal("0.461"), Decimal(10))], LegTerms.polymarket(400))
    kalshi = leg([(Decimal("0.51"), Decimal(10))], LegTerms.kalshi(700))
    found = best_size(poly, kalshi, SizingLimits(min_profit_fine=10**12))
    assert found is not None
    assert (found.contracts, fine_to_dollars(found.profit)) == (8, Decimal("0.012486"))


def test_fee_withheld_in_tokens_costs_more_than_the_same_fee_in_usdc() -> None:
    # 100 @ 0.40 on Polymarket (rate 0.03) + 100 Kalshi NO @ 0.50 (0.07): fee in USDC 0.72,
    # in tokens 1.8 (worth $1.80 in the state where the Polymarket leg pays).
    levels = [(Decimal("0.40"), Decimal(100))]
    kalshi = leg([(Decimal("0.50"), Decimal(100))], LegTerms.kalshi(700))
    usdc = best_size(leg(levels, LegTerms.polymarket(300)), kalshi, SizingLimits())
    tokens = best_size(leg(levels, LegTerms.polymarket(300, fee_in_shares=True)), kalshi, SizingLimits())
    assert usdc is not None and tokens is not None
    assert fine_to_dollars(usdc.profit) == Decimal("100") - 40 - Decimal("0.72") - 50 - Decimal("1.75")
    assert fine_to_dollars(tokens.profit) == Decimal("100") - 40 - Decimal("1.8") - 50 - Decimal("1.75")
