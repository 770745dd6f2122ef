"""Per-leader cursors of the catch-up sources, persisted so a restart resumes where it stopped.

A cursor is the source's own text (a Data API timestamp, a Kalshi fills cursor, a block number);
only the source reading it knows what it means. Writes are upserts: the last one wins.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from copytrade.fills import FillSource
from domain.accounts import TenantId
from domain.models import utc_now
from storage.tables import CopyCursorRow


class SqlCursorStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, tenant_id: TenantId, leader: str, source: FillSource) -> str | None:
        async with self._engine.connect() as conn:
            row = await conn.execute(
                select(CopyCursorRow.cursor).where(
                    CopyCursorRow.tenant_id == tenant_id,
                    CopyCursorRow.leader == leader,
                    CopyCursorRow.source == source.value,
                )
            )
            return row.scalar_one_or_none()

    async def put(self, tenant_id: TenantId, leader: str, source: FillSource, cursor: str) -> None:
        where = (
            CopyCursorRow.tenant_id == tenant_id,
            CopyCursorRow.leader == leader,
            CopyCursorRow.source == source.value,
        )
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                update(CopyCursorRow).where(*where).values(cursor=cursor, updated_at=utc_now())
            )
            if updated.rowcount == 0:
                await conn.execute(
                    insert(CopyCursorRow).values(
                        tenant_id=tenant_id, leader=leader, source=source.value, cursor=cursor, updated_at=utc_now()
                    )
                )
