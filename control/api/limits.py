"""Per-key rate limits by tier, and a cap on request bodies: both refuse before any work is done.

A token bucket per API key: the shared tier gets a modest steady rate with a burst, the enterprise
tier more. Waiting is the caller's choice: a refusal says, in `Retry-After`, when a token is back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control.api.problems import TooMany, problem

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int


TIER_RATES = {"shared": Rate(per_second=5.0, burst=20), "enterprise": Rate(per_second=50.0, burst=200)}


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    rates: dict[str, Rate] = field(default_factory=lambda: dict(TIER_RATES))
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, tier: str) -> None:
        rate = self.rates.get(tier, self.rates["shared"])
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(float(rate.burst), now))
        bucket.tokens = min(float(rate.burst), bucket.tokens + (now - bucket.at) * rate.per_second)
        bucket.at = now
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / rate.per_second)
            raise TooMany(f"rate limit of the {tier} tier ({rate.per_second:g}/s, burst {rate.burst})", max(1, wait))
        bucket.tokens -= 1


class BodyLimit:
    """Refuse an oversized body as it arrives (413), also when it comes without a Content-Length."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await problem(413, f"request bodies are limited to {self.max_bytes} bytes")(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await problem(413, f"request bodies are limited to {self.max_bytes} bytes")(scope, receive, send)


class _TooLarge(Exception):
    pass
