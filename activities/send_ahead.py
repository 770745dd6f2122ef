"""Leg orders the hot process sends the moment their saga exists; the saga's `place_order` adopts them.

Dispatching a leg through the saga's first workflow task and an eager activity costs the
tick -> orders path about 10 ms on the dev server (bench/bench_tick_to_order.py), most of
it the SDK and server round trip between the workflow's command and the activity running.
So for an admitted saga whose legs go concurrently, the launcher sends both legs itself —
but only once `start_workflow` has returned, so the saga is durable before any order
leaves — under the saga's own client order ids (`arbitrage.saga.concurrent_leg_intents`,
the function the saga builds them with). Each leg's request is built and signed while the
start is in flight (`TradingClient.prepare_send_ahead`) and written in the very step the
start's answer arrives (`send_ahead`, on the venue's order lane), before the worker's
activation of the new saga or anything else queued gets the loop; a leg not prepared
in time, or whose lane is busy, is placed the ordinary way at once. The saga is
unchanged: its `place_order` activity, on this worker, awaits the send instead of
placing, and everything after (retries, reconciliation, compensation) is exactly as
without it.

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
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from domain.accounts import TenantId
from domain.models import Order, OrderIntent
from venues.accounts import VenueAccounts

log = logging.getLogger(__name__)

T = TypeVar("T")


class SendAhead:
    """One per hot process, shared by the launcher (`start_then_send`) and the order activities (`take`)."""

    def __init__(
        self,
        accounts: VenueAccounts,
        trading_allowed: Callable[[TenantId], bool],
        *,
        keep_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._accounts = accounts
        self._trading_allowed = trading_allowed
        self._keep_s = keep_s
        self._clock = clock
        self._sends: dict[str, tuple[asyncio.Future[Order | None], float]] = {}

    def __len__(self) -> int:
        return len(self._sends)

    def start_then_send(self, start: Awaitable[T], intents: Sequence[OrderIntent]) -> Coroutine[Any, Any, T]:
        """`start` (the saga's start), after which every intent is sent in the same step; nothing if it fails.

        The intents are prepared (signed) meanwhile: the loop is idle while the start is in flight.
        """
        self._forget_old()
        loop = asyncio.get_running_loop()
        now = self._clock()
        sends: list[tuple[OrderIntent, asyncio.Future[Order | None], asyncio.Task[bool]]] = []
        for intent in intents:
            outcome: asyncio.Future[Order | None] = loop.create_future()
            self._sends[intent.client_order_id] = (outcome, now)
            sends.append((intent, outcome, loop.create_task(self._prepare(intent))))
        return self._start_then_send(start, sends)

    def take(self, client_order_id: str) -> asyncio.Future[Order | None] | None:
        """The send made for this client order id, once: a retried activity places on its own."""
        entry = self._sends.pop(client_order_id, None)
        return None if entry is None else entry[0]

    async def _prepare(self, intent: OrderIntent) -> bool:
        try:
            await self._accounts.client(intent.account, intent.venue).prepare_send_ahead(intent)
        except Exception:
            log.warning("could not prepare %s ahead; it is signed when sent", intent.client_order_id, exc_info=True)
            return False
        return True

    async def _start_then_send(
        self, start: Awaitable[T], sends: list[tuple[OrderIntent, asyncio.Future[Order | None], asyncio.Task[bool]]]
    ) -> T:
        try:
            started = await start
        except BaseException:
            for _, outcome, _ in sends:
                if not outcome.done():
                    outcome.set_result(None)
            raise
        for intent, outcome, prepared in sends:
            if not self._trading_allowed(intent.account.tenant_id):
                outcome.set_result(None)
                continue
            try:
                client = self._accounts.client(intent.account, intent.venue)
                sent = client.send_ahead(intent) if prepared.done() and prepared.result() else None
            except Exception:
                # The saga exists: its activity must not wait on this send, and places the leg itself.
                log.exception("sending %s ahead failed; its activity places it", intent.client_order_id)
                outcome.set_result(None)
                continue
            _settle(asyncio.ensure_future(sent or client.place_order(intent)), outcome)
        return started

    def _forget_old(self) -> None:
        """Sends no activity took (the saga's legs ran on another worker): the venue holds their truth."""
        cutoff = self._clock() - self._keep_s
        for client_order_id in [cid for cid, (sent, at) in self._sends.items() if at < cutoff and sent.done()]:
            sent, _ = self._sends.pop(client_order_id)
            if not sent.cancelled() and sent.exception() is not None:
                log.warning("send-ahead %s was never adopted and failed: %s", client_order_id, sent.exception())


def _settle(sending: asyncio.Future[Order], outcome: asyncio.Future[Order | None]) -> None:
    """`outcome` takes the send's order or error once it is known."""

    def done(task: asyncio.Future[Order]) -> None:
        if outcome.done():
            return
        if task.cancelled():
            outcome.set_result(None)
        elif (error := task.exception()) is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(task.result())

    sending.add_done_callback(done)
