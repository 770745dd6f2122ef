"""The venue sandboxes, shared with the streamers that read from them, and a database for cursors."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.database import create_engine
from tests.sandbox.conftest import kalshi_sandbox, rsa_keys  # noqa: F401  (fixtures)
from tests.sandbox.polymarket.conftest import polymarket  # noqa: F401  (fixture)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database (the embedded default) for the sources' cursors."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}")
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()
