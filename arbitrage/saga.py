"""What an arbitrage saga takes, the states it moves through, and what it reports.

Kept apart from the workflow so the hot process, activities, the CLI and tests can
import them without pulling in workflow code.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from arbitrage.opportunity import Opportunity, OpportunityLeg
from domain.accounts import DEFAULT_TENANT, AccountRef, TenantId
from domain.models import MarketPair, Order, OrderIntent, Outcome, Side, TimeInForce, Venue
from domain.money import MICRO, Rounding, quantize

DEFAULT_ACCOUNT_REF = AccountRef()


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArbState(StrEnum):
    PENDING = "Pending"
    LEG1_INITIATED = "Leg1Initiated"
    LEG1_FILLED = "Leg1Filled"
    LEG2_INITIATED = "Leg2Initiated"
    COMPLETED = "Completed"
    FAILED = "Failed"
    COMPENSATING = "Compensating"
    COMPENSATED = "Compensated"

    @property
    def is_final(self) -> bool:
        return self in (ArbState.COMPLETED, ArbState.FAILED, ArbState.COMPENSATED)


class HedgeStrategy(StrEnum):
    """How an unmatched quantity is made flat.

    HEDGE_OTHER_VENUE buys the missing leg where it failed, at a worse price;
    HEDGE_SAME_VENUE buys the complementary outcome beside the filled leg (YES + NO pays 1);
    UNWIND sells the filled excess back.
    """

    HEDGE_OTHER_VENUE = "hedge_other_venue"
    HEDGE_SAME_VENUE = "hedge_same_venue"
    UNWIND = "unwind"


class LegOrder(StrEnum):
    CONCURRENT = "concurrent"
    RISKIER_FIRST = "riskier_first"


class SagaPolicy(_Model):
    """`pre_trade_approval`: reserve room with the tenant's risk supervisor before any leg (off only in tests)."""

    pre_trade_approval: bool = True
    leg_order: LegOrder = LegOrder.CONCURRENT
    riskier_venue: Venue = Venue.POLYMARKET
    hedge_loss_budget: Decimal = Field(default=Decimal("0.05"), ge=0, description="max loss per contract to hedge")
    hedge_tolerance: Decimal = Field(default=Decimal(0), ge=0, description="unmatched contracts left as acceptable")
    max_compensation_attempts: int = Field(default=30, ge=1)
    compensation_backoff: timedelta = timedelta(seconds=1)
    max_compensation_backoff: timedelta = timedelta(seconds=30)
    order_timeout: timedelta = timedelta(seconds=10)


class ArbSagaInput(_Model):
    """`admitted`: the hot process already ran the pre-trade checks (streamers/admission.py), so the saga
    places its legs at once and hands the reservation to the supervisor alongside."""

    opportunity: Opportunity
    pair: MarketPair
    policy: SagaPolicy = SagaPolicy()
    tenant_id: TenantId = DEFAULT_TENANT
    admitted: bool = False


class FillOutcome(StrEnum):
    """What one placement came to, before each workflow names it in its own states."""

    REFUSED = "refused"
    NOTHING = "nothing"
    PARTIAL = "partial"
    FULL = "full"


class LegFill(_Model):
    """What one placement actually did, in contracts and dollars (fees included in `fees`)."""

    intent: OrderIntent
    filled: Decimal
    cost: Decimal
    fees: Decimal
    venue_order_id: str | None = None
    rejected: str | None = None

    @classmethod
    def from_order(cls, order: Order) -> LegFill:
        """Notional rounded to the USDC unit against us: a buy cost up, a sale's proceeds down."""
        price = order.average_price if order.average_price is not None else order.intent.price
        rounding = Rounding.UP if order.intent.side is Side.BUY else Rounding.DOWN
        return cls(
            intent=order.intent,
            filled=order.filled_quantity,
            cost=quantize(order.filled_quantity * price, MICRO, rounding),
            fees=order.fees_paid,
            venue_order_id=order.venue_order_id,
            rejected=order.reject_reason,
        )

    @property
    def outcome(self) -> FillOutcome:
        if self.filled <= 0:
            return FillOutcome.REFUSED if self.rejected else FillOutcome.NOTHING
        return FillOutcome.PARTIAL if self.filled < self.intent.quantity else FillOutcome.FULL

    def reason(self, nothing: str) -> str:
        """Why the outcome is what it is, in the workflow's words for a fill of nothing (`nothing`)."""
        return {
            FillOutcome.REFUSED: self.rejected or "",
            FillOutcome.NOTHING: nothing,
            FillOutcome.PARTIAL: f"{self.filled} of {self.intent.quantity} filled",
            FillOutcome.FULL: "",
        }[self.outcome]

    @classmethod
    def rejected_intent(cls, intent: OrderIntent, reason: str) -> LegFill:
        return cls(intent=intent, filled=Decimal(0), cost=Decimal(0), fees=Decimal(0), rejected=reason)


class Holding(_Model):
    """Contracts of one outcome on one venue, with what they cost (fees included)."""

    venue: Venue
    market_id: str
    token_id: str
    outcome: Outcome
    contracts: Decimal
    cost: Decimal


class SagaStatus(_Model):
    """The answer to the `state` query and the record the saga leaves behind."""

    workflow_id: str
    tenant_id: TenantId = DEFAULT_TENANT
    opportunity_id: str
    pair_id: str
    state: ArbState
    hedge_strategy: HedgeStrategy | None = None
    legs: list[LegFill] = []
    compensations: list[LegFill] = []
    unmatched: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    alerts: list[str] = []


def client_order_id(workflow_id: str, role: str, attempt: int = 0) -> str:
    """Deterministic per workflow, leg and attempt: a retried placement reuses it and cannot place twice."""
    digest = hashlib.sha256(f"{workflow_id}|{role}|{attempt}".encode()).hexdigest()
    return f"ie-{digest[:29]}"


def leg_intent(
    workflow_id: str, leg: OpportunityLeg, role: str, contracts: Decimal, account: AccountRef = DEFAULT_ACCOUNT_REF
) -> OrderIntent:
    """A leg's FAK buy at its limit price, under the saga's own client order id for `role`."""
    return OrderIntent(
        client_order_id=client_order_id(workflow_id, role),
        venue=leg.venue,
        market_id=leg.market_id,
        token_id=leg.token_id,
        outcome=leg.outcome,
        side=Side.BUY,
        price=leg.limit_price,
        quantity=contracts,
        time_in_force=TimeInForce.FAK,
        account=account,
    )


def concurrent_leg_intents(
    workflow_id: str, opportunity: Opportunity, account: AccountRef = DEFAULT_ACCOUNT_REF
) -> tuple[OrderIntent, OrderIntent]:
    """Both legs as a saga with `LegOrder.CONCURRENT` places them: the hot process sends the very same
    orders ahead of the saga (activities/send_ahead.py), so they must come from this one function."""
    contracts = Decimal(opportunity.contracts)
    return (
        leg_intent(workflow_id, opportunity.polymarket, "leg1", contracts, account),
        leg_intent(workflow_id, opportunity.kalshi, "leg2", contracts, account),
    )


def workflow_id_for(tenant_id: TenantId, opportunity_id: str) -> str:
    """The tenant is part of the id: two tenants trading the same window start two sagas, never collide."""
    return f"arb-{tenant_id}-{opportunity_id}"
