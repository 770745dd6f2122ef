"""A warm connection per venue host on which an order leaves in the same event-loop step as its `send`.

httpx's pool (httpcore over anyio) passes several checkpoints (lock and event waits,
each a `sleep(0)`) before a request's bytes reach the socket, and every one lets all
other ready tasks run first. Right after a saga's start returns, the Temporal worker's
activation of that saga is ready too, and the legs waited behind it: 1.5-2.5 ms from
`send` to the bytes written (bench/bench_tick_to_order.py). A request marked with the
`LANE` extension instead goes out on this module's connection at once: serialized with
h11 as httpcore serializes it (tests/venues/test_lane.py compares the bytes on
the wire), its answer parsed with h11 into the `httpx.Response` the venue clients already
handle, and its failures raised as the httpx errors httpcore would raise, so "sent but
no answer" stays an unknown outcome for the saga to reconcile.

A request prepared ahead (`serialize_ahead`, while a saga's start is in flight) carries its
bytes: the send writes them, and the connection's h11 state catches up in the next loop
step, before any answer can be read, so a second leg is not written behind the first's
bookkeeping.

A lane carries one request at a time (HTTP/1.1, no pipelining). A marked request finding
it busy, not yet connected or broken takes the pool, as an unmarked one does; the lane of
a host connects on its first marked request (or `warm`) and reconnects whenever the
server closes it, so it is ready for the next order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

import h11
import httpx

log = logging.getLogger(__name__)

LANE = "inertial.lane"
"""Request extension: `extensions={LANE: True}` asks for the lane (order writes and cancels)."""


WIRE = "inertial.lane.wire"
"""Request extension: the request's bytes, serialized ahead by `serialize_ahead`."""


def lane_if(write: bool) -> dict[str, object] | None:
    """The request extensions of a venue request: writes (orders, cancels) ask for the lane."""
    return {LANE: True} if write else None


def serialize_ahead(request: httpx.Request) -> None:
    """Put the request's bytes on it now, so its send on a lane only writes them."""
    request.extensions[WIRE] = _record(h11.Connection(our_role=h11.CLIENT), request)


def _record(connection: h11.Connection, request: httpx.Request) -> bytes:
    """The request as `connection` sends it (its state moves on to awaiting the answer): h11, as httpcore."""
    head = connection.send(h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw))
    body = connection.send(h11.Data(data=request.content)) if request.content else None
    end = connection.send(h11.EndOfMessage())
    return b"".join(part for part in (head, body, end) if part)


RECONNECT_BACKOFF_S = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
SHORT_LIVED_S = 1.0
"""A connection the server closes this soon without serving a request counts as a failed connect."""
MAX_INCOMPLETE_EVENT_SIZE = 100 * 1024
"""httpcore's limit for a response head."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: httpx.URL) -> Origin:
        port = url.port or (443 if url.scheme == "https" else 80)
        return cls(url.scheme, url.host, port)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses its answer into an httpx.Response."""

    def __init__(self, on_closed: Callable[[_Connection], None]) -> None:
        self._on_closed = on_closed
        self._transport: asyncio.Transport | None = None
        self._h11 = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_INCOMPLETE_EVENT_SIZE)
        self._request: httpx.Request | None = None
        self._answer: asyncio.Future[httpx.Response] | None = None
        self._head: h11.Response | None = None
        self._body: list[bytes] = []
        self._unrecorded: httpx.Request | None = None
        self.closed = False
        self.served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    @property
    def idle(self) -> bool:
        return (
            not self.closed
            and self._transport is not None
            and not self._transport.is_closing()
            and self._answer is None
            and self._h11.our_state is h11.IDLE
            and self._h11.their_state is h11.IDLE
        )

    def send(self, request: httpx.Request) -> asyncio.Future[httpx.Response]:
        """Write `request` now (the caller checked `idle`); the future holds its answer. Bytes serialized
        ahead are written as they are, and h11 is told in the next step (a second leg need not wait)."""
        assert self._transport is not None and self.idle
        loop = asyncio.get_running_loop()
        ahead = request.extensions.get(WIRE)
        data = ahead if isinstance(ahead, bytes) else _record(self._h11, request)
        self._request = request
        self._answer = loop.create_future()
        self._transport.write(data)
        if data is ahead:
            self._unrecorded = request
            loop.call_soon(self._catch_up)
        return self._answer

    def _catch_up(self) -> None:
        """h11 learns of a request written from its bytes ahead: after the write, before its answer is read."""
        request, self._unrecorded = self._unrecorded, None
        if request is not None:
            _record(self._h11, request)

    def data_received(self, data: bytes) -> None:
        self._catch_up()
        if self._answer is None:
            log.warning("order lane: %d bytes from the server with no request in flight; reconnecting", len(data))
            self.close()
            return
        self._h11.receive_data(data)
        self._read_events()

    def eof_received(self) -> bool:
        self._catch_up()
        self._h11.receive_data(b"")
        self._read_events()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(httpx.RemoteProtocolError(f"Server disconnected without sending a response ({exc!r})."))
        self._on_closed(self)

    def close(self) -> None:
        """Unilaterally, as httpcore does with a connection whose request was abandoned (its answer with it)."""
        self.closed = True
        if self._answer is not None:
            self._answer.cancel()
            self._reset()
        if self._transport is not None:
            self._transport.abort()

    def _read_events(self) -> None:
        while self._answer is not None:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(httpx.RemoteProtocolError(str(exc)))
                self.close()
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self._head = event
            elif isinstance(event, h11.Data):
                self._body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._complete()
            elif isinstance(event, h11.ConnectionClosed):
                self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))
                self.close()

    def _complete(self) -> None:
        head, answer, request = self._head, self._answer, self._request
        assert head is not None and answer is not None and request is not None
        response = httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=httpx.ByteStream(b"".join(self._body)),
            request=request,
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason},
        )
        self._reset()
        self.served += 1
        if not answer.done():
            answer.set_result(response)
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        else:
            self.close()

    def _fail(self, error: httpx.HTTPError) -> None:
        answer = self._answer
        if self._request is not None:
            error.request = self._request
        self._reset()
        if answer is not None and not answer.done():
            answer.set_exception(error)

    def _reset(self) -> None:
        self._request, self._answer, self._head, self._body = None, None, None, []


class _Lane:
    """The connection to one origin, kept connected while the transport is open."""

    def __init__(self, origin: Origin, ssl_context: ssl.SSLContext | None, connect_timeout: float) -> None:
        self.origin = origin
        self._ssl = ssl_context if origin.scheme == "https" else None
        self._connect_timeout = connect_timeout
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._failures = 0
        self._connected_at = 0.0
        self._closed = False

    def ready(self) -> _Connection | None:
        connection = self._connection
        if connection is not None and connection.idle:
            return connection
        if connection is None or connection.closed:
            self.connect()
        return None

    def connect(self) -> None:
        if self._closed or (self._connecting is not None and not self._connecting.done()):
            return
        if self._connection is not None and not self._connection.closed:
            return
        self._connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        delay = RECONNECT_BACKOFF_S[min(self._failures, len(RECONNECT_BACKOFF_S) - 1)]
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(self._lost),
                    self.origin.host,
                    self.origin.port,
                    ssl=self._ssl,
                    server_hostname=self.origin.host if self._ssl else None,
                ),
                self._connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            self._failures += 1
            log.warning("order lane to %s:%d could not connect: %r", self.origin.host, self.origin.port, exc)
            self._connecting = None
            self.connect()
            return
        self._failures = 0
        self._connection = connection
        self._connected_at = loop.time()
        self._connecting = None

    def _lost(self, connection: _Connection) -> None:
        """Reconnect at once after an idle timeout; back off from a server that drops every connection."""
        if connection is not self._connection or self._closed:
            return
        if not connection.served and asyncio.get_running_loop().time() - self._connected_at < SHORT_LIVED_S:
            self._failures += 1
        self.connect()

    async def aclose(self) -> None:
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._connection is not None:
            self._connection.close()


class LaneTransport(httpx.AsyncBaseTransport):
    """httpx's transport for a venue client: marked requests on the warm lane when it is free, the rest pooled."""

    def __init__(
        self,
        pool: httpx.AsyncBaseTransport | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self._pool = pool or httpx.AsyncHTTPTransport()
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout
        self._lanes: dict[Origin, _Lane] = {}

    def warm(self, url: httpx.URL | str) -> None:
        """Connect the lane to `url`'s host now, so the first order does not pay for it."""
        self._lane(httpx.URL(url))

    def _lane(self, url: httpx.URL) -> _Lane:
        origin = Origin.of(url)
        lane = self._lanes.get(origin)
        if lane is None:
            if origin.scheme == "https" and self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            lane = self._lanes[origin] = _Lane(origin, self._ssl, self._connect_timeout)
            lane.connect()
        return lane

    def send_now(
        self, request: httpx.Request, allowed: Callable[[], bool] = lambda: True
    ) -> Coroutine[None, None, httpx.Response] | None:
        """Write `request` on its host's lane before returning, if the lane is free and `allowed()` (a rate
        limiter's try) says yes; the coroutine then awaits the answer. None: nothing was sent."""
        if request.url.scheme not in ("http", "https") or not isinstance(request.stream, httpx.ByteStream):
            return None
        connection = self._lane(request.url).ready()
        if connection is None or not allowed():
            return None
        return self._answer(connection, request, connection.send(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = self.send_now(request) if request.extensions.get(LANE) else None
        if sent is not None:
            return await sent
        return await self._pool.handle_async_request(request)

    @staticmethod
    async def _answer(
        connection: _Connection, request: httpx.Request, answer: asyncio.Future[httpx.Response]
    ) -> httpx.Response:
        read_timeout = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(asyncio.shield(answer), read_timeout)
        except TimeoutError:
            connection.close()
            raise httpx.ReadTimeout("no answer on the order lane in time", request=request) from None
        except asyncio.CancelledError:
            connection.close()
            raise

    async def aclose(self) -> None:
        for lane in self._lanes.values():
            await lane.aclose()
        self._lanes.clear()
        await self._pool.aclose()
