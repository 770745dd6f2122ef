"""Run an ASGI app on uvicorn inside the current event loop, as one part of a bigger process.

uvicorn's `Server.serve` takes over SIGINT and SIGTERM while it runs, so in `inertial up`
a Ctrl-C stopped the sandbox venues before the worker had finished the activities that
were talking to them. An embedded server leaves signals to its host: the host decides
the order things stop in, and stops the server last.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.types import ASGIApp


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that never installs signal handlers: its host stops it through `should_exit`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, ws_ping_interval: float | None = None
) -> AsyncIterator[str]:
    """Yield the base URL (port 0 = an ephemeral port, so parallel tests never clash); stop the server on exit."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        ws_ping_interval=ws_ping_interval,
        timeout_graceful_shutdown=1,
    )
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped during startup")
            await asyncio.sleep(0.005)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        await task
