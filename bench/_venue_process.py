"""One venue of bench_tick_to_order in a process of its own: its sandbox and the bench's market maker there.

Real venues are remote and apart: their order handlers (the Polymarket sandbox's is about
1 ms of signature checks) and their publishers never run on the trading process's event
loop, nor on each other's. Here each venue runs in a child of its own, so the bench's
measured process holds only what the hot process of `inertial up` holds, and a Kalshi leg
never waits behind the Polymarket sandbox's checks of the other leg (with both venues in
one child it did: 2.7 ms at p50). The parent (`VenueProcess` in bench_tick_to_order)
starts it as `python -m bench._venue_process <venue>` and talks over its stdin and
stdout, one line of words per message:

  child -> parent, once   `ready <json>`: the URLs `point_at_sandboxes` needs of this venue
  parent -> child         `tick`, `untick`, `refill`, `refresh`, `lead`, `reask` (see `Books`); each
                          answered by `ok <perf_counter_ns>` (for a tick or a lead, the stamp right
                          after publishing)
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
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope
from starlette.types import Send as ASGISend

from control.paper import PAPER_ACCOUNT, SANDBOX_LEADER_ACCOUNT, SANDBOX_LEADER_WALLET
from domain.models import Venue
from sandbox.handles import Sandboxes
from sandbox.kalshi.admin import leader_trade
from sandbox.runner import run_sandboxes
from sandbox.scenarios import BookDriver, KalshiDriver, PolymarketDriver, twin_specs

# Quiet books (YES cents): no window either way. A tick lowers the cost of one venue's side
# under the other's: Polymarket's YES ask to 42 (+ Kalshi NO at 52), or Kalshi's YES bid
# to 58 (Kalshi NO at 42, + Polymarket YES at 52). Both leave about 4 cents after fees.
TOPS = {Venue.POLYMARKET: (40, 52), Venue.KALSHI: (48, 60)}
TICKS = {Venue.POLYMARKET: (False, 42), Venue.KALSHI: (True, 58)}
LEVELS, DEPTH, TICK_SIZE = 3, 500, 10
MAKER = "bench-mm"
LEAD_SIZE = Decimal(10)


class Books:
    """The bench's market maker on one venue: a quiet ladder, one tick, and the restore."""

    def __init__(self, sandboxes: Sandboxes, venue: Venue) -> None:
        spec = self.spec = twin_specs(seed=7, pairs=1)[0]
        self.sandboxes = sandboxes
        driver: BookDriver
        if venue is Venue.KALSHI:
            assert sandboxes.kalshi is not None
            sandboxes.kalshi.venue.add_market(spec.kalshi_ticker, spec.kalshi_event, spec.question)
            driver = KalshiDriver(sandboxes.kalshi.venue, spec.kalshi_ticker)
        else:
            assert sandboxes.polymarket is not None
            sandboxes.polymarket.add_market(
                question=spec.question, condition_id=spec.condition_id, yes_token=spec.yes_token, no_token=spec.no_token
            )
            driver = PolymarketDriver(sandboxes.polymarket, spec.condition_id)
        self.venue = venue
        self.driver = driver
        self.slots: dict[tuple[bool, int], str | None] = {}
        self.tick_order: str | None = None
        driver.fund(MAKER)
        for k in range(LEVELS):
            self.quote(True, k)
            self.quote(False, k)

    def quote(self, is_bid: bool, k: int) -> None:
        bid, ask = TOPS[self.venue]
        price = bid - k if is_bid else ask + k
        old = self.slots.get((is_bid, k))
        self.slots[(is_bid, k)] = self.driver.requote(MAKER, old, is_bid, price, DEPTH)

    def tick(self) -> None:
        """Move one quote so that buying both sides costs less than $1 with the other venue: one window."""
        is_bid, price = TICKS[self.venue]
        self.tick_order = self.driver.requote(MAKER, None, is_bid, price, TICK_SIZE)

    def untick(self) -> None:
        """Cancel what is left of the tick."""
        is_bid, _ = TICKS[self.venue]
        self.driver.requote(MAKER, self.tick_order, is_bid, None, 0)
        self.tick_order = None

    def refill(self) -> None:
        """Requote the best level on the side the other venue's tick makes cheap: the leg placed here took it."""
        self.quote(TICKS[self.venue][0], 0)

    def refresh(self) -> None:
        """Touch the book so it is never older than the detector's freshness limit."""
        self.quote(True, 0)

    def lead(self) -> None:
        """The sandbox leader buys 10 YES at the ask (bench_copy): the venue publishes it as any leader's
        trade (RTDS on Polymarket, the leader's own fill channel on Kalshi)."""
        ask = TOPS[self.venue][1]
        if self.venue is Venue.POLYMARKET:
            assert self.sandboxes.polymarket is not None
            self.sandboxes.polymarket.leader_trade(
                SANDBOX_LEADER_WALLET, self.spec.yes_token, "BUY", Decimal(ask) / 100, LEAD_SIZE, execute=False
            )
        else:
            assert self.sandboxes.kalshi is not None
            venue = self.sandboxes.kalshi.venue
            leader_trade(venue, SANDBOX_LEADER_ACCOUNT, self.spec.kalshi_ticker, "yes", "buy", int(LEAD_SIZE), ask)

    def reask(self) -> None:
        """Requote the best YES ask, which the follower's copy took."""
        self.quote(False, 0)


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
    """Wrap the order handler the legs reach: Polymarket's `place_order` (only the paper wallet places
    orders through it; the maker goes through the engine), Kalshi's `place` for the paper account."""
    if sandboxes.polymarket is not None:
        poly = sandboxes.polymarket
        poly.place_order = _received(poly.place_order, Venue.POLYMARKET, send)  # type: ignore[method-assign]
    if sandboxes.kalshi is not None:
        kalshi = sandboxes.kalshi.venue
        kalshi.place = _received(kalshi.place, Venue.KALSHI, send, account=PAPER_ACCOUNT)  # type: ignore[method-assign]


async def serve(venue: Venue) -> None:
    """Run `venue` and its maker until stdin closes, answering the parent's commands in order."""
    # The protocol owns the original stdout; anything else printed goes to stderr instead.
    protocol = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def send(*words: object) -> None:
        os.write(protocol, (" ".join(str(w) for w in words) + "\n").encode())

    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    _stamp_arrivals()
    async with run_sandboxes(venues=(venue.value,)) as sandboxes:
        books = Books(sandboxes, venue)
        _instrument(sandboxes, send)
        if sandboxes.polymarket_urls is not None:
            urls = sandboxes.polymarket_urls
            ready = {"clob": urls.clob, "ws": urls.ws, "gamma": urls.gamma, "data_api": urls.data_api}
        else:
            assert sandboxes.kalshi is not None
            ready = {"kalshi_api": sandboxes.kalshi.api_url, "kalshi_ws": sandboxes.kalshi.ws_url}
        send("ready", json.dumps(ready, separators=(",", ":")))
        actions = {
            "tick": books.tick,
            "untick": books.untick,
            "refill": books.refill,
            "refresh": books.refresh,
            "lead": books.lead,
            "reask": books.reask,
        }
        async for line in commands:
            command = line.decode().strip()
            if command not in actions:
                raise ValueError(f"unknown command {line!r}")
            actions[command]()
            send("ok", time.perf_counter_ns())


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(Venue(sys.argv[1])))


if __name__ == "__main__":
    main()
