"""The HTTP session a venue client owns, or borrows from its caller (tests, a shared pool).

A session it owns sends order writes on a warm lane (`venues.lane`); a borrowed client is
used as given.
"""

from __future__ import annotations

from typing import Self

import httpx

from venues.lane import LaneTransport


class HttpSession:
    """Closes the httpx client only if it created it; usable as `async with Client(...) as c`."""

    def __init__(self, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._lanes = LaneTransport() if http is None else None
        self._http = http or httpx.AsyncClient(timeout=timeout, transport=self._lanes)
        self._owns_http = http is None

    def warm_lane(self, url: str) -> None:
        """Connect the order lane to `url`'s host ahead of the first order (no-op on a borrowed client)."""
        if self._lanes is not None:
            self._lanes.warm(url)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
