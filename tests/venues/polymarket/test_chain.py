"""Polygon access against local JSON-RPC stubs on 127.0.0.1 (one dead, one failing, one healthy)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import orjson
import pytest
import rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from venues.polymarket.chain import AllEndpointsDown, Polygon
from venues.polymarket.constants import POLYGON, contracts

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
CONDITION = "0x" + "ab" * 32
GWEI = 10**9


def word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


class RpcNode:
    """Answers the handful of JSON-RPC methods the chain module uses; remembers every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.sent: list[str] = []

    def answer(self, request: dict[str, Any]) -> Any:
        self.calls.append(request)
        method, params = request["method"], request["params"]
        if method == "eth_chainId":
            return hex(POLYGON)
        if method == "eth_call":
            selector = params[0]["data"][:10]
            return word(12_345_678 if selector == "0x" + keccak(text="balanceOf(address)")[:4].hex() else 5_000_000)
        if method == "eth_getTransactionCount":
            return "0x7"
        if method == "eth_estimateGas":
            return hex(100_000)
        if method == "eth_maxPriorityFeePerGas":
            return hex(30 * GWEI)
        if method == "eth_getBlockByNumber":
            return {
                "number": "0x10",
                "hash": "0x" + "11" * 32,
                "parentHash": "0x" + "22" * 32,
                "baseFeePerGas": hex(100 * GWEI),
                "gasLimit": "0x1c9c380",
                "gasUsed": "0x0",
                "timestamp": "0x6553f100",
                "transactions": [],
                "miner": "0x" + "00" * 20,
                "difficulty": "0x0",
                "extraData": "0x",
                "logsBloom": "0x" + "00" * 256,
                "nonce": "0x" + "00" * 8,
                "receiptsRoot": "0x" + "33" * 32,
                "sha3Uncles": "0x" + "44" * 32,
                "size": "0x1",
                "stateRoot": "0x" + "55" * 32,
                "transactionsRoot": "0x" + "66" * 32,
                "uncles": [],
            }
        if method == "eth_sendRawTransaction":
            self.sent.append(params[0])
            return "0x" + keccak(hexstr=params[0]).hex()
        raise AssertionError(f"unexpected RPC {method}")


@asynccontextmanager
async def http_stub(respond: Callable[[bytes], tuple[int, bytes]]) -> AsyncIterator[str]:
    """A minimal HTTP/1.1 server: one request per connection, answered by `respond(body)`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        status, body = respond(await reader.readexactly(length))
        writer.write(
            b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (status, len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def json_rpc(node: RpcNode) -> Callable[[bytes], tuple[int, bytes]]:
    def respond(body: bytes) -> tuple[int, bytes]:
        request = orjson.loads(body)
        return 200, orjson.dumps({"jsonrpc": "2.0", "id": request["id"], "result": node.answer(request)})

    return respond


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_reads_fail_over_to_the_healthy_endpoint() -> None:
    node = RpcNode()
    async with http_stub(lambda _: (502, b"bad gateway")) as failing, http_stub(json_rpc(node)) as healthy:
        chain = Polygon([dead_url(), failing, healthy])
        owner = Account.from_key(KEY).address
        assert await chain.usdc_balance(owner) == Decimal("12.345678")
        assert await chain.usdc_allowance(owner, contracts(POLYGON).exchange) == Decimal(5)
        assert chain.provider.failovers == 1  # sticky: the second read went straight to the healthy node
        eth_calls = [c for c in node.calls if c["method"] == "eth_call"]
        assert len(eth_calls) == 2
        call = eth_calls[0]["params"][0]
        assert to_checksum_address(call["to"]) == contracts(POLYGON).collateral
        await chain.aclose()


async def test_all_endpoints_down() -> None:
    chain = Polygon([dead_url(), dead_url()])
    with pytest.raises(AllEndpointsDown):
        await chain.usdc_balance("0x" + "12" * 20)
    assert not await chain.provider.is_connected()
    await chain.aclose()


def decode_raw(raw: bytes) -> list[Any]:
    assert raw[0] == 2  # EIP-1559
    return rlp.decode(raw[1:])


async def test_split_dry_run_signs_but_does_not_send() -> None:
    node = RpcNode()
    async with http_stub(json_rpc(node)) as healthy:
        chain = Polygon([dead_url(), healthy], private_key=KEY)
        tx = await chain.split(CONDITION, Decimal("12.5"))
        await chain.aclose()
    assert not tx.sent and node.sent == []
    assert Account.recover_transaction(tx.raw) == Account.from_key(KEY).address
    fields = decode_raw(tx.raw)
    chain_id, nonce, priority, max_fee, gas, to, value, data = fields[:8]
    assert int.from_bytes(chain_id) == POLYGON and int.from_bytes(nonce) == 7
    assert int.from_bytes(priority) == 30 * GWEI and int.from_bytes(max_fee) == 230 * GWEI
    assert int.from_bytes(gas) == 125_000
    assert to_checksum_address(to) == contracts(POLYGON).conditional_tokens and value == b""
    assert data[:4] == keccak(text="splitPosition(address,bytes32,bytes32,uint256[],uint256)")[:4]
    assert data[4 + 32 * 2 : 4 + 32 * 3] == bytes.fromhex("ab" * 32)  # condition id
    assert int.from_bytes(data[4 + 32 * 4 : 4 + 32 * 5]) == 12_500_000  # amount in 1e-6 units


async def test_merge_and_redeem_are_sent_when_not_dry_run() -> None:
    node = RpcNode()
    async with http_stub(json_rpc(node)) as healthy:
        chain = Polygon([healthy], private_key=KEY, dry_run=False)
        merged = await chain.merge(CONDITION, Decimal(3))
        redeemed = await chain.redeem(CONDITION)
        await chain.aclose()
    assert merged.sent and redeemed.sent
    assert node.sent == ["0x" + merged.raw.hex(), "0x" + redeemed.raw.hex()]
    assert decode_raw(redeemed.raw)[7][:4] == keccak(text="redeemPositions(address,bytes32,bytes32,uint256[])")[:4]


async def test_bad_amounts_and_missing_key_are_refused() -> None:
    chain = Polygon([dead_url()], private_key=KEY)
    with pytest.raises(ValueError):
        await chain.split(CONDITION, Decimal("0.0000001"))
    with pytest.raises(ValueError):
        await chain.merge(CONDITION, Decimal(0))
    with pytest.raises(ValueError):
        await chain.redeem("0x1234")
    with pytest.raises(ValueError):
        await Polygon([dead_url()]).redeem(CONDITION)
    await chain.aclose()
