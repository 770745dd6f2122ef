"""A scriptable local WebSocket server (127.0.0.1, ephemeral port) for stream tests.

Each accepted connection runs `script(conn, index)`; when the script returns the
server drops the connection, which is how tests simulate a venue going away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve

Script = Callable[[ServerConnection, int], Awaitable[None]]


@dataclass
class LocalServer:
    url: str
    connections: int = 0
    received: list[list[str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


async def receive_into(conn: ServerConnection, sink: list[str], count: int) -> None:
    for _ in range(count):
        msg = await conn.recv()
        sink.append(msg if isinstance(msg, str) else msg.decode())


@asynccontextmanager
async def local_server(script: Script) -> AsyncIterator[LocalServer]:
    state = LocalServer(url="")

    async def handler(conn: ServerConnection) -> None:
        index = state.connections
        state.connections += 1
        state.received.append([])
        state.headers.append(dict(conn.request.headers) if conn.request else {})
        await script(conn, index)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        state.url = f"ws://127.0.0.1:{port}"
        yield state
