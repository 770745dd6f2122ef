from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.asyncio.server import ServerConnection

from tests.venues.polymarket.ws_server import local_server, receive_into
from venues.reconnect import Backoff, BackoffPolicy, ReconnectingWebSocket


class FakeSleep:
    """Records each backoff delay and returns at once; stops the runner after `limit` delays."""

    def __init__(self, limit: int) -> None:
        self.delays: list[float] = []
        self.limit = limit
        self.runner: ReconnectingWebSocket | None = None

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if len(self.delays) >= self.limit and self.runner is not None:
            await self.runner.stop()


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


def test_backoff_grows_caps_and_resets() -> None:
    backoff = Backoff(BackoffPolicy(initial=0.5, maximum=30, jitter=0.0))
    assert [backoff.next_delay() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 0.5


@pytest.mark.parametrize("rand", [0.0, 0.999999])
def test_jitter_stays_within_band_and_under_cap(rand: float) -> None:
    backoff = Backoff(BackoffPolicy(initial=1, maximum=30, jitter=0.25), lambda: rand)
    delays = [backoff.next_delay() for _ in range(10)]
    for n, delay in enumerate(delays):
        base = min(30, 2**n)
        assert base * 0.75 - 1e-9 <= delay <= min(30, base * 1.25)
    assert max(delays) <= 30


async def test_failed_connects_back_off_up_to_cap() -> None:
    sleep = FakeSleep(limit=9)
    runner = ReconnectingWebSocket(dead_url(), lambda _: None, sleep=sleep, rand=lambda: 0.5, open_timeout=2)
    sleep.runner = runner
    await asyncio.wait_for(runner.run(), 10)
    assert sleep.delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert runner.counters.connects == 0
    assert runner.counters.connect_failures == 9


async def test_resubscribes_after_each_drop_and_feeds_frames() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        await receive_into(conn, server.received[index], 1)
        await conn.send(f"frame-{index}-a")
        await conn.send(f"frame-{index}-b")

    frames: list[str] = []
    disconnects: list[BaseException | None] = []
    sleep = FakeSleep(limit=3)

    async with local_server(script) as server:

        async def subscribe(ws: object) -> None:
            await runner.send('{"type": "subscribe"}')

        runner = ReconnectingWebSocket(
            server.url,
            frames.append,
            on_connect=subscribe,
            on_disconnect=disconnects.append,
            sleep=sleep,
            rand=lambda: 0.5,
        )
        sleep.runner = runner
        await asyncio.wait_for(runner.run(), 10)

    assert server.received == [['{"type": "subscribe"}']] * 3
    assert frames == [f"frame-{i}-{x}" for i in range(3) for x in "ab"]
    assert runner.counters.connects == 3
    assert runner.counters.disconnects == 3
    assert len(disconnects) == 3
    assert runner.counters.frames == 6
    assert sleep.delays == [0.5, 1, 2]


async def test_healthy_connection_resets_backoff() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        await conn.send("x")

    now = [0.0]

    def clock() -> float:
        now[0] += 100
        return now[0]

    sleep = FakeSleep(limit=4)
    async with local_server(script) as server:
        runner = ReconnectingWebSocket(server.url, lambda _: None, sleep=sleep, clock=clock, rand=lambda: 0.5)
        sleep.runner = runner
        await asyncio.wait_for(runner.run(), 10)
    assert sleep.delays == [0.5, 0.5, 0.5, 0.5]


async def test_immediate_reconnect_skips_backoff_after_a_drop() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        await conn.send(str(index))

    frames: list[str] = []

    async def handler(text: str) -> None:
        frames.append(text)
        if text == "3":
            await runner.stop()

    sleep = FakeSleep(limit=100)
    async with local_server(script) as server:
        runner = ReconnectingWebSocket(server.url, handler, sleep=sleep, immediate_reconnect=True)
        await asyncio.wait_for(runner.run(), 10)
    assert frames == ["0", "1", "2", "3"]
    assert sleep.delays == []


async def test_handler_errors_are_counted_and_loop_continues() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        for text in ("ok-1", "boom", "ok-2"):
            await conn.send(text)
        await conn.wait_closed()

    seen: list[str] = []

    async def handler(text: str) -> None:
        if text == "boom":
            raise ValueError("bad frame")
        seen.append(text)
        if text == "ok-2":
            await runner.stop()

    async with local_server(script) as server:
        runner = ReconnectingWebSocket(server.url, handler)
        await asyncio.wait_for(runner.run(), 10)
    assert seen == ["ok-1", "ok-2"]
    assert runner.counters.handler_errors == 1
    assert runner.counters.frames == 3


async def test_stop_is_clean_while_connected_and_while_backing_off() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        await conn.wait_closed()

    disconnects: list[BaseException | None] = []
    async with local_server(script) as server:
        runner = ReconnectingWebSocket(server.url, lambda _: None, on_disconnect=disconnects.append)
        task = asyncio.create_task(runner.run())
        await asyncio.wait_for(runner.connected.wait(), 5)
        await runner.stop()
        await asyncio.wait_for(task, 5)
    assert runner.counters.disconnects == 0
    assert disconnects == []

    sleeping = asyncio.Event()

    async def long_sleep(delay: float) -> None:
        sleeping.set()
        await asyncio.sleep(delay)

    backing_off = ReconnectingWebSocket(dead_url(), lambda _: None, sleep=long_sleep)
    task = asyncio.create_task(backing_off.run())
    await asyncio.wait_for(sleeping.wait(), 5)
    await backing_off.stop()
    await asyncio.wait_for(task, 2)


async def test_text_keepalive_is_sent_and_pongs_are_not_frames() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        async for msg in conn:
            server.received[index].append(str(msg))
            if msg == "PING":
                await conn.send("PONG")
                await conn.send("data")

    frames: list[str] = []

    def handler(text: str) -> None:
        frames.append(text)
        asyncio.get_running_loop().create_task(runner.stop())

    async with local_server(script) as server:
        runner = ReconnectingWebSocket(
            server.url, handler, ping_payload="PING", pong_payload="PONG", ping_interval=0.02
        )
        await asyncio.wait_for(runner.run(), 5)
    assert server.received[0][0] == "PING"
    assert frames[0] == "data"
    assert "PONG" not in frames
    assert runner.counters.pings_sent >= 1


async def test_headers_are_built_for_every_handshake() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        if index == 1:
            await runner.stop()

    calls = [0]

    def headers() -> dict[str, str]:
        calls[0] += 1
        return {"X-Signed": f"sig-{calls[0]}"}

    async with local_server(script) as server:
        runner = ReconnectingWebSocket(server.url, lambda _: None, headers=headers, immediate_reconnect=True)
        await asyncio.wait_for(runner.run(), 5)
    assert [h["x-signed"] for h in server.headers] == ["sig-1", "sig-2"]


async def test_failing_header_factory_backs_off_instead_of_crashing() -> None:
    def headers() -> dict[str, str]:
        raise RuntimeError("signing key unreadable")

    sleep = FakeSleep(limit=3)
    runner = ReconnectingWebSocket(dead_url(), lambda _: None, headers=headers, sleep=sleep, rand=lambda: 0.5)
    sleep.runner = runner
    await asyncio.wait_for(runner.run(), 5)
    assert runner.counters.connect_failures == 3 and sleep.delays == [0.5, 1, 2]


async def test_send_while_disconnected_raises_connection_error() -> None:
    runner = ReconnectingWebSocket(dead_url(), lambda _: None)
    with pytest.raises(ConnectionError):
        await runner.send("hello")
