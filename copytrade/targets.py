"""Where a leader's fill is copied: the same outcome, the other one (reverse copy), or the confirmed twin.

Cross-venue copies use only confirmed pairs, with the outcome alignment the pair records (the
Kalshi outcome that pays exactly when the Polymarket one does), so a copy on the twin holds the
same bet as the leader's.
"""

from __future__ import annotations

from collections.abc import Iterable

from copytrade.fills import LeaderFill
from copytrade.rules import CopyRules
from copytrade.sizing import CopyTarget, Skip
from domain.models import Market, MarketPair, Outcome, PairStatus, Venue


def outcome_of(market: Market, token_id: str) -> Outcome | None:
    """Which outcome of `market` the token is (None: not one of its tokens)."""
    if token_id == market.yes_token:
        return Outcome.YES
    if token_id == market.no_token:
        return Outcome.NO
    return None


def copy_target(fill: LeaderFill, rules: CopyRules, market: Market, pairs: Iterable[MarketPair]) -> CopyTarget | Skip:
    """`market` is the market the leader traded (as its venue lists it); `pairs` the tenant's pairs."""
    outcome = outcome_of(market, fill.token_id)
    if outcome is None:
        return Skip(f"token {fill.token_id} is not an outcome of market {market.market_id}")
    if market.closed or not market.active:
        return Skip(f"market {market.market_id} is not open for trading")
    if rules.reverse:
        outcome = outcome.other
    if not rules.cross_venue:
        return CopyTarget(market=market, outcome=outcome, complement=rules.reverse)
    for pair in pairs:
        if pair.status is not PairStatus.CONFIRMED:
            continue
        if fill.venue is Venue.POLYMARKET and pair.polymarket.market_id == market.market_id:
            return CopyTarget(
                market=pair.kalshi,
                outcome=pair.kalshi_outcome(outcome),
                complement=rules.reverse,
                leader_fee_rate=market.taker_fee_rate,
            )
        if fill.venue is Venue.KALSHI and pair.kalshi.market_id == market.market_id:
            poly = outcome if pair.kalshi_outcome(outcome) is outcome else outcome.other
            return CopyTarget(
                market=pair.polymarket, outcome=poly, complement=rules.reverse, leader_fee_rate=market.taker_fee_rate
            )
    return Skip(f"no confirmed pair for {market.venue.value} market {market.market_id}: cross-venue copy needs one")
