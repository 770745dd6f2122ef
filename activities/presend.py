"""Leg orders the hot process sends the moment their saga exists; the saga's `place_order` adopts them.

Dispatching a leg through the saga's first workflow task and an eager activity costs the
tick -> orders path about 10 ms on the dev server (bench/bench_tick_to_order.py), most of
it the SDK and server round trip between the workflow's command and the activity running.
So for an admitted saga whose legs go concurrently, the launcher sends both legs itself —
but only once `start_workflow` has returned, so the saga is durable before any order
leaves — under the saga's own client order ids (`workflows.arb_types.concurrent_leg_intents`,
the function the saga builds them with), signed while the start is in flight. The saga is unchanged: its `place_order`
activity, on this worker, awaits the send instead of placing, and everything after
(retries, reconciliation, compensation) is exactly as without it.

If this process dies after sending, the activity runs on another worker, places the same
client order id, and the venue answers duplicate (Kalshi's client id, Polymarket's signed
order whose salt comes from the id): reconciled by `find_order` as any lost answer. A send
refused by the kill switch or never made (the start failed) resolves to None, and the
activity places on its own path, which checks the gate again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from domain.models import Order, OrderIntent, Venue
from venues.base import TradingClient

log = logging.getLogger(__name__)


class PresentOrders:
    """One per hot process, shared by the launcher (`send_after`) and the order activities (`take`)."""

    def __init__(
        self,
        clients: Mapping[Venue, TradingClient],
        trading_allowed: Callable[[], bool],
        *,
        keep_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._trading_allowed = trading_allowed
        self._keep_s = keep_s
        self._clock = clock
        self._sends: dict[str, tuple[asyncio.Task[Order | None], float]] = {}

    def __len__(self) -> int:
        return len(self._sends)

    def send_after(self, started: Awaitable[object], intents: tuple[OrderIntent, ...]) -> None:
        """Send each intent as soon as `started` (the saga's start) has succeeded; never if it fails."""
        self._forget_old()
        gate = asyncio.ensure_future(started)
        now = self._clock()
        for intent in intents:
            task = asyncio.ensure_future(self._send(gate, intent))
            self._sends[intent.client_order_id] = (task, now)

    def take(self, client_order_id: str) -> asyncio.Task[Order | None] | None:
        """The send made for this client order id, once: a retried activity places on its own."""
        entry = self._sends.pop(client_order_id, None)
        return None if entry is None else entry[0]

    async def _send(self, started: asyncio.Future[object], intent: OrderIntent) -> Order | None:
        """Signed while the start is in flight (the loop is idle then), sent once it has succeeded."""
        client = self._clients[intent.venue]
        try:
            await client.prepare_order(intent)
        except Exception:
            log.warning("could not prepare %s ahead; it is signed when sent", intent.client_order_id, exc_info=True)
        try:
            await asyncio.shield(started)
        except asyncio.CancelledError:
            if not started.cancelled():
                raise
            return None
        except Exception:
            return None
        if not self._trading_allowed():
            return None
        return await client.place_order(intent)

    def _forget_old(self) -> None:
        """Sends no activity took (the saga's legs ran on another worker): the venue holds their truth."""
        cutoff = self._clock() - self._keep_s
        for client_order_id in [cid for cid, (task, at) in self._sends.items() if at < cutoff and task.done()]:
            task, _ = self._sends.pop(client_order_id)
            if not task.cancelled() and task.exception() is not None:
                log.warning("presend %s was never adopted and failed: %s", client_order_id, task.exception())
