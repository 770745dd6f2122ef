"""Every operation a front end may call, as one caller: the role check, the tenant scope and the audit
record happen here, once, so the CLI, REST, Telegram and the web do the same thing the same way.

Each operation takes the `Caller` first and reaches only that caller's tenant: the concern modules
(risk, copy, pairs, records, audit, access) are built per call for `caller.tenant_id`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from control.app.access import Access, Caller, IssuedKey, KeyView, Role, UserView
from control.app.audit import Audit, AuditView
from control.app.copy import Copying, rules_from
from control.app.errors import OperationError
from control.app.orders import ManualOrders
from control.app.pages import Page
from control.app.pairs import Pairs
from control.app.positions import Positions, positions
from control.app.records import CopyView, OpportunityView, Records, SagaView
from control.app.risk import RiskControl
from copytrade.leaders import Follow
from domain.manual_orders import ManualOrder, ManualOrderState, ManualOrderStatus
from domain.models import MarketPair, PairStatus, Venue
from matching.pairs import SqlPairRepository
from risk.models import Limits
from risk.pnl import PnlReport
from risk.supervision import RiskStatus

log = logging.getLogger(__name__)


class Health(BaseModel):
    mode: str
    tenant_id: str
    role: Role
    temporal: bool
    database: bool
    workflow_url: str | None = None  # a workflow's page in the Temporal web UI is this + "/<workflow id>"


@dataclass(frozen=True, slots=True)
class Operations:
    client: Client
    engine: AsyncEngine
    task_queue: str
    paper: bool
    timeout: timedelta = timedelta(seconds=30)
    temporal_ui: str | None = None

    def _risk(self, caller: Caller) -> RiskControl:
        return RiskControl(self.client, caller.tenant_id, self.timeout)

    def _copying(self, caller: Caller) -> Copying:
        return Copying(self.client, caller.tenant_id, self.timeout.total_seconds())

    async def _audit(self, caller: Caller, action: str, subject: str | None = None, **details: Any) -> None:
        await Audit(self.engine).record(caller, action, subject, **details)

    async def health(self, caller: Caller) -> Health:
        caller.require(Role.VIEWER)
        try:
            await self.client.service_client.check_health(timeout=timedelta(seconds=2))
            temporal = True
        except Exception as exc:
            log.warning("health: Temporal did not answer: %r", exc)
            temporal = False
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            database = True
        except Exception as exc:
            log.warning("health: the database did not answer: %r", exc)
            database = False
        mode = "paper" if self.paper else "live"
        workflows = f"{self.temporal_ui}/namespaces/{self.client.namespace}/workflows" if self.temporal_ui else None
        return Health(
            mode=mode,
            tenant_id=caller.tenant_id,
            role=caller.role,
            temporal=temporal,
            database=database,
            workflow_url=workflows,
        )

    async def risk_status(self, caller: Caller) -> RiskStatus:
        caller.require(Role.VIEWER)
        return await self._risk(caller).status()

    async def limits(self, caller: Caller) -> Limits:
        caller.require(Role.VIEWER)
        return await self._risk(caller).limits()

    async def pnl(self, caller: Caller) -> PnlReport | None:
        caller.require(Role.VIEWER)
        return await self._risk(caller).pnl()

    async def positions(self, caller: Caller) -> Positions:
        """Per venue, pair, leader and day, from the supervisor and the leaders' workflows."""
        caller.require(Role.VIEWER)
        risk = self._risk(caller)
        return positions(await risk.status(), await risk.pnl(), await self._copying(caller).follows())

    async def kill(self, caller: Caller, reason: str) -> RiskStatus:
        """Anyone who may trade may stop trading; lifting the stop takes an owner."""
        caller.require(Role.TRADER)
        if not reason.strip():
            raise OperationError("say why the kill switch is engaged (a reason is required)")
        status = await self._risk(caller).kill(reason.strip(), caller.actor)
        await self._audit(caller, "kill", caller.tenant_id, reason=reason.strip())
        return status

    async def unkill(self, caller: Caller) -> RiskStatus:
        caller.require(Role.OWNER)
        status = await self._risk(caller).unkill(caller.actor)
        await self._audit(caller, "unkill", caller.tenant_id)
        return status

    async def reset_breaker(self, caller: Caller) -> RiskStatus:
        caller.require(Role.OWNER)
        status = await self._risk(caller).reset_breaker(caller.actor)
        await self._audit(caller, "reset_breaker", caller.tenant_id)
        return status

    async def set_limit(self, caller: Caller, key: str, value: str) -> Limits:
        caller.require(Role.OWNER)
        limits = await self._risk(caller).set_limit(key, value, caller.actor)
        await self._audit(caller, "set_limit", key, value=value)
        return limits

    async def follows(self, caller: Caller) -> list[Follow]:
        caller.require(Role.VIEWER)
        return await self._copying(caller).follows()

    async def follow(self, caller: Caller, venue: Venue, leader: str, rules: dict[str, Any]) -> Follow:
        caller.require(Role.TRADER)
        follow = await self._copying(caller).follow(venue, leader, rules_from(rules), self.task_queue)
        await self._audit(caller, "follow", f"{venue.value}:{follow.leader}", rules=rules)
        return follow

    async def follow_state(self, caller: Caller, venue: Venue, leader: str) -> Follow:
        caller.require(Role.VIEWER)
        return await self._copying(caller).state(venue, leader)

    async def set_rules(self, caller: Caller, venue: Venue, leader: str, changes: dict[str, Any]) -> Follow:
        caller.require(Role.TRADER)
        follow = await self._copying(caller).set_rules(venue, leader, changes)
        await self._audit(caller, "set_rules", f"{venue.value}:{follow.leader}", changes=changes)
        return follow

    async def pause(self, caller: Caller, venue: Venue, leader: str, reason: str) -> Follow:
        caller.require(Role.TRADER)
        follow = await self._copying(caller).pause(venue, leader, reason, caller.actor)
        await self._audit(caller, "pause", f"{venue.value}:{follow.leader}", reason=reason)
        return follow

    async def resume(self, caller: Caller, venue: Venue, leader: str) -> Follow:
        caller.require(Role.TRADER)
        follow = await self._copying(caller).resume(venue, leader, caller.actor)
        await self._audit(caller, "resume", f"{venue.value}:{follow.leader}")
        return follow

    async def unfollow(self, caller: Caller, venue: Venue, leader: str) -> Follow:
        caller.require(Role.TRADER)
        follow = await self._copying(caller).unfollow(venue, leader, caller.actor)
        await self._audit(caller, "unfollow", f"{venue.value}:{follow.leader}")
        return follow

    async def copies(
        self, caller: Caller, *, leader: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[CopyView]:
        caller.require(Role.VIEWER)
        return await Records(self.engine).copies(caller.tenant_id, leader=leader, cursor=cursor, limit=limit)

    async def copy(self, caller: Caller, fill_key: str) -> CopyView:
        caller.require(Role.VIEWER)
        return await Records(self.engine).copy(caller.tenant_id, fill_key)

    async def opportunities(
        self, caller: Caller, *, cursor: str | None = None, limit: int = 50
    ) -> Page[OpportunityView]:
        caller.require(Role.VIEWER)
        return await Records(self.engine).opportunities(caller.tenant_id, cursor=cursor, limit=limit)

    async def sagas(
        self, caller: Caller, *, state: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[SagaView]:
        caller.require(Role.VIEWER)
        return await Records(self.engine).sagas(caller.tenant_id, state=state, cursor=cursor, limit=limit)

    async def saga(self, caller: Caller, workflow_id: str) -> SagaView:
        caller.require(Role.VIEWER)
        return await Records(self.engine).saga(caller.tenant_id, workflow_id)

    def _orders(self, caller: Caller) -> ManualOrders:
        return ManualOrders(self.client, caller.tenant_id, self.timeout)

    async def place_order(self, caller: Caller, order: ManualOrder, idempotency_key: str) -> ManualOrderStatus:
        caller.require(Role.TRADER)
        status = await self._orders(caller).place(order, idempotency_key, self.task_queue, caller.actor)
        await self._audit(caller, "place_order", status.order_id, order=order.describe(), state=status.state.value)
        if status.state is ManualOrderState.REFUSED:
            raise OperationError(f"order refused, nothing was sent: {status.reason}")
        return status

    async def cancel_order(self, caller: Caller, order_id: str) -> ManualOrderStatus:
        caller.require(Role.TRADER)
        status = await self._orders(caller).cancel(order_id)
        await self._audit(caller, "cancel_order", order_id, state=status.state.value)
        return status

    async def order(self, caller: Caller, order_id: str) -> ManualOrderStatus:
        caller.require(Role.VIEWER)
        return await self._orders(caller).state(order_id)

    async def orders(self, caller: Caller, limit: int = 50) -> list[ManualOrderStatus]:
        caller.require(Role.VIEWER)
        return await self._orders(caller).list(limit)

    async def alerts(self, caller: Caller, *, cursor: str | None = None, limit: int = 50) -> Page[AuditView]:
        caller.require(Role.VIEWER)
        return await Audit(self.engine).events(caller.tenant_id, alerts_only=True, cursor=cursor, limit=limit)

    async def audit(self, caller: Caller, *, cursor: str | None = None, limit: int = 50) -> Page[AuditView]:
        caller.require(Role.OWNER)
        return await Audit(self.engine).events(caller.tenant_id, cursor=cursor, limit=limit)

    @property
    def people(self) -> People:
        return People(self.engine)

    @property
    def pair_desk(self) -> PairDesk:
        return PairDesk(self.engine)


@dataclass(frozen=True, slots=True)
class People:
    """Users, keys and chat links of the caller's tenant: owners' business, and no Temporal needed,
    so the CLI can manage them before anything else runs."""

    engine: AsyncEngine

    async def users(self, caller: Caller) -> list[UserView]:
        caller.require(Role.OWNER)
        return await Access(self.engine).users(caller.tenant_id)

    async def add_user(self, caller: Caller, name: str, role: Role) -> UserView:
        caller.require(Role.OWNER)
        user = await Access(self.engine).add_user(caller.tenant_id, name, role)
        await Audit(self.engine).record(caller, "add_user", name, role=role.value)
        return user

    async def keys(self, caller: Caller) -> list[KeyView]:
        caller.require(Role.OWNER)
        return await Access(self.engine).keys(caller.tenant_id)

    async def issue_key(self, caller: Caller, user: str, name: str, role: Role | None = None) -> IssuedKey:
        caller.require(Role.OWNER)
        issued = await Access(self.engine).issue_key(caller.tenant_id, user, name, role)
        await Audit(self.engine).record(caller, "issue_key", issued.key.id, user=user, role=issued.key.role.value)
        return issued

    async def revoke_key(self, caller: Caller, key_id: str) -> KeyView:
        caller.require(Role.OWNER)
        key = await Access(self.engine).revoke_key(caller.tenant_id, key_id)
        await Audit(self.engine).record(caller, "revoke_key", key_id)
        return key

    async def link_code(self, caller: Caller, user: str) -> str:
        """A user may link their own chat account; an owner may issue codes for anyone in the tenant."""
        if user != caller.user_id:
            caller.require(Role.OWNER)
        code = await Access(self.engine).issue_link_code(caller.tenant_id, user)
        await Audit(self.engine).record(caller, "link_code", user)
        return code


@dataclass(frozen=True, slots=True)
class PairDesk:
    """Pairs are market knowledge shared by every tenant and live in the database only, so the CLI can
    review them with no Temporal running; deciding one is audited in the decider's tenant."""

    engine: AsyncEngine

    async def pairs(self, caller: Caller, status: PairStatus | None = None) -> list[MarketPair]:
        caller.require(Role.VIEWER)
        return await Pairs(SqlPairRepository(self.engine)).list_pairs(status)

    async def suggest(
        self, caller: Caller, polymarket: Any, kalshi: Any, *, top_k: int = 3, min_confidence: float = 0.5
    ) -> tuple[list[MarketPair], list[str]]:
        """Candidates from both venues' listings, stored for review; decisions already made are kept."""
        caller.require(Role.TRADER)
        found = await Pairs(SqlPairRepository(self.engine)).suggest_listings(
            polymarket, kalshi, top_k=top_k, min_confidence=min_confidence
        )
        await Audit(self.engine).record(caller, "pairs_suggest", None, stored=len(found[0]))
        return found

    async def decide(self, caller: Caller, pair_id: str, status: PairStatus) -> MarketPair:
        caller.require(Role.TRADER)
        if status not in (PairStatus.CONFIRMED, PairStatus.REJECTED):
            raise OperationError(f"a pair is confirmed or rejected, not {status.value}")
        pair = await Pairs(SqlPairRepository(self.engine)).decide(pair_id, status, caller.actor)
        await Audit(self.engine).record(caller, f"pair_{status.value}", pair_id)
        return pair
