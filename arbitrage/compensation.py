"""Choosing how to get flat after a leg failed or filled partly (pure and deterministic: runs in the workflow).

An unmatched holding of `e` contracts that cost `a` each can be made flat three ways
(see `HedgeStrategy`). Each is priced on the current book, fees included:

    hedge loss  = e·a + cost_of_buying_the_complement(e) − e     (the pair pays 1 per contract)
    unwind loss = e·a − (proceeds_of_selling(e) − fee)

A hedge is allowed only while its loss per contract stays within the policy's budget;
unwinding is always allowed, because being flat matters more than the price of getting
there. The cheapest allowed plan wins; ties prefer hedging (it keeps the arbitrage).
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from arbitrage.saga import HedgeStrategy
from domain.models import Market, Outcome, Side, Venue
from domain.venue_rules import taker_fee

Level = tuple[Decimal, Decimal]
ZERO = Decimal(0)


class BookQuote(BaseModel):
    """Levels of one outcome of one market, best first: asks to buy from, bids to sell into."""

    model_config = ConfigDict(frozen=True)

    asks: list[Level]
    bids: list[Level]


class Walk(BaseModel):
    model_config = ConfigDict(frozen=True)

    contracts: Decimal
    notional: Decimal
    worst_price: Decimal
    fills: list[Level]


class CompensationPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    strategy: HedgeStrategy
    venue: Venue
    outcome: Outcome
    side: Side
    contracts: Decimal
    limit_price: Decimal
    expected_loss: Decimal


def walk(levels: Sequence[Level], contracts: Decimal) -> Walk | None:
    """Take `contracts` (or what the depth has) from levels best first; None when the side is empty."""
    left, notional, fills = contracts, ZERO, []
    worst = None
    for price, size in levels:
        if left <= 0:
            break
        take = min(left, size)
        if take <= 0:
            continue
        fills.append((price, take))
        notional += price * take
        left -= take
        worst = price
    if worst is None:
        return None
    return Walk(contracts=contracts - left, notional=notional, worst_price=worst, fills=fills)


def choose_plan(
    *,
    excess_contracts: Decimal,
    cost_per_contract: Decimal,
    held_market: Market,
    held_outcome: Outcome,
    held_book: BookQuote,
    same_venue_complement_book: BookQuote,
    other_market: Market,
    other_outcome: Outcome,
    other_book: BookQuote,
    loss_budget_per_contract: Decimal,
    exclude: Set[HedgeStrategy] = frozenset(),
) -> CompensationPlan | None:
    """The cheapest allowed plan for as much of the excess as the books can take.

    None when no book has depth or every way was excluded (refused by a venue this round)."""
    candidates: list[CompensationPlan] = []
    paid = cost_per_contract

    def hedge(strategy: HedgeStrategy, market: Market, outcome: Outcome, book: BookQuote) -> None:
        if strategy in exclude:
            return
        taken = walk(book.asks, excess_contracts)
        if taken is None:
            return
        loss = paid * taken.contracts + taken.notional + taker_fee(market, taken.fills) - taken.contracts
        if loss <= loss_budget_per_contract * taken.contracts:
            candidates.append(
                CompensationPlan(
                    strategy=strategy,
                    venue=market.venue,
                    outcome=outcome,
                    side=Side.BUY,
                    contracts=taken.contracts,
                    limit_price=taken.worst_price,
                    expected_loss=loss,
                )
            )

    hedge(HedgeStrategy.HEDGE_OTHER_VENUE, other_market, other_outcome, other_book)
    hedge(HedgeStrategy.HEDGE_SAME_VENUE, held_market, held_outcome.other, same_venue_complement_book)
    sold = None if HedgeStrategy.UNWIND in exclude else walk(held_book.bids, excess_contracts)
    if sold is not None:
        loss = paid * sold.contracts - (sold.notional - taker_fee(held_market, sold.fills))
        candidates.append(
            CompensationPlan(
                strategy=HedgeStrategy.UNWIND,
                venue=held_market.venue,
                outcome=held_outcome,
                side=Side.SELL,
                contracts=sold.contracts,
                limit_price=sold.worst_price,
                expected_loss=loss,
            )
        )
    if not candidates:
        return None
    order = [HedgeStrategy.HEDGE_OTHER_VENUE, HedgeStrategy.HEDGE_SAME_VENUE, HedgeStrategy.UNWIND]
    return min(
        candidates,
        key=lambda c: (-c.contracts, c.expected_loss / c.contracts, order.index(c.strategy)),
    )
