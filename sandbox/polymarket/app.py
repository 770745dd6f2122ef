"""The sandbox Polymarket as one starlette app, and a way to run it in-process.

`build_app(state)` serves everything on one port:

    CLOB REST      /            (clob.py: the venue's real paths)
    WebSockets     /ws/market, /ws/user, /rtds (RTDS)
    Gamma          /gamma/...   (gamma.py)
    Data API       /data-api/...
    Admin          /_sandbox/...

`serve(state)` runs it (sandbox/serving.py) on 127.0.0.1 and an ephemeral port inside the
current event loop and yields the base URLs (`SandboxUrls`); it stops the server
on exit. Synchronous clients (py-clob-client) must then be called from a thread
(`asyncio.to_thread`) so the server keeps running. From a shell:
`uvicorn sandbox.polymarket.app:create_app --factory --port 8080`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.faults import FaultMiddleware
from sandbox.polymarket.admin import admin_routes
from sandbox.polymarket.clob import clob_routes
from sandbox.polymarket.gamma import DATA_PREFIX, GAMMA_PREFIX, data_routes, gamma_routes
from sandbox.polymarket.state import PolymarketState
from sandbox.polymarket.wire import ClobError, error_response, http_fault_body
from sandbox.polymarket.ws import RTDS_PATH, ws_routes
from sandbox.serving import serve_app


class ExpirySweep:
    """Retire due GTD orders before every request, so no reader ever sees an expired order resting.

    `serve` also sweeps on a timer, so WebSocket readers hear of expiries in a quiet market.
    """

    def __init__(self, app: ASGIApp, state: PolymarketState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.state.expire_orders()
        await self.app(scope, receive, send)


async def _clob_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClobError)
    return error_response(exc.status, exc.message)


def build_app(state: PolymarketState) -> Starlette:
    app = Starlette(
        routes=[
            *clob_routes(state),
            *ws_routes(state),
            *gamma_routes(state),
            *data_routes(state),
            *admin_routes(state),
        ],
        middleware=[
            Middleware(FaultMiddleware, faults=state.faults, error_body=http_fault_body),
            Middleware(ExpirySweep, state=state),
        ],
        exception_handlers={ClobError: _clob_error},
    )
    app.state.venue = state
    return app


def create_app() -> Starlette:
    """Factory for `uvicorn --factory`: an empty venue (create markets through the admin API)."""
    return build_app(PolymarketState())


@dataclass(frozen=True, slots=True)
class SandboxUrls:
    clob: str
    ws: str
    gamma: str
    data_api: str

    @property
    def ws_market(self) -> str:
        return f"{self.ws}/ws/market"

    @property
    def ws_user(self) -> str:
        return f"{self.ws}/ws/user"

    @property
    def rtds(self) -> str:
        return f"{self.ws}{RTDS_PATH}"


@contextlib.asynccontextmanager
async def serve(
    state: PolymarketState, host: str = "127.0.0.1", port: int = 0, *, sweep_interval_s: float = 0.25
) -> AsyncIterator[SandboxUrls]:
    async with serve_app(build_app(state), host, port, ws_ping_interval=20.0) as url:
        sweeper = asyncio.create_task(_sweep(state, sweep_interval_s))
        ws = url.replace("http://", "ws://", 1)
        try:
            yield SandboxUrls(clob=url, ws=ws, gamma=f"{url}{GAMMA_PREFIX}", data_api=f"{url}{DATA_PREFIX}")
        finally:
            sweeper.cancel()
            state.faults.clear()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper


async def _sweep(state: PolymarketState, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        state.expire_orders()
