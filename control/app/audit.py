"""The audit trail: every state-changing call, who made it, through which interface, and the alerts
the system raised for a tenant (legging, compensation, breaker, kill switch, copy failures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.access import Caller
from control.app.pages import Page, bad_cursor, checked_limit, decode_cursor, page_of
from control.app.records import owned_by
from domain.accounts import TenantId
from storage.database import session_factory
from storage.tables import ALERT, AuditEvent


class AuditView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    tenant_id: str | None
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]
    interface: str | None
    at: datetime


class Audit:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def record(self, caller: Caller, action: str, subject: str | None = None, **details: Any) -> None:
        async with self._sessions() as session:
            session.add(
                AuditEvent(
                    tenant_id=caller.tenant_id,
                    actor=caller.actor,
                    action=action,
                    subject=subject,
                    details=details,
                    interface=caller.interface.value,
                )
            )
            await session.commit()

    async def events(
        self, tenant_id: TenantId, *, alerts_only: bool = False, cursor: str | None = None, limit: int = 50
    ) -> Page[AuditView]:
        """Newest first."""
        query = (
            select(AuditEvent)
            .where(owned_by(AuditEvent.tenant_id, tenant_id))
            .order_by(AuditEvent.id.desc())
            .limit(checked_limit(limit) + 1)
        )
        if alerts_only:
            query = query.where(AuditEvent.action == ALERT)
        if cursor is not None:
            query = query.where(AuditEvent.id < _event_id(cursor))
        async with self._sessions() as session:
            rows = [AuditView.model_validate(r) for r in (await session.scalars(query)).all()]
        return page_of(rows, limit, lambda view: str(view.id))

    async def since(self, after_id: int, actions: frozenset[str]) -> list[AuditView]:
        """Every tenant's events of `actions` after `after_id`, oldest first: for the process that pushes
        them to each tenant's chats (it scopes them by `tenant_id` itself)."""
        query = (
            select(AuditEvent)
            .where(AuditEvent.id > after_id, AuditEvent.action.in_(actions))
            .order_by(AuditEvent.id)
            .limit(500)
        )
        async with self._sessions() as session:
            return [AuditView.model_validate(r) for r in (await session.scalars(query)).all()]

    async def last_id(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0)


def _event_id(cursor: str) -> int:
    value = decode_cursor(cursor)
    if not value.isdigit():
        raise bad_cursor(cursor)
    return int(value)


def alert_text(event: AuditView) -> str:
    """Alerts as they were said; a kill switch or breaker change as what it means, by whom, why."""
    if event.action == ALERT:
        return f"ALERT {event.subject}: {event.details.get('message', '')}"
    details = event.details
    return {
        "kill_switch_on": f"kill switch ON by {event.actor}: {details.get('kill_reason', '')}",
        "kill_switch_off": f"kill switch off by {event.actor}: trading may resume",
        "breaker_tripped": f"ALERT circuit breaker tripped: {details.get('breaker_reason', '')}",
        "breaker_reset": f"circuit breaker reset by {event.actor}",
        "breaker_cooled_down": "circuit breaker closed again after its cool-down",
    }.get(event.action, f"{event.action} by {event.actor}")
