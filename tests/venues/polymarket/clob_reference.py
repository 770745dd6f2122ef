"""py-clob-client as the reference implementation, with its HTTP answered locally.

`ClobClient.create_order` asks the venue for the token's tick size, neg-risk flag
and fee rate; a `MockTransport` answers from `TokenInfo`s so the library runs its
real code path without a network.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from py_clob_client.http_helpers import helpers


@dataclass
class TokenInfo:
    tick_size: str
    neg_risk: bool
    fee_rate_bps: int


def reference_http(tokens: dict[str, TokenInfo]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        info = tokens[request.url.params["token_id"]]
        if request.url.path == "/tick-size":
            return httpx.Response(200, json={"minimum_tick_size": float(info.tick_size)})
        if request.url.path == "/neg-risk":
            return httpx.Response(200, json={"neg_risk": info.neg_risk})
        if request.url.path == "/fee-rate":
            return httpx.Response(200, json={"base_fee": info.fee_rate_bps})
        return httpx.Response(404, json={"error": f"not mocked: {request.url.path}"})

    return httpx.Client(transport=httpx.MockTransport(answer))


def install(tokens: dict[str, TokenInfo]) -> httpx.Client:
    """Point py-clob-client's module-level HTTP client at the mock; returns the one it replaced."""
    previous = helpers._http_client
    helpers._http_client = reference_http(tokens)
    return previous
