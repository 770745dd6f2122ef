"""The order lane (venues/lane.py) against a raw TCP server that records every byte and connection.

The server answers each complete request with a scripted reply, so the tests see what
httpx's own transport and the lane put on the wire, on which connection, and how each
copes with a server that closes, stalls or answers oddly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import gzip
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import h11
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from venues import lane as order_lane
from venues.errors import UnknownOutcomeError
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.client import KalshiClient
from venues.lane import LANE, LaneTransport, Origin, _Connection, serialize_ahead

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n" + b'{"ok":true}'
Reply = Callable[[int], bytes | None]
"""The n-th request's reply (n from 0); None: close the connection without answering; b"": stay silent."""


@dataclass
class RawServer:
    reply: Reply
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    """(connection number, the request's bytes as received)"""
    connections: int = 0
    url: str = ""
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        self.writers.append(writer)
        parser = h11.Connection(our_role=h11.SERVER)
        raw = b""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                raw += data
                parser.receive_data(data)
                while (event := parser.next_event()) is not h11.NEED_DATA:
                    if isinstance(event, h11.EndOfMessage):
                        self.requests.append((number, raw))
                        raw = b""
                        answer = self.reply(len(self.requests) - 1)
                        if answer is None:
                            writer.close()
                            return
                        writer.write(answer)
                        parser = h11.Connection(our_role=h11.SERVER)
                        break
        finally:
            writer.close()

    def close_idle(self) -> None:
        """What a server's keep-alive timeout does."""
        for writer in self.writers:
            writer.close()


@contextlib.asynccontextmanager
async def raw_server(reply: Reply = lambda _: OK, tls: ssl.SSLContext | None = None) -> AsyncIterator[RawServer]:
    server = RawServer(reply)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    async with listener:
        try:
            yield server
        finally:
            server.close_idle()
            listener.close()
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def lane_client(timeout: float = 5.0) -> AsyncIterator[tuple[httpx.AsyncClient, LaneTransport]]:
    transport = LaneTransport()
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        yield client, transport


async def until(condition: Callable[[], bool], limit_s: float = 2.0) -> None:
    async with asyncio.timeout(limit_s):
        while not condition():
            await asyncio.sleep(0.005)


async def warmed(transport: LaneTransport, url: str) -> None:
    await warmed_many(transport, url)


async def warmed_many(transport: LaneTransport, url: str) -> None:
    """The lane to `url`'s host connected (other lanes of `transport` may exist)."""
    transport.warm(url)
    to = transport._lanes[Origin.of(httpx.URL(url))]
    await until(lambda: to.ready() is not None)


ORDER_TARGET = "/trade-api/v2/portfolio/orders?x=1&y=%20z"
ORDER_BODY = b'{"ticker":"KX-1","side":"yes","count":3,"yes_price":42}'
ORDER_HEADERS = {"KALSHI-ACCESS-KEY": "key", "KALSHI-ACCESS-SIGNATURE": "c2ln", "content-type": "application/json"}


async def post_order_with_httpx(url: str) -> None:
    """The reference bytes: the order as httpx's own transport puts it on the wire."""
    async with httpx.AsyncClient() as plain:
        await plain.post(url, content=ORDER_BODY, headers=ORDER_HEADERS)


def record_writes(connection: _Connection | None, happened: list[str]) -> None:
    """Note "written" in `happened` each time the lane connection writes to its socket."""
    assert connection is not None and connection._transport is not None
    real_write = connection._transport.write

    def write(data: bytes | bytearray | memoryview) -> None:
        happened.append("written")
        real_write(data)

    connection._transport.write = write  # type: ignore[method-assign]


async def test_the_lane_puts_the_same_bytes_on_the_wire_as_httpx() -> None:
    async with raw_server() as server:
        url = server.url + ORDER_TARGET
        await post_order_with_httpx(url)
        async with lane_client() as (client, transport):
            await warmed(transport, server.url)
            response = await client.post(url, content=ORDER_BODY, headers=ORDER_HEADERS, extensions={LANE: True})
    assert response.status_code == 200 and response.json() == {"ok": True}
    (first_connection, by_httpx), (lane_connection, by_lane) = server.requests
    assert lane_connection != first_connection
    assert by_lane == by_httpx
    assert by_lane.startswith(b"POST /trade-api/v2/portfolio/orders?x=1&y=%20z HTTP/1.1\r\n")


async def test_an_order_leaves_before_any_other_ready_task_runs() -> None:
    """The point of the lane: the write happens in the step that sends, not after other tasks had the loop."""
    async with raw_server() as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        happened: list[str] = []
        record_writes(transport._lanes[next(iter(transport._lanes))].ready(), happened)

        async def other() -> None:
            happened.append("other task")

        sending = asyncio.create_task(client.post(server.url + "/order", content=b"{}", extensions={LANE: True}))
        competitor = asyncio.create_task(other())
        await asyncio.gather(sending, competitor)
    assert happened == ["written", "other task"]


async def test_a_request_serialized_ahead_puts_httpx_bytes_on_the_wire_and_the_lane_serves_the_next() -> None:
    async with raw_server() as server:
        url = server.url + ORDER_TARGET
        await post_order_with_httpx(url)
        async with lane_client() as (client, transport):
            await warmed(transport, server.url)
            for _ in range(2):
                request = client.build_request(
                    "POST", url, content=ORDER_BODY, headers=ORDER_HEADERS, extensions={LANE: True}
                )
                serialize_ahead(request)
                sent = transport.send_now(request)
                assert sent is not None
                response = await sent
                assert response.status_code == 200 and await response.aread() == OK.split(b"\r\n\r\n")[1]
    (first_connection, by_httpx), *on_lane = server.requests
    assert [raw for _, raw in on_lane] == [by_httpx, by_httpx]
    assert len({number for number, _ in on_lane} | {first_connection}) == 2


async def test_legs_serialized_ahead_are_all_written_before_h11_is_told_of_either(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The point of serializing ahead: the second leg is not written behind the first one's bookkeeping."""
    happened: list[str] = []
    real_record = order_lane._record

    def record(connection: h11.Connection, request: httpx.Request) -> bytes:
        happened.append(f"h11 {request.url.host}")
        return real_record(connection, request)

    async with raw_server() as one, raw_server() as other, lane_client() as (client, transport):
        requests = []
        for server, host in ((one, "127.0.0.1"), (other, "localhost")):
            url = server.url.replace("127.0.0.1", host)
            await warmed_many(transport, url)
            request = client.build_request("POST", url + "/order", content=b"{}", extensions={LANE: True})
            serialize_ahead(request)
            requests.append(request)
        for to in transport._lanes.values():
            record_writes(to.ready(), happened)
        monkeypatch.setattr(order_lane, "_record", record)
        sends = [transport.send_now(request) for request in requests]
        assert all(sent is not None for sent in sends)
        answers = await asyncio.gather(*[sent for sent in sends if sent is not None])
    assert happened == ["written", "written", "h11 127.0.0.1", "h11 localhost"]
    assert [a.status_code for a in answers] == [200, 200]


async def test_an_answer_read_before_h11_caught_up_is_still_parsed() -> None:
    """Whatever order a loop runs its callbacks in, h11 learns of the request before reading its answer."""
    async with raw_server(lambda _: b"") as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        connection = transport._lanes[next(iter(transport._lanes))].ready()
        assert connection is not None
        request = client.build_request("POST", server.url + "/order", content=b"{}", extensions={LANE: True})
        serialize_ahead(request)
        answer = connection.send(request)
        connection.data_received(OK)
        response = await answer
        assert response.status_code == 200 and connection.idle


async def test_requests_reuse_one_connection_and_unmarked_ones_take_the_pool() -> None:
    async with raw_server() as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        for _ in range(3):
            assert (await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})).status_code == 200
        await client.get(server.url + "/balance")
    lane_connections = {number for number, _ in server.requests[:3]}
    assert len(lane_connections) == 1
    assert server.requests[3][0] not in lane_connections


async def test_a_busy_lane_sends_the_next_order_through_the_pool() -> None:
    async with raw_server() as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        both = await asyncio.gather(
            client.post(server.url + "/order", content=b"1", extensions={LANE: True}),
            client.post(server.url + "/order", content=b"2", extensions={LANE: True}),
        )
    assert [r.status_code for r in both] == [200, 200]
    assert len({number for number, _ in server.requests}) == 2


async def test_the_first_order_takes_the_pool_while_the_lane_connects() -> None:
    async with raw_server() as server, lane_client() as (client, transport):
        first = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
        lane = transport._lanes[next(iter(transport._lanes))]
        await until(lambda: lane.ready() is not None)
        second = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert first.status_code == second.status_code == 200
    assert server.connections == 2 and server.requests[0][0] != server.requests[1][0]


async def test_after_the_server_closes_an_idle_lane_it_reconnects() -> None:
    async with raw_server() as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
        server.close_idle()
        lane = transport._lanes[next(iter(transport._lanes))]
        await until(lambda: server.connections == 2 and lane.ready() is not None)
        response = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert response.status_code == 200
    assert [number for number, _ in server.requests] == [0, 1]


async def test_chunked_and_gzipped_answers_are_decoded_and_the_connection_kept() -> None:
    body = gzip.compress(b'{"order":{"order_id":"abc"}}')
    chunked = (
        b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
        + f"{len(body[:10]):x}\r\n".encode()
        + body[:10]
        + b"\r\n"
        + f"{len(body[10:]):x}\r\n".encode()
        + body[10:]
        + b"\r\n0\r\n\r\n"
    )
    async with raw_server(lambda n: chunked if n == 0 else OK) as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        first = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
        second = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert first.status_code == 201 and first.json() == {"order": {"order_id": "abc"}}
    assert second.json() == {"ok": True}
    assert {number for number, _ in server.requests} == {0}


async def test_an_answer_asking_to_close_is_honoured_and_the_lane_reconnects() -> None:
    closing = OK.replace(b"content-length: 11\r\n", b"content-length: 11\r\nconnection: close\r\n")
    async with raw_server(lambda n: closing if n == 0 else OK) as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
        lane = transport._lanes[next(iter(transport._lanes))]
        await until(lambda: server.connections == 2 and lane.ready() is not None)
        await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert [number for number, _ in server.requests] == [0, 1]


async def test_a_server_that_closes_without_answering_raises_what_httpcore_raises() -> None:
    async with raw_server(lambda _: None) as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        with pytest.raises(httpx.RemoteProtocolError) as raised:
            await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert raised.value.request.url.path == "/order"
    assert len(server.requests) == 1


async def test_no_answer_in_time_is_a_read_timeout_and_a_fresh_connection_follows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with raw_server(lambda n: b"" if n == 0 else OK) as server, lane_client(timeout=0.2) as (client, transport):
        await warmed(transport, server.url)
        with pytest.raises(httpx.ReadTimeout):
            await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
        lane = transport._lanes[next(iter(transport._lanes))]
        await until(lambda: lane.ready() is not None)
        response = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert response.status_code == 200
    assert [number for number, _ in server.requests] == [0, 1]
    gc.collect()
    assert "never retrieved" not in caplog.text  # the abandoned answer was dropped with its connection


async def test_a_garbled_answer_is_a_protocol_error() -> None:
    async with raw_server(lambda _: b"HTTP/1.1 abc nonsense\r\n\r\n") as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})


async def test_a_cancelled_send_drops_the_connection_so_no_late_answer_is_misread() -> None:
    async with raw_server(lambda n: b"" if n == 0 else OK) as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        sending = asyncio.create_task(client.post(server.url + "/order", content=b"1", extensions={LANE: True}))
        await until(lambda: len(server.requests) == 1)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        lane = transport._lanes[next(iter(transport._lanes))]
        await until(lambda: lane.ready() is not None)
        response = await client.post(server.url + "/order", content=b"2", extensions={LANE: True})
    assert response.json() == {"ok": True}
    assert [number for number, _ in server.requests] == [0, 1]


async def test_a_venue_client_reports_a_lost_answer_on_the_lane_as_an_unknown_outcome() -> None:
    """Through KalshiClient: the saga must reconcile such an order, never assume it was not placed."""
    async with raw_server(lambda _: None) as server:
        signer = KalshiSigner("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))
        client = KalshiClient(server.url + "/trade-api/v2", signer=signer)
        try:
            client.warm_lane(client.base_url)
            assert client._lanes is not None
            lane = client._lanes._lanes[next(iter(client._lanes._lanes))]
            await until(lambda: lane.ready() is not None)
            with pytest.raises(UnknownOutcomeError):
                await client.cancel_order("order-1")
        finally:
            await client.aclose()
    assert server.requests and server.requests[0][1].startswith(b"DELETE /trade-api/v2/portfolio/orders/order-1 ")


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 and a client context that trusts only its certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "venue.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


async def test_the_lane_speaks_tls_and_checks_the_certificate(tmp_path: Path) -> None:
    server_tls, trusting = self_signed(tmp_path)
    async with raw_server(tls=server_tls) as server:
        transport = LaneTransport(httpx.AsyncHTTPTransport(verify=trusting), ssl_context=trusting)
        async with httpx.AsyncClient(transport=transport) as client:
            await warmed(transport, server.url)
            response = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
        untrusting = LaneTransport(httpx.AsyncHTTPTransport(verify=trusting))
        async with httpx.AsyncClient(transport=untrusting) as client:
            untrusting.warm(server.url)
            await asyncio.sleep(0.2)
            lane = untrusting._lanes[next(iter(untrusting._lanes))]
            assert lane.ready() is None
    assert response.json() == {"ok": True}
    assert [number for number, _ in server.requests] == [0]


async def test_a_server_dropping_every_connection_is_not_hammered() -> None:
    dropped: list[int] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dropped.append(1)
        writer.close()

    listener = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener, lane_client() as (_, transport):
        transport.warm(f"http://127.0.0.1:{port}")
        await asyncio.sleep(1.0)
    assert 2 <= len(dropped) <= 3, "reconnects back off: at 0 s, 0.5 s, then 1.5 s"


async def test_bytes_arriving_with_no_request_in_flight_drop_the_connection() -> None:
    """They cannot be an answer to anything; kept, they would be read as the next order's answer."""
    async with raw_server() as server, lane_client() as (client, transport):
        await warmed(transport, server.url)
        server.writers[0].write(OK)
        lane = transport._lanes[next(iter(transport._lanes))]
        await until(lambda: server.connections == 2 and lane.ready() is not None)
        response = await client.post(server.url + "/order", content=b"{}", extensions={LANE: True})
    assert response.json() == {"ok": True}
    assert [number for number, _ in server.requests] == [1]


async def test_a_configured_proxy_means_no_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane connects directly; with a proxy in the environment every request goes through httpx's pool."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    async with KalshiClient("https://demo-api.kalshi.co/trade-api/v2") as proxied:
        assert proxied._lanes is None
    monkeypatch.delenv("HTTPS_PROXY")
    async with KalshiClient("https://demo-api.kalshi.co/trade-api/v2") as direct:
        assert direct._lanes is not None
