"""Durable records of what sagas did: the state each ended in, and alerts for a human."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from arbitrage.saga import SagaStatus
from domain.accounts import TenantId
from domain.models import utc_now
from storage.database import session_factory
from storage.tables import ALERT, AuditEvent, SagaRow

log = logging.getLogger(__name__)


class SagaRecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    @activity.defn(name="record_saga")
    async def record_saga(self, status: SagaStatus) -> None:
        """Upsert by workflow id, so a retried or repeated record never duplicates."""
        async with self._sessions() as session:
            row = await session.get(SagaRow, status.workflow_id)
            if row is None:
                row = SagaRow(workflow_id=status.workflow_id, kind="arb")
                session.add(row)
            row.tenant_id = status.tenant_id
            row.opportunity_id = status.opportunity_id
            row.state = status.state.value
            row.net_exposure = status.unmatched
            row.realized_pnl = status.realized_pnl
            row.details = status.model_dump(mode="json")
            row.updated_at = utc_now()
            await session.commit()

    @activity.defn(name="alert")
    async def alert(self, subject: str, message: str, tenant_id: TenantId | None = None) -> None:
        """Logged loudly and kept as an audit event of the saga's tenant, where its alert feeds find it
        (`tenant_id` is absent in the histories of sagas started before it was passed)."""
        log.error("ALERT %s: %s", subject, message)
        async with self._sessions() as session:
            session.add(
                AuditEvent(
                    tenant_id=tenant_id, actor="saga", action=ALERT, subject=subject, details={"message": message}
                )
            )
            await session.commit()
