"""The HTTP session a venue client owns, or borrows from its caller (tests, a shared pool).

It rate-limits and sends the requests its client builds, and turns httpx's transport
failures into the venue errors sagas act on: not sent (the venue never saw it) or, for a
write, an unknown outcome (it may have been placed; reconcile before anything else). A
session that owns its client sends writes on a warm lane (`venues.lane`), and can send a
request prepared ahead in the very step it is asked to (`send_now`); a borrowed client
is used as given, and so is the environment's proxy: with one configured there is no lane
(it would connect around the proxy).
"""

from __future__ import annotations

import contextlib
import re
import urllib.request
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

import httpx

from domain.models import Venue
from venues.errors import UnknownOutcomeError, VenueUnavailableError
from venues.lane import LaneTransport, serialize_ahead
from venues.ratelimit import RequestKind, VenueRateLimiter

_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """How long a 429 asks us to wait, from `Retry-After` (RFC 9110: delta-seconds or an HTTP date).

    A fractional number of seconds, which some servers send, is taken as given rather than
    dropped: waiting what the venue asked is the safe side. Anything else (negative, garbage, an
    unparseable date) is None, and the limiter falls back to its own pause.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class HttpSession:
    """Closes the httpx client only if it created it; usable as `async with Client(...) as c`."""

    venue: Venue
    _limiter: VenueRateLimiter

    def __init__(self, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._lanes = LaneTransport() if http is None and not urllib.request.getproxies() else None
        self._http = http or httpx.AsyncClient(timeout=timeout, transport=self._lanes)
        self._owns_http = http is None

    def warm_lane(self, url: str) -> None:
        """Connect the order lane to `url`'s host ahead of the first order (no-op on a borrowed client)."""
        if self._lanes is not None:
            self._lanes.warm(url)

    def ahead(self, request: httpx.Request) -> httpx.Request:
        """`request`, to be sent moments later by `_send_now`: its host's lane connected and, as it will go
        on that lane, its bytes serialized now (the send then only writes them)."""
        if self._lanes is not None:
            self._lanes.warm(request.url)
            serialize_ahead(request)
        return request

    async def _exchange(self, request: httpx.Request, kind: RequestKind, cost: float = 1.0) -> httpx.Response:
        """Wait for the rate limiter, send, and read the answer."""
        await self._limiter.acquire(kind, cost)
        with self._mapped(request, kind):
            return await self._http.send(request)

    def _send_now(self, request: httpx.Request, kind: RequestKind) -> Awaitable[httpx.Response] | None:
        """Send `request` before returning if the lane is free and the limiter has a token; None: not sent."""
        if self._lanes is None:
            return None
        sent = self._lanes.send_now(request, lambda: self._limiter.bucket(kind).try_acquire())
        return None if sent is None else self._answer(request, kind, sent)

    async def _answer(
        self, request: httpx.Request, kind: RequestKind, sent: Awaitable[httpx.Response]
    ) -> httpx.Response:
        with self._mapped(request, kind):
            response = await sent
            await response.aread()
            return response

    @contextlib.contextmanager
    def _mapped(self, request: httpx.Request, kind: RequestKind) -> Iterator[None]:
        what = f"{request.method} {request.url.path}"
        try:
            yield
        except _NOT_SENT as exc:
            raise VenueUnavailableError(self.venue, f"{what}: {exc!r}") from exc
        except _MAYBE_SENT as exc:
            error = VenueUnavailableError if kind is RequestKind.READ else UnknownOutcomeError
            raise error(self.venue, f"{what}: no answer after sending: {exc!r}") from exc

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
