"""Run the sandbox venues: in-process for tests (async context managers) or as the `inertial sandbox` process.

`serve_app` runs any ASGI app on uvicorn inside the current event loop and yields
its base URL (port 0 = an ephemeral port, so parallel tests never clash).
`kalshi_sandbox` yields a ready `KalshiVenue` with its URLs; `run_sandboxes`
starts both venues (Polymarket through `sandbox.polymarket.app.serve`), an
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
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from sandbox import replay as replayer
from sandbox import scenarios
from sandbox.faults import FaultInjector
from sandbox.kalshi import KalshiVenue, build_app
from sandbox.kalshi.app import API, WS_PATH
from sandbox.polymarket.app import SandboxUrls
from sandbox.polymarket.app import serve as serve_polymarket
from sandbox.polymarket.state import PolymarketState
from sandbox.scenarios import Scenario

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


VENUES = ("kalshi", "polymarket")


@dataclass
class Sandboxes:
    """The venues running in this process; a venue served by another process (or absent) is None."""

    kalshi: KalshiHandle | None
    polymarket: PolymarketState | None = None
    polymarket_urls: SandboxUrls | None = None
    data_dir: Path | None = None
    scenario: Scenario | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
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


@contextlib.asynccontextmanager
async def run_sandboxes(
    host: str = "127.0.0.1",
    kalshi_port: int = 0,
    polymarket_port: int = 0,
    *,
    scenario: str | None = None,
    replay: Path | None = None,
    seed: int = 0,
    rate: float | None = None,
    speed: float = 1.0,
    data_dir: Path | None = None,
    venues: tuple[str, ...] = VENUES,
) -> AsyncIterator[Sandboxes]:
    """The `venues` (both by default), optionally driven by a scenario or a replay, stopped on exit.

    A sandbox split over processes runs one venue in each with the same scenario and
    seed: scenarios act only on local venues but draw as if they drove both.
    """
    unknown = set(venues) - set(VENUES)
    if unknown:
        raise ValueError(f"unknown venues {sorted(unknown)}")
    async with contextlib.AsyncExitStack() as stack:
        handles = Sandboxes(None, data_dir=data_dir)
        if "kalshi" in venues:
            handles.kalshi = await stack.enter_async_context(kalshi_sandbox(host=host, port=kalshi_port))
        if "polymarket" in venues:
            handles.polymarket = PolymarketState()
            handles.polymarket_urls = await stack.enter_async_context(
                serve_polymarket(handles.polymarket, host, polymarket_port)
            )
        if scenario is not None:
            handles.scenario = scenarios.start(scenario, handles, seed=seed)
            handles.tasks.append(asyncio.create_task(handles.scenario.run(rate or scenarios.DEFAULT_RATE)))
        if replay is not None:
            handles.tasks.append(asyncio.create_task(replayer.replay_file(replay, handles, speed=speed)))
        try:
            yield handles
        finally:
            for task in handles.tasks:
                task.cancel()
            for task in handles.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
