"""What opportunities, sagas and copies did, read from the database one tenant at a time, newest first.

Another tenant's saga or copy is answered exactly like one that does not exist, so ids cannot
be probed across tenants.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import InstrumentedAttribute, Mapped

from control.app.errors import NotFound
from control.app.pages import Page, bad_cursor, checked_limit, decode_cursor, page_of
from domain.accounts import DEFAULT_TENANT, TenantId
from storage.database import session_factory
from storage.tables import Base, CopyOutcomeRow, OpportunityRow, SagaRow


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


V = TypeVar("V", bound=BaseModel)


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

    async def _newest_first(
        self,
        view: type[V],
        row: type[Base],
        at: InstrumentedAttribute[datetime],
        key: InstrumentedAttribute[str],
        where: list[ColumnElement[bool]],
        cursor: str | None,
        limit: int,
    ) -> Page[V]:
        """One page of `row`s, newest `at` first; the cursor is the last row's time and key."""
        query = select(row).where(*where).order_by(at.desc(), key.desc()).limit(checked_limit(limit) + 1)
        if cursor is not None:
            after, last = _position(cursor)
            query = query.where(or_(at < after, and_(at == after, key < last)))
        async with self._sessions() as session:
            rows = [view.model_validate(r) for r in (await session.scalars(query)).all()]
        return page_of(rows, limit, lambda v: f"{getattr(v, at.key).isoformat()}|{getattr(v, key.key)}")

    async def opportunities(
        self, tenant_id: TenantId, *, cursor: str | None = None, limit: int = 50
    ) -> Page[OpportunityView]:
        where = [owned_by(OpportunityRow.tenant_id, tenant_id)]
        return await self._newest_first(
            OpportunityView, OpportunityRow, OpportunityRow.detected_at, OpportunityRow.id, where, cursor, limit
        )

    async def sagas(
        self, tenant_id: TenantId, *, state: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[SagaView]:
        where = [_saga_of(tenant_id)] + ([SagaRow.state == state] if state is not None else [])
        return await self._newest_first(
            SagaView, SagaRow, SagaRow.started_at, SagaRow.workflow_id, where, cursor, limit
        )

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
        where = [CopyOutcomeRow.tenant_id == tenant_id]
        if leader is not None:
            where.append(CopyOutcomeRow.leader == (leader.lower() if leader.startswith("0x") else leader))
        return await self._newest_first(
            CopyView, CopyOutcomeRow, CopyOutcomeRow.recorded_at, CopyOutcomeRow.fill_key, where, cursor, limit
        )

    async def copy(self, tenant_id: TenantId, fill_key: str) -> CopyView:
        async with self._sessions() as session:
            row = await session.get(CopyOutcomeRow, (tenant_id, fill_key))
            if row is None:
                raise NotFound(f"no copy {fill_key}")
            return CopyView.model_validate(row)
