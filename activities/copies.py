"""The copy workflow's reads and record: where the copy trades, what the follower holds, how it ended.

Reads are plain activities (retried, no side effects); the record is an upsert by (tenant, fill),
so a retried or repeated record never duplicates and a copy's history shows one row per fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from copytrade.copies import CopyState, CopyStatus
from copytrade.fills import LeaderFill
from copytrade.rules import CopyRules
from copytrade.sizing import CopyTarget, FollowerView, Skip
from copytrade.targets import copy_target, outcome_of
from domain.accounts import AccountRef, TenantId
from domain.models import Market, PairStatus, Position, Venue, utc_now
from domain.money import micro_to_dollars
from matching.pairs import PairRepository
from storage.database import session_factory
from storage.tables import ALERT, AuditEvent, CopyOutcomeRow
from venues.accounts import UnknownAccountError, VenueAccounts

MarketSource = Callable[[Venue, str], Awaitable[Market]]
"""A market as its venue lists it (tick, minimum size, fees, open or not)."""

LeaderPositions = Callable[[Venue, str], Awaitable[list[Position]]]
"""A leader's holdings on a venue that publishes them (Polymarket's Data API is public)."""

NO_ACCOUNT = "NoFollowerAccount"
NO_MARKETS = "NoMarketSource"
_COUNTED = (CopyState.FILLED.value, CopyState.PARTIALLY_FILLED.value, CopyState.PLACED.value)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TargetRequest(_Model):
    fill: LeaderFill
    rules: CopyRules


class TargetAnswer(_Model):
    target: CopyTarget | None = None
    skip: str = ""


class ViewRequest(_Model):
    tenant_id: TenantId
    target: CopyTarget
    # a leader's sell that is mirrored: the view also says how much the leader held before it
    leader_sell: LeaderFill | None = None


class CopyActivities:
    def __init__(
        self,
        engine: AsyncEngine,
        accounts: VenueAccounts,
        markets: MarketSource,
        pairs: PairRepository,
        leader_positions: LeaderPositions | None = None,
    ) -> None:
        self._sessions = session_factory(engine)
        self._accounts = accounts
        self._markets = markets
        self._pairs = pairs
        self._leader_positions = leader_positions

    def activities(self) -> list[Callable[..., Awaitable[object]]]:
        return [self.copy_target, self.follower_view, self.record_copy]

    @activity.defn(name="copy_target")
    async def copy_target(self, request: TargetRequest) -> TargetAnswer:
        fill = request.fill
        market = await self._markets(fill.venue, fill.market_id)
        pairs = await self._pairs.list_pairs(PairStatus.CONFIRMED) if request.rules.cross_venue else []
        found = copy_target(fill, request.rules, market, pairs)
        if isinstance(found, Skip):
            return TargetAnswer(skip=found.reason)
        return TargetAnswer(target=found)

    @activity.defn(name="follower_view")
    async def follower_view(self, request: ViewRequest) -> FollowerView:
        target = request.target
        try:
            client = self._accounts.client(AccountRef(tenant_id=request.tenant_id), target.venue)
        except UnknownAccountError as exc:
            raise ApplicationError(str(exc), type=NO_ACCOUNT, non_retryable=True) from None
        # three independent reads on the copy's critical path: at once
        balance, everything, (day_volume, exposure), leader_before = await asyncio.gather(
            client.get_balance(),
            client.get_positions(),
            self._copied(request.tenant_id, target.market.market_id),
            self._leader_before(request.leader_sell),
        )
        positions = [p for p in everything if p.quantity > 0]
        held = sum(
            (p.quantity for p in positions if p.market_id == target.market.market_id and p.outcome is target.outcome),
            Decimal(0),
        )
        return FollowerView(
            available=balance.available,
            position=held,
            open_positions=len(positions),
            day_volume=day_volume,
            market_exposure=exposure,
            leader_position_before=leader_before,
        )

    async def _leader_before(self, sell: LeaderFill | None) -> Decimal | None:
        """The leader's shares before the sell: from the fill when its source told (Kalshi's channel), else
        its holdings now plus what it sold (a later trade of the leader's skews this; unknown stays None,
        and the copy then sells as many shares as the leader did)."""
        if sell is None:
            return None
        if sell.leader_position_after is not None:
            return sell.leader_position_after + sell.size
        if self._leader_positions is None:
            return None
        try:
            market = await self._markets(sell.venue, sell.market_id)
            outcome = outcome_of(market, sell.token_id)
            positions = await self._leader_positions(sell.venue, sell.leader)
        except Exception as exc:
            activity.logger.warning("leader %s holdings unknown (%s): mirrored by shares", sell.leader, exc)
            return None
        held = (p.quantity for p in positions if p.market_id == sell.market_id and p.outcome is outcome)
        return sum(held, Decimal(0)) + sell.size

    async def _copied(self, tenant_id: TenantId, market_id: str) -> tuple[Decimal, Decimal]:
        """Dollars this tenant's copies traded today (UTC), and have traded in `market_id` overall."""
        start = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
        counted = (CopyOutcomeRow.tenant_id == tenant_id, CopyOutcomeRow.state.in_(_COUNTED))
        async with self._sessions() as session:
            today = await session.scalar(
                select(func.coalesce(func.sum(CopyOutcomeRow.notional), 0)).where(
                    *counted, CopyOutcomeRow.recorded_at >= start
                )
            )
            market = await session.scalar(
                select(func.coalesce(func.sum(CopyOutcomeRow.notional), 0)).where(
                    *counted, CopyOutcomeRow.market_id == market_id
                )
            )
        # the sums are of the column's 1e-6 units
        return micro_to_dollars(int(today or 0)), micro_to_dollars(int(market or 0))

    @activity.defn(name="record_copy")
    async def record_copy(self, status: CopyStatus) -> None:
        """The outcome row; a failed copy is also an alert of its tenant (a retried record alerts once)."""
        async with self._sessions() as session:
            row = await session.get(CopyOutcomeRow, (status.tenant_id, status.fill.key))
            if status.state is CopyState.FAILED and (row is None or row.state != CopyState.FAILED.value):
                message = f"copy of {status.fill.venue.value} leader {status.fill.leader} failed: {status.reason}"
                session.add(
                    AuditEvent(
                        tenant_id=status.tenant_id,
                        actor="copy",
                        action=ALERT,
                        subject=status.workflow_id,
                        details={"message": message},
                    )
                )
            if row is None:
                row = CopyOutcomeRow(tenant_id=status.tenant_id, fill_key=status.fill.key)
                session.add(row)
            row.leader = status.fill.leader
            row.venue = (status.target.venue if status.target else status.fill.venue).value
            row.market_id = status.target.market.market_id if status.target else status.fill.market_id
            row.state = status.state.value
            row.reason = status.reason
            row.workflow_id = status.workflow_id
            row.filled = status.filled
            row.notional = Decimal(0) if status.order is None else status.order.cost
            row.details = status.model_dump(mode="json")
            row.recorded_at = utc_now()
            await session.commit()
