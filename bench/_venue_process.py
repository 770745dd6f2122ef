"""The venues of bench_tick_to_order, in a process of their own: both sandboxes and the bench's market maker.

Real venues are remote: their order handlers (the Polymarket sandbox's is about 1 ms of
signature checks) and their publishers never run on the trading process's event loop.
Here they run in this child, so the bench's measured process holds only what the hot
process of `inertial up` holds. The parent (`VenueProcess` in bench_tick_to_order)
starts it as `python -m bench._venue_process` and talks over its stdin and stdout, one
line of words per message:

  child -> parent, once   `ready <json>`: the URLs `point_at_sandboxes` needs
  parent -> child         `tick <venue>`, `restore <venue>`, `refresh`; each answered by
                          `ok <perf_counter_ns>` (for a tick, the stamp right after publishing)
  child -> parent, pushed `received <venue> <perf_counter_ns> <held_ns>`: one of the paper
                          account's orders reached the venue's HTTP application at that stamp
                          (before the venue checks its signatures), and the venue's order
                          handler then held this process's event loop for held_ns

`time.perf_counter_ns()` is CLOCK_MONOTONIC on Linux, one clock for the whole system, so
the child's stamps and the parent's are on the same time line and can be subtracted.
The child stops when its stdin closes (the parent's exit, or the parent's death).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope
from starlette.types import Send as ASGISend

from control.paper import PAPER_ACCOUNT
from domain.models import Venue
from sandbox.runner import Sandboxes, run_sandboxes
from sandbox.scenarios import BookDriver, KalshiDriver, PolymarketDriver, twin_specs

# Quiet books (YES cents): no window either way. A tick lowers the cost of one venue's side
# under the other's: Polymarket's YES ask to 42 (+ Kalshi NO at 52), or Kalshi's YES bid
# to 58 (Kalshi NO at 42, + Polymarket YES at 52). Both leave about 4 cents after fees.
TOPS = {Venue.POLYMARKET: (40, 52), Venue.KALSHI: (48, 60)}
TICKS = {Venue.POLYMARKET: (False, 42), Venue.KALSHI: (True, 58)}
LEVELS, DEPTH, TICK_SIZE = 3, 500, 10
MAKER = "bench-mm"


class Books:
    """The bench's market maker on both venues: a quiet ladder, one tick, and the restore."""

    def __init__(self, sandboxes: Sandboxes) -> None:
        assert sandboxes.kalshi is not None and sandboxes.polymarket is not None
        spec = twin_specs(seed=7, pairs=1)[0]
        sandboxes.kalshi.venue.add_market(spec.kalshi_ticker, spec.kalshi_event, spec.question)
        sandboxes.polymarket.add_market(
            question=spec.question, condition_id=spec.condition_id, yes_token=spec.yes_token, no_token=spec.no_token
        )
        self.drivers: dict[Venue, BookDriver] = {
            Venue.KALSHI: KalshiDriver(sandboxes.kalshi.venue, spec.kalshi_ticker),
            Venue.POLYMARKET: PolymarketDriver(sandboxes.polymarket, spec.condition_id),
        }
        self.slots: dict[tuple[Venue, bool, int], str | None] = {}
        self.tick_order: str | None = None
        for venue, driver in self.drivers.items():
            driver.fund(MAKER)
            for k in range(LEVELS):
                self.quote(venue, True, k)
                self.quote(venue, False, k)

    def quote(self, venue: Venue, is_bid: bool, k: int) -> None:
        bid, ask = TOPS[venue]
        price = bid - k if is_bid else ask + k
        old = self.slots.get((venue, is_bid, k))
        self.slots[(venue, is_bid, k)] = self.drivers[venue].requote(MAKER, old, is_bid, price, DEPTH)

    def tick(self, venue: Venue) -> None:
        """Move one quote of `venue` so that buying both sides costs less than $1: one arbitrage window."""
        is_bid, price = TICKS[venue]
        self.tick_order = self.drivers[venue].requote(MAKER, None, is_bid, price, TICK_SIZE)

    def restore(self, venue: Venue) -> None:
        """Cancel what is left of the tick; refill the other venue's best quote, which the other leg took."""
        is_bid, _ = TICKS[venue]
        self.drivers[venue].requote(MAKER, self.tick_order, is_bid, None, 0)
        self.tick_order = None
        other = Venue.KALSHI if venue is Venue.POLYMARKET else Venue.POLYMARKET
        self.quote(other, TICKS[other][0], 0)

    def refresh(self) -> None:
        """Touch both books so neither is older than the detector's freshness limit."""
        for venue in self.drivers:
            self.quote(venue, True, 0)


Send = Callable[..., None]


ORDER_PATHS = {"/order": Venue.POLYMARKET, "/trade-api/v2/portfolio/orders": Venue.KALSHI}
ARRIVALS: dict[Venue, int] = {}


def _stamp_arrivals() -> None:
    """An order is received when its request reaches the venue's application: what the venue then does
    with it (Polymarket's EIP-712 recovery, about 1 ms here) is the venue's time, not the trader's."""
    call = Starlette.__call__

    async def timed(app: Starlette, scope: Scope, receive: Receive, send: ASGISend) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in ORDER_PATHS:
            ARRIVALS[ORDER_PATHS[scope["path"]]] = time.perf_counter_ns()
        await call(app, scope, receive, send)

    Starlette.__call__ = timed  # type: ignore[method-assign,assignment]


def _received(fn: Callable[..., Any], venue: Venue, send: Send, *, account: str | None = None) -> Callable[..., Any]:
    """Report the order's arrival (stamped by `_stamp_arrivals`), and how long its handler held the loop."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        if account is not None and args[0] != account:
            return fn(*args, **kwargs)
        began = time.perf_counter_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            send("received", venue.value, ARRIVALS.pop(venue, began), time.perf_counter_ns() - began)

    return timed


def _instrument(sandboxes: Sandboxes, send: Send) -> None:
    """Wrap the order handlers the legs reach: Polymarket's `place_order` (only the paper wallet places
    orders through it; the maker goes through the engine), Kalshi's `place` for the paper account."""
    assert sandboxes.polymarket is not None and sandboxes.kalshi is not None
    poly = sandboxes.polymarket
    poly.place_order = _received(poly.place_order, Venue.POLYMARKET, send)  # type: ignore[method-assign]
    kalshi = sandboxes.kalshi.venue
    kalshi.place = _received(kalshi.place, Venue.KALSHI, send, account=PAPER_ACCOUNT)  # type: ignore[method-assign]


async def serve() -> None:
    """Run the venues and the maker until stdin closes, answering the parent's commands in order."""
    # The protocol owns the original stdout; anything else printed goes to stderr instead.
    protocol = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def send(*words: object) -> None:
        os.write(protocol, (" ".join(str(w) for w in words) + "\n").encode())

    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    _stamp_arrivals()
    async with run_sandboxes() as sandboxes:
        assert sandboxes.kalshi is not None and sandboxes.polymarket_urls is not None
        books = Books(sandboxes)
        _instrument(sandboxes, send)
        urls = sandboxes.polymarket_urls
        ready = {
            "clob": urls.clob,
            "ws": urls.ws,
            "gamma": urls.gamma,
            "data_api": urls.data_api,
            "kalshi_api": sandboxes.kalshi.api_url,
            "kalshi_ws": sandboxes.kalshi.ws_url,
        }
        send("ready", json.dumps(ready, separators=(",", ":")))
        async for line in commands:
            command, *args = line.decode().split()
            if command == "tick":
                books.tick(Venue(args[0]))
            elif command == "restore":
                books.restore(Venue(args[0]))
            elif command == "refresh":
                books.refresh()
            else:
                raise ValueError(f"unknown command {line!r}")
            send("ok", time.perf_counter_ns())


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
