"""What a running set of sandbox venues looks like to whoever drives it: the runner builds these
handles, scenarios and replays move the markets through them (so none of them imports another)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sandbox.faults import FaultInjector
from sandbox.kalshi import KalshiVenue
from sandbox.kalshi.app import API, WS_PATH
from sandbox.polymarket.app import SandboxUrls
from sandbox.polymarket.state import PolymarketState


class Scenario(Protocol):
    """A started scenario: its markets exist; `run` keeps it moving (returns at once if it is static)."""

    async def run(self, rate: float, duration: float | None = None) -> None: ...


@dataclass(frozen=True)
class KalshiHandle:
    venue: KalshiVenue
    base_url: str

    @property
    def api_url(self) -> str:
        """What the official SDK takes as `host`: base URL + /trade-api/v2."""
        return self.base_url + API

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + WS_PATH

    @property
    def faults(self) -> FaultInjector:
        return self.venue.faults


@dataclass
class Sandboxes:
    """The venues running in this process; a venue served by another process (or absent) is None."""

    kalshi: KalshiHandle | None
    polymarket: PolymarketState | None = None
    polymarket_urls: SandboxUrls | None = None
    data_dir: Path | None = None
    scenario: Scenario | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
