"""Run the sandbox venues: in-process for tests (async context managers) or as the `inertial sandbox` process.

`serve_app` runs any ASGI app on uvicorn inside the current event loop and yields
its base URL (port 0 = an ephemeral port, so parallel tests never clash).
`kalshi_sandbox` yields a ready `KalshiVenue` with its URLs; `run_sandboxes`
starts both venues (Polymarket from `sandbox.polymarket` when present), an
optional scenario or replay, and yields a `Sandboxes` handle.

On exit every fault is cleared first, so requests a test left stalled (hang,
order timeout) are answered and the server can stop without waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from sandbox.faults import FaultInjector
from sandbox.kalshi import KalshiVenue, build_app
from sandbox.kalshi.app import API, WS_PATH

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KalshiHandle:
    venue: KalshiVenue
    base_url: str

    @property
    def api_url(self) -> str:
        """What the official SDK takes as `host`: base URL + /trade-api/v2."""
        return self.base_url + API

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + WS_PATH

    @property
    def faults(self) -> FaultInjector:
        return self.venue.faults


@dataclass
class Sandboxes:
    kalshi: KalshiHandle
    polymarket: Any = None
    polymarket_url: str | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        ws_ping_interval=None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("sandbox server stopped during startup")
        await asyncio.sleep(0.005)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def kalshi_sandbox(
    venue: KalshiVenue | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[KalshiHandle]:
    venue = venue or KalshiVenue()
    async with serve_app(build_app(venue), host, port) as url:
        try:
            yield KalshiHandle(venue, url)
        finally:
            venue.faults.clear()
            await venue.stream.close_all()
