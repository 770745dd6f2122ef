"""What crosses the risk boundary: trade requests, decisions, limits and saga outcomes.

Pydantic models, so they travel through Temporal with the pydantic data converter
(exact `Decimal`) and carry their own input validation.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.accounts import DEFAULT_TENANT, TENANT_ID, TenantId
from domain.models import Outcome, Price, Side, UtcDatetime, Venue
from domain.money import ONE


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TradeLeg(_Frozen):
    """One order of a proposed trade; `fee` is the expected fee for the whole leg, in dollars."""

    venue: Venue
    market_id: str = Field(min_length=1)
    outcome: Outcome
    side: Side
    price: Price
    quantity: Decimal = Field(gt=0)
    fee: Decimal = Field(default=Decimal(0), ge=0)

    @property
    def at_risk(self) -> Decimal:
        """The most this leg can lose, which is also the cash it ties up.

        A buy loses its cost if the outcome pays 0; a sell (short) loses 1 - price per
        contract if it pays 1. The fee is lost either way.
        """
        per_contract = self.price if self.side is Side.BUY else ONE - self.price
        return per_contract * self.quantity + self.fee


class TradeKind(StrEnum):
    ARBITRAGE = "arbitrage"
    COPY = "copy"
    MANUAL = "manual"


class TradeRequest(_Frozen):
    """Any proposed trade (an arbitrage saga, a copy, a manual order): its legs are reserved together
    or not at all. `saga_id` is the id of the workflow that will trade it (the field keeps its first
    name so recorded histories still decode); `pair_id` is set when the trade is one side of a pair."""

    saga_id: str = Field(min_length=1, max_length=200)
    pair_id: str | None = Field(default=None, min_length=1)
    legs: tuple[TradeLeg, ...] = Field(min_length=1, max_length=4)
    kind: TradeKind = TradeKind.ARBITRAGE
    tenant_id: TenantId = Field(default=DEFAULT_TENANT, pattern=TENANT_ID)

    @property
    def at_risk(self) -> Decimal:
        return sum((leg.at_risk for leg in self.legs), Decimal(0))


class RejectCode(StrEnum):
    KILL_SWITCH = "kill_switch"
    CIRCUIT_BREAKER = "circuit_breaker"
    MAX_OPEN_SAGAS = "max_open_sagas"
    DAILY_LOSS = "daily_loss"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    MARKET_POSITION = "market_position"
    VENUE_POSITION = "venue_position"
    TOTAL_POSITION = "total_position"
    VENUE_EXPOSURE = "venue_exposure"
    TOTAL_EXPOSURE = "total_exposure"
    UNAVAILABLE = "unavailable"
    DUPLICATE = "duplicate"


class Decision(_Frozen):
    """Approve, or reject with a machine-readable code and a message for humans: the one answer every
    trade gets, from the hot process's admission and from the supervisor alike."""

    saga_id: str
    approved: bool
    code: RejectCode | None = None
    message: str = ""


class Limits(_Frozen):
    """Every tunable of the risk manager; `set-limit KEY VALUE` addresses these field names.

    Contracts and dollars are Decimal; counts and seconds are integers. Position and
    exposure limits bound held + reserved + requested (a request may reach a limit, not pass
    it); new sagas stop once the UTC day's net realized loss (saga reports, fees included)
    reaches `max_daily_loss`. A breaker cool-down of 0 means the breaker stays open until an
    operator resets it.
    """

    max_contracts_per_market: Decimal = Field(default=Decimal(1000), ge=0)
    max_contracts_per_venue: Decimal = Field(default=Decimal(5000), ge=0)
    max_contracts_total: Decimal = Field(default=Decimal(10000), ge=0)
    max_exposure_per_venue: Decimal = Field(default=Decimal(500), ge=0)
    max_exposure_total: Decimal = Field(default=Decimal(1000), ge=0)
    max_daily_loss: Decimal = Field(default=Decimal(100), ge=0)
    max_open_sagas: int = Field(default=5, ge=0)
    breaker_max_failures: int = Field(default=3, ge=1)
    breaker_window_seconds: int = Field(default=600, ge=1)
    breaker_max_loss: Decimal = Field(default=Decimal(50), ge=0)
    breaker_cooldown_seconds: int = Field(default=0, ge=0)


class LimitChange(_Frozen):
    """One `KEY VALUE` edit; validated against `Limits` by the supervisor's update validator."""

    key: str
    value: str
    actor: str = "operator"


class SagaOutcome(StrEnum):
    """COMPLETED holds both legs; COMPENSATED was unwound; FAILED ended in error (both feed the breaker)."""

    COMPLETED = "completed"
    COMPENSATED = "compensated"
    FAILED = "failed"

    @property
    def is_failure(self) -> bool:
        return self is not SagaOutcome.COMPLETED


class SagaFinished(_Frozen):
    """A saga's report: `realized_pnl` excludes fees; `fees` are what it paid (net = realized_pnl - fees)."""

    saga_id: str
    outcome: SagaOutcome
    realized_pnl: Decimal = Decimal(0)
    fees: Decimal = Field(default=Decimal(0), ge=0)

    @property
    def net_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees


class Holding(_Frozen):
    """What is held in one market of one venue: contracts (both outcomes) and the dollars at risk."""

    venue: Venue
    market_id: str
    contracts: Decimal = Field(ge=0)
    at_risk: Decimal = Field(ge=0)


class AccountSnapshot(_Frozen):
    """The venues' view (balances available to trade, open holdings); replaces the supervisor's estimate."""

    balances: dict[Venue, Decimal]
    holdings: tuple[Holding, ...] = ()
    as_of: UtcDatetime


class KillSwitchChange(_Frozen):
    engaged: bool
    reason: str = ""
    actor: str = "operator"


class GateState(_Frozen):
    """What every order activity needs to know, published by the supervisor; `version` only grows."""

    tenant_id: str
    version: int = Field(ge=0)
    kill_switch: bool
    kill_reason: str = ""
    breaker_open: bool
    breaker_reason: str = ""
    updated_at: datetime

    @property
    def halted(self) -> bool:
        return self.kill_switch or self.breaker_open


class GatePublication(_Frozen):
    """A new gate state and who caused it (kept as an audit event alongside)."""

    state: GateState
    actor: str
    action: str


class AuditRecord(_Frozen):
    """An operator's change, kept in `audit_events`."""

    tenant_id: str
    actor: str
    action: str
    subject: str
    details: dict[str, str]


class ApprovalRequest(_Frozen):
    """A saga's request for room, addressed to its tenant's supervisor."""

    tenant_id: str
    request: TradeRequest


def supervisor_id(tenant_id: str) -> str:
    """The workflow id of the tenant's one risk supervisor."""
    return f"risk-supervisor-{tenant_id}"
