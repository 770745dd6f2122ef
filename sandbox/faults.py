"""Runtime-configurable fault injection for a sandbox venue.

Chaos tests need the failures real venues produce: slow answers, 5xx and 429
bursts, rejected orders, partial fills, dropped sockets, sequence gaps, and the
worst one for a trading system — an order that IS placed while the client sees a
timeout. One `FaultInjector` per venue holds the current settings; the venue
consults it at fixed points, so a fault is deterministic and countable:

* `FaultMiddleware` (pure ASGI) applies latency, hangs and HTTP error bursts to
  every non-admin HTTP request.
* Order handlers call `take_rejection()`, `take_order_timeout()` (then place the
  order and `await stall()` before answering) and read `partial_fill_ratio`.
* Streams call `take_seq_gap()` per sequenced message (Kalshi: the seq jumps;
  Polymarket: the message is not sent), `should_drop_ws(sent)` after each
  message, and register a close callback so `drop_ws_now` closes every socket.

Settings change at run time through `POST /_sandbox/faults` (partial update),
`GET` (settings + counters of faults fired) and `DELETE` (clear everything and
release whatever is stalled), or from Python with `configure()` / `clear()`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox"
ErrorBody = Callable[[int], dict[str, Any]]
CloseCallback = Callable[[], Coroutine[Any, Any, None]]


class FaultSettings(BaseModel):
    """Every fault knob; counts are consumed one per request/order/message."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int = Field(default=0, ge=0)
    jitter_ms: int = Field(default=0, ge=0)
    http_error_status: int = Field(default=503, ge=400, le=599)
    http_error_count: int = Field(default=0, ge=0)
    retry_after_s: int = Field(default=1, ge=0)
    reject_orders: int = Field(default=0, ge=0)
    reject_code: str | None = None
    reject_message: str | None = None
    partial_fill_ratio: Decimal | None = Field(default=None, gt=0, lt=1)
    timeout_orders: int = Field(default=0, ge=0)
    hang: bool = False
    ws_drop_every: int = Field(default=0, ge=0)
    seq_gaps: int = Field(default=0, ge=0)
    # a push feed (Polymarket RTDS) keeps answering pings but sends nothing
    push_silent: bool = False
    # each page after the first repeats this many rows of the page before (paged reads must dedupe)
    page_overlap: int = Field(default=0, ge=0)


class FaultInjector:
    """The live fault state of one venue; every method is cheap when no fault is set."""

    def __init__(self, venue: str, *, seed: int = 0) -> None:
        self.venue = venue
        self.settings = FaultSettings()
        self.fired: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._release = asyncio.Event()
        self._sockets: dict[int, CloseCallback] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._next_socket = 0

    # -- configuration -------------------------------------------------------------------------

    def configure(self, **changes: Any) -> FaultSettings:
        """Apply a partial update (validated); `drop_ws_now=True` closes every socket at once."""
        drop_now = bool(changes.pop("drop_ws_now", False))
        was_hanging = self.settings.hang
        merged = self.settings.model_dump() | changes
        self.settings = FaultSettings.model_validate(merged)
        if was_hanging and not self.settings.hang:
            self._release_stalled()
        if drop_now:
            self.fired["ws_drop"] += len(self._sockets)
            for close in list(self._sockets.values()):
                task = asyncio.get_running_loop().create_task(close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        return self.settings

    def clear(self) -> None:
        """Remove every fault and release every stalled request."""
        self.settings = FaultSettings()
        self._release_stalled()

    def snapshot(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "settings": self.settings.model_dump(mode="json"),
            "fired": dict(self.fired),
            "open_sockets": len(self._sockets),
        }

    def _release_stalled(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    # -- HTTP ----------------------------------------------------------------------------------

    async def delay(self) -> None:
        s = self.settings
        if s.latency_ms or s.jitter_ms:
            jitter = self._rng.uniform(0, s.jitter_ms) if s.jitter_ms else 0.0
            self.fired["latency"] += 1
            await asyncio.sleep((s.latency_ms + jitter) / 1000)

    async def stall(self) -> None:
        """Wait until the faults are cleared (or `hang` is switched off): the client's timeout fires first."""
        await self._release.wait()

    def take_http_error(self) -> int | None:
        if self.settings.http_error_count <= 0:
            return None
        self.settings.http_error_count -= 1
        self.fired[f"http_{self.settings.http_error_status}"] += 1
        return self.settings.http_error_status

    # -- orders --------------------------------------------------------------------------------

    def take_rejection(self) -> tuple[str | None, str | None] | None:
        """(code, message) overrides for the venue's own rejection shape, or None to accept."""
        if self.settings.reject_orders <= 0:
            return None
        self.settings.reject_orders -= 1
        self.fired["order_reject"] += 1
        return self.settings.reject_code, self.settings.reject_message

    def take_order_timeout(self) -> bool:
        if self.settings.timeout_orders <= 0:
            return False
        self.settings.timeout_orders -= 1
        self.fired["order_timeout"] += 1
        return True

    @property
    def partial_fill_ratio(self) -> Decimal | None:
        return self.settings.partial_fill_ratio

    def note_partial_fill(self) -> None:
        self.fired["partial_fill"] += 1

    # -- streams -------------------------------------------------------------------------------

    def take_seq_gap(self) -> bool:
        if self.settings.seq_gaps <= 0:
            return False
        self.settings.seq_gaps -= 1
        self.fired["seq_gap"] += 1
        return True

    def silenced(self) -> bool:
        """True when a push message is swallowed (counted), the feed looking alive all the while."""
        if not self.settings.push_silent:
            return False
        self.fired["push_silenced"] += 1
        return True

    def page_start(self, offset: int) -> int:
        """Where a page asked for at `offset` really starts: earlier by the overlap, never before 0."""
        overlap = self.settings.page_overlap
        if offset <= 0 or overlap <= 0:
            return offset
        self.fired["page_overlap"] += 1
        return max(0, offset - overlap)

    def should_drop_ws(self, sent: int) -> bool:
        every = self.settings.ws_drop_every
        if every and sent > 0 and sent % every == 0:
            self.fired["ws_drop"] += 1
            return True
        return False

    def register_socket(self, close: CloseCallback) -> int:
        self._next_socket += 1
        self._sockets[self._next_socket] = close
        return self._next_socket

    def unregister_socket(self, handle: int) -> None:
        self._sockets.pop(handle, None)


class FaultMiddleware:
    """Latency, hang and HTTP error bursts for every request outside the admin API."""

    def __init__(self, app: ASGIApp, faults: FaultInjector, error_body: ErrorBody) -> None:
        self.app = app
        self.faults = faults
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        await self.faults.delay()
        if self.faults.settings.hang:
            self.faults.fired["hang"] += 1
            await self.faults.stall()
        if scope["type"] == "http":
            status = self.faults.take_http_error()
            if status is not None:
                headers = {"Retry-After": str(self.faults.settings.retry_after_s)} if status == 429 else {}
                response = Response(
                    orjson.dumps(self.error_body(status)),
                    status_code=status,
                    headers=headers,
                    media_type="application/json",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def fault_routes(faults: FaultInjector) -> list[Route]:
    """`/_sandbox/faults`: GET settings and counters, POST a partial update, DELETE to clear."""

    async def show(_: Request) -> Response:
        return _json(faults.snapshot())

    async def update(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            faults.configure(**body)
        except (ValueError, ValidationError) as exc:
            return _json({"error": {"code": "invalid_faults", "message": str(exc)}}, status=400)
        return _json(faults.snapshot())

    async def clear(_: Request) -> Response:
        faults.clear()
        return _json(faults.snapshot())

    return [
        Route(f"{ADMIN_PREFIX}/faults", show, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", update, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/faults", clear, methods=["DELETE"]),
    ]


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")
