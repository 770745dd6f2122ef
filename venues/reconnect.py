"""A WebSocket connection that never gives up: the transport both venues' streams sit on.

Venue feeds drop connections routinely (Polymarket RTDS every few minutes, the CLOB
channels on deploys, Kalshi on key rotation). The runner owns the loop of connect ->
(re)subscribe -> read frames -> disconnect -> back off -> connect, so each venue stream
only supplies what differs: handshake headers (Kalshi signs every handshake), the
subscribe messages, the frame handler and what to do with its books while blind.

A handler that raises is logged and counted and the loop goes on: one bad frame must
never take a market-data feed down.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

log = logging.getLogger(__name__)

FrameHandler = Callable[[str], Awaitable[None] | None]
ConnectHook = Callable[[ClientConnection], Awaitable[None]]
DisconnectHook = Callable[[BaseException | None], Awaitable[None] | None]
HeaderFactory = Callable[[], Mapping[str, str]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with jitter; `healthy_after` seconds connected resets it."""

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2
    healthy_after: float = 10.0


class Backoff:
    """Delays for consecutive failed connections: initial * multiplier**n, capped, +/- jitter.

    Jitter spreads reconnects of many clients after a venue-wide drop; it is applied
    below the cap so the delay never exceeds `maximum`.
    """

    __slots__ = ("_attempt", "_policy", "_random")

    def __init__(self, policy: BackoffPolicy, rand: Callable[[], float] = random.random) -> None:
        self._policy = policy
        self._random = rand
        self._attempt = 0

    def next_delay(self) -> float:
        p = self._policy
        base = min(p.maximum, p.initial * p.multiplier**self._attempt)
        self._attempt += 1
        spread = base * p.jitter * (2 * self._random() - 1)
        return max(0.0, min(p.maximum, base + spread))

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempt(self) -> int:
        return self._attempt


@dataclass(slots=True)
class StreamCounters:
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    frames: int = 0
    handler_errors: int = 0
    pings_sent: int = 0


class ReconnectingWebSocket:
    """Run `run()` as a task; `stop()` ends it cleanly (closes the socket, cancels the wait).

    `sleep` and `clock` are injectable so backoff can be tested without real waiting.
    With `immediate_reconnect`, the first attempt after losing an established
    connection is made at once (RTDS drops healthy connections by design); failed
    attempts still back off.
    """

    def __init__(
        self,
        url: str,
        on_frame: FrameHandler,
        *,
        on_connect: ConnectHook | None = None,
        on_disconnect: DisconnectHook | None = None,
        headers: HeaderFactory | None = None,
        ping_payload: str | None = None,
        pong_payload: str | None = None,
        ping_interval: float = 10.0,
        policy: BackoffPolicy | None = None,
        immediate_reconnect: bool = False,
        open_timeout: float = 10.0,
        max_size: int | None = 16 * 1024 * 1024,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        name: str = "ws",
    ) -> None:
        self.url = url
        self.name = name
        self.counters = StreamCounters()
        self.connected = asyncio.Event()
        self._on_frame = on_frame
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._headers = headers
        self._ping_payload = ping_payload
        self._pong_payload = pong_payload
        self._ping_interval = ping_interval
        self._policy = policy or BackoffPolicy()
        self._backoff = Backoff(self._policy, rand)
        self._immediate = immediate_reconnect
        self._open_timeout = open_timeout
        self._max_size = max_size
        self._sleep = sleep
        self._clock = clock
        self._stopping = asyncio.Event()
        self._ws: ClientConnection | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def send(self, data: str | bytes) -> None:
        """Send on the live connection; raises ConnectionError while disconnected or when the send fails."""
        ws = self._ws
        if ws is None:
            raise ConnectionError(f"{self.name}: not connected")
        try:
            await ws.send(data)
        except ConnectionClosed as exc:
            raise ConnectionError(f"{self.name}: connection closed while sending") from exc

    async def stop(self) -> None:
        self._stopping.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    async def run(self) -> None:
        """Connect and read until `stop()`; never raises for network or handler trouble."""
        back_off = False
        while not self._stopping.is_set():
            if back_off:
                await self._wait(self._backoff.next_delay())
                if self._stopping.is_set():
                    break
            lost_established = await self._session()
            back_off = not (lost_established and self._immediate)

    async def _session(self) -> bool:
        """One connection's lifetime; returns True when an established connection was lost."""
        try:
            extra = dict(self._headers()) if self._headers is not None else None
        except Exception:
            self.counters.connect_failures += 1
            log.exception("%s: building handshake headers failed", self.name)
            return False
        try:
            ws = await connect(
                self.url,
                additional_headers=extra,
                open_timeout=self._open_timeout,
                max_size=self._max_size,
                proxy=None,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self.counters.connect_failures += 1
            log.warning("%s: connect to %s failed: %r", self.name, self.url, exc)
            return False
        if self._stopping.is_set():
            await ws.close()
            return False
        self._ws = ws
        self.counters.connects += 1
        started = self._clock()
        error: BaseException | None = None
        pinger: asyncio.Task[None] | None = None
        try:
            if self._on_connect is not None:
                await self._on_connect(ws)
            self.connected.set()
            if self._ping_payload is not None:
                pinger = asyncio.create_task(self._ping(ws), name=f"{self.name}-ping")
            await self._read(ws)
        except ConnectionClosed as exc:
            error = exc if exc.rcvd is None or exc.rcvd.code != 1000 else None
        except (OSError, TimeoutError) as exc:
            error = exc
        except Exception as exc:
            log.exception("%s: on_connect hook failed", self.name)
            error = exc
        finally:
            self.connected.clear()
            self._ws = None
            if pinger is not None:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            await ws.close()
        if self._clock() - started >= self._policy.healthy_after:
            self._backoff.reset()
        if self._stopping.is_set():
            return False
        self.counters.disconnects += 1
        log.warning("%s: disconnected from %s: %r", self.name, self.url, error)
        await self._notify_disconnect(error)
        return True

    async def _read(self, ws: ClientConnection) -> None:
        counters = self.counters
        pong = self._pong_payload
        handler = self._on_frame
        async for frame in ws:
            text = frame if isinstance(frame, str) else frame.decode()
            if pong is not None and text == pong:
                continue
            counters.frames += 1
            try:
                result = handler(text)
                if result is not None:
                    await result
            except Exception:
                counters.handler_errors += 1
                log.exception("%s: frame handler failed on %.200s", self.name, text)

    async def _ping(self, ws: ClientConnection) -> None:
        payload = self._ping_payload
        assert payload is not None
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await ws.send(payload)
            except ConnectionClosed:
                return
            self.counters.pings_sent += 1

    async def _notify_disconnect(self, error: BaseException | None) -> None:
        if self._on_disconnect is None:
            return
        try:
            result = self._on_disconnect(error)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("%s: on_disconnect hook failed", self.name)

    async def _wait(self, delay: float) -> None:
        """Sleep `delay` (via the injected sleep) unless `stop()` comes first."""
        sleeper = self._sleep(delay) if self._sleep is not None else asyncio.sleep(delay)
        sleep_task = asyncio.ensure_future(sleeper)
        stop_task = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleep_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleep_task, stop_task):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(sleep_task, stop_task, return_exceptions=True)
