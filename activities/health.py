"""Activities that prove the worker can reach what sagas will need (the database for now)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from storage.migrate import current_revision, head_revision


class DatabaseHealth(BaseModel):
    backend: str
    revision: str | None
    up_to_date: bool


class HealthActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="check_database")
    async def check_database(self) -> DatabaseHealth:
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        revision = await current_revision(self._engine)
        return DatabaseHealth(
            backend=self._engine.dialect.name, revision=revision, up_to_date=revision == head_revision()
        )
