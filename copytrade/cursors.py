"""Per-leader cursors of the catch-up sources, persisted so a restart resumes where it stopped.

A cursor is the source's own text (a Data API timestamp, a Kalshi fills cursor, a block number);
only the source reading it knows what it means. Writes are upserts: the last one wins.
"""

from __future__ import annotations

from collections.abc import Callable

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


class SecondCursors:
    """One polling source's cursors: the newest trade second handed on per leader, remembered and
    persisted when it moves; a leader seen for the first time starts `lookback_s` back (a new follow
    copies what is about to happen, not history)."""

    def __init__(
        self,
        store: SqlCursorStore | None,
        owner: TenantId,
        source: FillSource,
        lookback_s: int,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._owner = owner
        self._source = source
        self._lookback = lookback_s
        self._clock = clock
        self._memory: dict[str, int] = {}

    async def get(self, leader: str) -> int:
        if leader not in self._memory:
            stored = await self._store.get(self._owner, leader, self._source) if self._store else None
            self._memory[leader] = int(stored) if stored is not None else int(self._clock()) - self._lookback
        return self._memory[leader]

    async def put(self, leader: str, cursor: int) -> None:
        if self._memory.get(leader) == cursor:
            return
        self._memory[leader] = cursor
        if self._store is not None:
            await self._store.put(self._owner, leader, self._source, str(cursor))
