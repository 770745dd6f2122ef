"""The HTTP session a venue client owns, or borrows from its caller (tests, a shared pool)."""

from __future__ import annotations

from typing import Self

import httpx


class HttpSession:
    """Closes the httpx client only if it created it; usable as `async with Client(...) as c`."""

    def __init__(self, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
