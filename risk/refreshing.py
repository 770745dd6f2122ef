"""An in-process copy of shared state, kept current by reading it again and again in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable


@contextlib.asynccontextmanager
async def refreshed_every(refresh: Callable[[], Awaitable[None]], interval_s: float, name: str) -> AsyncIterator[None]:
    """Read once before the block runs, then every `interval_s` until it ends. `refresh` handles its own
    failures (log, count, let the last copy age): one failed read must not stop the reading."""

    async def keep_reading() -> None:
        while True:
            await asyncio.sleep(interval_s)
            await refresh()

    await refresh()
    task = asyncio.create_task(keep_reading(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
