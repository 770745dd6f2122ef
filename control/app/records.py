"""What opportunities, sagas and copies did, read from the database one tenant at a time, newest first.

Another tenant's saga or copy is answered exactly like one that does not exist, so ids cannot
be probed across tenants.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped

from control.app.errors import NotFound
from control.app.pages import Page, bad_cursor, checked_limit, decode_cursor, page_of
from domain.accounts import DEFAULT_TENANT, TenantId
from storage.database import session_factory
from storage.tables import CopyOutcomeRow, OpportunityRow, SagaRow


class OpportunityView(BaseModel):
    """One opportunity the detector found and what became of it (`outcome`: detected, taken or skipped,
    `reason` the saga id or why not); `details` is the opportunity itself: legs, prices, fees."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    pair_id: str
    direction: str
    quantity: Decimal
    expected_profit: Decimal
    outcome: str
    reason: str | None
    detected_at: datetime
    details: dict[str, Any]


class SagaView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    workflow_id: str
    opportunity_id: str | None
    kind: str
    state: str
    net_exposure: Decimal
    realized_pnl: Decimal
    started_at: datetime
    updated_at: datetime
    details: dict[str, Any]


class CopyView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    fill_key: str
    leader: str
    venue: str
    market_id: str
    state: str
    reason: str
    workflow_id: str
    filled: Decimal
    notional: Decimal
    recorded_at: datetime
    details: dict[str, Any]


def _position(cursor: str) -> tuple[datetime, str]:
    """A cursor of these lists is the last row's time and key, so rows sharing a time are not lost."""
    at, _, key = decode_cursor(cursor).partition("|")
    try:
        return datetime.fromisoformat(at), key
    except ValueError:
        raise bad_cursor(cursor) from None


def owned_by(column: Mapped[str | None], tenant_id: TenantId) -> ColumnElement[bool]:
    """Rows recorded before they carried a tenant (sagas, alerts) belong to the default tenant, the only
    one that traded then."""
    if tenant_id == DEFAULT_TENANT:
        return or_(column == tenant_id, column.is_(None))
    return column == tenant_id


def _saga_of(tenant_id: TenantId) -> ColumnElement[bool]:
    return owned_by(SagaRow.tenant_id, tenant_id)


class Records:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def opportunities(
        self, tenant_id: TenantId, *, cursor: str | None = None, limit: int = 50
    ) -> Page[OpportunityView]:
        query = (
            select(OpportunityRow)
            .where(owned_by(OpportunityRow.tenant_id, tenant_id))
            .order_by(OpportunityRow.detected_at.desc(), OpportunityRow.id.desc())
            .limit(checked_limit(limit) + 1)
        )
        if cursor is not None:
            at, key = _position(cursor)
            query = query.where(
                or_(
                    OpportunityRow.detected_at < at,
                    and_(OpportunityRow.detected_at == at, OpportunityRow.id < key),
                )
            )
        async with self._sessions() as session:
            rows = [OpportunityView.model_validate(r) for r in (await session.scalars(query)).all()]
        return page_of(rows, limit, lambda v: f"{v.detected_at.isoformat()}|{v.id}")

    async def sagas(
        self, tenant_id: TenantId, *, state: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[SagaView]:
        query = (
            select(SagaRow)
            .where(_saga_of(tenant_id))
            .order_by(SagaRow.started_at.desc(), SagaRow.workflow_id.desc())
            .limit(checked_limit(limit) + 1)
        )
        if state is not None:
            query = query.where(SagaRow.state == state)
        if cursor is not None:
            at, key = _position(cursor)
            query = query.where(or_(SagaRow.started_at < at, and_(SagaRow.started_at == at, SagaRow.workflow_id < key)))
        async with self._sessions() as session:
            rows = [SagaView.model_validate(r) for r in (await session.scalars(query)).all()]
        return page_of(rows, limit, lambda v: f"{v.started_at.isoformat()}|{v.workflow_id}")

    async def saga(self, tenant_id: TenantId, workflow_id: str) -> SagaView:
        async with self._sessions() as session:
            row = await session.scalar(select(SagaRow).where(SagaRow.workflow_id == workflow_id, _saga_of(tenant_id)))
            if row is None:
                raise NotFound(f"no saga {workflow_id}")
            return SagaView.model_validate(row)

    async def copies(
        self, tenant_id: TenantId, *, leader: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[CopyView]:
        """The latest copies of this tenant (of one leader), each with its reason when not placed."""
        query = (
            select(CopyOutcomeRow)
            .where(CopyOutcomeRow.tenant_id == tenant_id)
            .order_by(CopyOutcomeRow.recorded_at.desc(), CopyOutcomeRow.fill_key.desc())
            .limit(checked_limit(limit) + 1)
        )
        if leader is not None:
            query = query.where(CopyOutcomeRow.leader == (leader.lower() if leader.startswith("0x") else leader))
        if cursor is not None:
            at, key = _position(cursor)
            query = query.where(
                or_(
                    CopyOutcomeRow.recorded_at < at,
                    and_(CopyOutcomeRow.recorded_at == at, CopyOutcomeRow.fill_key < key),
                )
            )
        async with self._sessions() as session:
            rows = [CopyView.model_validate(r) for r in (await session.scalars(query)).all()]
        return page_of(rows, limit, lambda v: f"{v.recorded_at.isoformat()}|{v.fill_key}")

    async def copy(self, tenant_id: TenantId, fill_key: str) -> CopyView:
        async with self._sessions() as session:
            row = await session.get(CopyOutcomeRow, (tenant_id, fill_key))
            if row is None:
                raise NotFound(f"no copy {fill_key}")
            return CopyView.model_validate(row)
