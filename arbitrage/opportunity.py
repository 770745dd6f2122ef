"""What the detector reports and the log of what became of it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts import DEFAULT_TENANT, TenantId
from domain.models import Outcome, UtcDatetime, Venue, utc_now
from storage.database import session_factory
from storage.tables import OpportunityRow


class Direction(StrEnum):
    """Which Polymarket outcome is bought; the Kalshi leg is the outcome that pays otherwise."""

    POLYMARKET_YES = "polymarket_yes"
    POLYMARKET_NO = "polymarket_no"

    @property
    def polymarket_outcome(self) -> Outcome:
        return Outcome.YES if self is Direction.POLYMARKET_YES else Outcome.NO


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpportunityLeg(_Frozen):
    """One taker order: buy `contracts` of `outcome`, walking the asks up to `limit_price`."""

    venue: Venue
    market_id: str
    token_id: str
    outcome: Outcome
    limit_price: Decimal
    contracts: int = Field(gt=0)
    fills: tuple[tuple[Decimal, Decimal], ...]
    cost: Decimal
    fee: Decimal


class Opportunity(_Frozen):
    """A window in which buying both legs costs less than the $1 per contract they are sure to pay.

    `expected_profit` is after both venues' fees and rounding, for exactly `contracts`.
    """

    opportunity_id: str
    pair_id: str
    direction: Direction
    contracts: int = Field(gt=0)
    polymarket: OpportunityLeg
    kalshi: OpportunityLeg
    expected_profit: Decimal
    detected_at: UtcDatetime
    polymarket_book_at: UtcDatetime
    kalshi_book_at: UtcDatetime

    @property
    def total_cost(self) -> Decimal:
        return self.polymarket.cost + self.polymarket.fee + self.kalshi.cost + self.kalshi.fee


def opportunity_id(pair_id: str, direction: Direction, window_start_ns: int) -> str:
    """Same pair, direction and window start give the same id, so a replay cannot double-emit."""
    digest = hashlib.sha256(f"{pair_id}|{direction.value}|{window_start_ns}".encode()).hexdigest()
    return f"opp-{digest[:32]}"


class OutcomeKind(StrEnum):
    DETECTED = "detected"
    TAKEN = "taken"
    SKIPPED = "skipped"


class OutcomeRecord(_Frozen):
    opportunity_id: str
    kind: OutcomeKind
    reason: str | None = None
    at: UtcDatetime = Field(default_factory=utc_now)


class OpportunityRecorder(Protocol):
    """Where opportunities and what became of them are kept (`SqlOpportunityRecorder` in production)."""

    async def record_detected(self, opportunity: Opportunity) -> None: ...

    async def record_outcome(self, opportunity_id: str, kind: OutcomeKind, reason: str | None = None) -> None: ...


def ns_to_datetime(ns: int) -> datetime:
    """Epoch nanoseconds to an aware UTC datetime, exact to the microsecond."""
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns // 1_000) % 1_000_000)


class SqlOpportunityRecorder:
    """The `opportunities` table: one row per opportunity, its latest outcome in `outcome`/`reason`
    and every outcome, in order, under `details["history"]`."""

    def __init__(self, engine: AsyncEngine, tenant_id: TenantId = DEFAULT_TENANT) -> None:
        self._sessions = session_factory(engine)
        self._tenant = tenant_id

    async def record_detected(self, opportunity: Opportunity) -> None:
        details = opportunity.model_dump(mode="json")
        details["history"] = [
            OutcomeRecord(opportunity_id=opportunity.opportunity_id, kind=OutcomeKind.DETECTED).model_dump(mode="json")
        ]
        async with self._sessions() as session, session.begin():
            if await session.get(OpportunityRow, opportunity.opportunity_id) is not None:
                return
            session.add(
                OpportunityRow(
                    id=opportunity.opportunity_id,
                    tenant_id=self._tenant,
                    pair_id=opportunity.pair_id,
                    direction=opportunity.direction.value,
                    quantity=Decimal(opportunity.contracts),
                    expected_profit=opportunity.expected_profit,
                    outcome=OutcomeKind.DETECTED.value,
                    reason=None,
                    details=details,
                    detected_at=opportunity.detected_at,
                )
            )

    async def record_outcome(self, opportunity_id: str, kind: OutcomeKind, reason: str | None = None) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(OpportunityRow, opportunity_id, with_for_update=True)
            if row is None:
                raise KeyError(f"unknown opportunity {opportunity_id}")
            record = OutcomeRecord(opportunity_id=opportunity_id, kind=kind, reason=reason)
            row.outcome = kind.value
            row.reason = reason
            row.details = {**row.details, "history": [*row.details.get("history", []), record.model_dump(mode="json")]}

    async def history(self, opportunity_id: str) -> list[OutcomeRecord]:
        async with self._sessions() as session:
            row = await session.get(OpportunityRow, opportunity_id)
            if row is None:
                return []
            return [OutcomeRecord.model_validate(r) for r in row.details.get("history", [])]
