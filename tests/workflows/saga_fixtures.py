"""A matched pair, its two fake venues and an opportunity on them, shared by the saga tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from temporalio.client import Client

from arbitrage.opportunity import Direction, Opportunity, OpportunityLeg
from domain.fees import kalshi_order_fee
from domain.models import Market, MarketPair, Outcome, PairStatus, Venue
from tests.fakes.venue import FakeVenue

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)

POLY = Market(venue=Venue.POLYMARKET, market_id="0xcond", title="Will it rain?", yes_token="111", no_token="222")
KALSHI = Market(
    venue=Venue.KALSHI, market_id="KXRAIN-26", title="Rain?", yes_token="KXRAIN-26:yes", no_token="KXRAIN-26:no"
)
PAIR = MarketPair(pair_id="pair-rain", polymarket=POLY, kalshi=KALSHI, status=PairStatus.CONFIRMED)


def venues() -> dict[Venue, FakeVenue]:
    """Polymarket YES 0.38/0.40; Kalshi YES 0.55/0.57, so Kalshi NO asks at 0.45: 0.85 for a $1 pair."""
    poly = FakeVenue(Venue.POLYMARKET)
    poly.set_book(POLY.market_id, [("0.38", "100")], [("0.40", "100"), ("0.42", "100")])
    kalshi = FakeVenue(Venue.KALSHI)
    kalshi.set_book(KALSHI.market_id, [("0.55", "100"), ("0.53", "100")], [("0.57", "100")])
    return {Venue.POLYMARKET: poly, Venue.KALSHI: kalshi}


def opportunity(contracts: int = 10, opportunity_id: str = "opp-1") -> Opportunity:
    c = Decimal(contracts)
    kalshi_fee = kalshi_order_fee([(Decimal("0.45"), c)])
    return Opportunity(
        opportunity_id=opportunity_id,
        pair_id=PAIR.pair_id,
        direction=Direction.POLYMARKET_YES,
        contracts=contracts,
        polymarket=OpportunityLeg(
            venue=Venue.POLYMARKET,
            market_id=POLY.market_id,
            token_id=POLY.yes_token,
            outcome=Outcome.YES,
            limit_price=Decimal("0.40"),
            contracts=contracts,
            fills=((Decimal("0.40"), c),),
            cost=Decimal("0.40") * c,
            fee=Decimal(0),
        ),
        kalshi=OpportunityLeg(
            venue=Venue.KALSHI,
            market_id=KALSHI.market_id,
            token_id=KALSHI.no_token,
            outcome=Outcome.NO,
            limit_price=Decimal("0.45"),
            contracts=contracts,
            fills=((Decimal("0.45"), c),),
            cost=Decimal("0.45") * c,
            fee=kalshi_fee,
        ),
        expected_profit=c - Decimal("0.85") * c - kalshi_fee,
        detected_at=T0,
        polymarket_book_at=T0,
        kalshi_book_at=T0,
    )


async def end_follows(client: Client, tenant: str) -> None:
    """Terminate a test tenant's leader workflows, so later tests on the shared dev server never query
    follows whose worker is gone."""
    query = "WorkflowType = 'CopyLeader' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        if execution.id.startswith(f"copy-leader-{tenant}-"):
            await client.get_workflow_handle(execution.id).terminate("test over")
