"""Source cursors survive a restart, per tenant, leader and source."""

from __future__ import annotations

from pathlib import Path

from copytrade.cursors import SqlCursorStore
from copytrade.fills import FillSource
from storage import migrate
from storage.database import create_engine


async def test_cursors_are_kept_apart_and_the_last_write_wins(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    store = SqlCursorStore(engine)
    assert await store.get("default", "0xabc", FillSource.DATA_API) is None
    await store.put("default", "0xabc", FillSource.DATA_API, "1700000000")
    await store.put("default", "0xabc", FillSource.DATA_API, "1700000050")
    await store.put("default", "0xabc", FillSource.CHAIN, "123")
    await store.put("other", "0xabc", FillSource.DATA_API, "5")
    await engine.dispose()
    restarted = SqlCursorStore(create_engine(url))
    assert await restarted.get("default", "0xabc", FillSource.DATA_API) == "1700000050"
    assert await restarted.get("default", "0xabc", FillSource.CHAIN) == "123"
    assert await restarted.get("other", "0xabc", FillSource.DATA_API) == "5"
