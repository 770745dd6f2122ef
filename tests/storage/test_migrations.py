"""Migrations upgrade and downgrade cleanly on SQLite and PostgreSQL, and match the ORM mappings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.database import create_engine
from storage.tables import Base
from tests.conftest import fresh_postgres_database

EXPECTED_TABLES = {
    "copy_cursors",
    "copy_outcomes",
    "tenants",
    "users",
    "vault_masters",
    "vault_data_keys",
    "vault_secrets",
    "markets",
    "market_pairs",
    "orders",
    "fills",
    "positions",
    "opportunities",
    "sagas",
    "pnl_snapshots",
    "audit_events",
    "risk_gate_state",
    "api_keys",
    "link_codes",
    "idempotent_answers",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'inertial.db'}")
        yield eng
        await eng.dispose()
        return
    async with fresh_postgres_database() as url:
        eng = create_engine(url)
        yield eng
        await eng.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names())) - {"alembic_version"}


async def test_upgrade_creates_every_table_then_downgrade_removes_them(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await _tables(engine) == EXPECTED_TABLES
    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    assert await _tables(engine) == set()
    await migrate.upgrade(engine)
    assert await _tables(engine) == EXPECTED_TABLES


async def test_migrated_schema_matches_orm_mappings(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)

    def diff(sync_conn: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": False}), Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
