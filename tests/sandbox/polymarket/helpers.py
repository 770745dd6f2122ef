"""Shared helpers of the Polymarket sandbox tests: funded py-clob-client instances and signed orders."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from eth_account import Account
from py_clob_client.client import ClobClient
from py_clob_client.clob_types import OrderArgs, RequestArgs
from py_clob_client.headers.headers import create_level_2_headers
from py_clob_client.utilities import order_to_json

from sandbox.polymarket import PolymarketState, SandboxUrls
from sandbox.polymarket.state import SandboxMarket


@dataclass
class RunningSandbox:
    """What the `polymarket` fixture yields: the venue state, its URLs and its seeded market."""

    state: PolymarketState
    urls: SandboxUrls
    market: SandboxMarket


async def funded_client(sandbox: RunningSandbox, usdc: int = 1_000_000_000) -> ClobClient:
    client = ClobClient(host=sandbox.urls.clob, key=Account.create().key.hex(), chain_id=137)
    client.set_api_creds(await asyncio.to_thread(client.create_or_derive_api_creds))
    sandbox.state.fund(client.get_address(), usdc)
    return client


async def place(client: ClobClient, token: str, price: float, size: float, side: str, kind: str = "GTC") -> dict:
    signed = await asyncio.to_thread(client.create_order, OrderArgs(token_id=token, price=price, size=size, side=side))
    return await asyncio.to_thread(client.post_order, signed, kind)


def l2_request(client: ClobClient, method: str, path: str, body: object = None) -> tuple[dict[str, str], bytes]:
    """Headers and exact body bytes py-clob-client would send, for driving the sandbox with httpx."""
    serialized = json.dumps(body, separators=(",", ":"), ensure_ascii=False) if body is not None else None
    args = RequestArgs(method=method, request_path=path, body=body, serialized_body=serialized)
    headers = create_level_2_headers(client.signer, client.creds, args)
    return headers, (serialized or "").encode()


async def order_body(client: ClobClient, token: str, price: float, size: float, side: str, kind: str = "GTC") -> dict:
    signed = await asyncio.to_thread(client.create_order, OrderArgs(token_id=token, price=price, size=size, side=side))
    return order_to_json(signed, client.creds.api_key, kind)
