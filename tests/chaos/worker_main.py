"""A saga worker in its own process, so chaos tests can kill it with SIGKILL mid-saga.

`python -m tests.chaos.worker_main CONFIG.json [--standby] [--hot]` builds the production
worker (`workers.worker.build_worker`) with the real venue clients pointed at the
sandbox venues, prints `ready` once it polls, and runs until SIGTERM (clean stop) or
SIGKILL, or until stdin closes (the test process died: no orphan keeps polling). A
standby loads and connects, prints `warm`, and starts polling only when a line arrives
on stdin: a replacement then takes over in milliseconds, not seconds of imports.
The config is written by the chaos rig (`tests.chaos.config.WorkerConfig`).

`--hot` makes it a hot process as `inertial up` builds one: a risk gate on the database,
`SendAhead` shared by the worker (`control.trading.trading_worker`) and a `TradeLauncher`
with send-ahead. Once ready it reads `tests.chaos.config.LaunchCommand` lines on stdin (the
test plays the detector) and says on stdout where each saga is, so the test can kill it at
a chosen moment: `admitted WID`, `starting WID` (start request sent), `started WID` (start
returned), `sending CID` / `sent CID` (a leg sent ahead left / was answered), `failed WID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, cast

from temporalio.client import Client

from activities.send_ahead import SendAhead
from arbitrage.saga import concurrent_leg_intents, workflow_id_for
from control.trading import trading_venues, trading_worker
from domain.accounts import DEFAULT_TENANT
from domain.book import BookSnapshot
from domain.models import Balance, Order, OrderIntent, Position
from risk.gate import RiskGate, RiskGates, SqlGateStateStore
from storage.database import create_engine
from streamers.admission import HotAdmission, TenantAdmissions
from streamers.arbitrage import saga_start
from streamers.launcher import TradeLauncher
from temporal.client import connect
from tests.chaos.config import LaunchCommand, WorkerConfig
from venues.accounts import VenueAccounts
from venues.base import TradingClient
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.client import KalshiClient
from venues.polymarket.auth import ApiCreds
from venues.polymarket.client import PolymarketClient
from venues.polymarket.eip712 import Wallet
from venues.ratelimit import KalshiTier, VenueRateLimiter
from workers.worker import build_worker

TENANT = DEFAULT_TENANT
log = logging.getLogger("chaos.hot")


def say(*words: str) -> None:
    print(*words, flush=True)


class AnnouncedSends:
    """The hot process's venue client for legs sent ahead: says when each leaves and is answered.

    `delays` holds a send (by client order id) after its saga's start returned, for the test to kill
    the process in between. The worker's own activities use the plain clients."""

    def __init__(self, inner: TradingClient, delays: dict[str, float]) -> None:
        self._inner = inner
        self._delays = delays
        self.venue = inner.venue

    async def prepare_send_ahead(self, intent: OrderIntent) -> None:
        await self._inner.prepare_send_ahead(intent)

    def send_ahead(self, intent: OrderIntent) -> Awaitable[Order] | None:
        """None (not sent: `place_order` follows) for a held send, which waits there."""
        if self._delays.get(intent.client_order_id):
            return None
        say("sending", intent.client_order_id)
        sent = self._inner.send_ahead(intent)
        if sent is None:
            return None
        return self._answered(intent, sent)

    async def place_order(self, intent: OrderIntent) -> Order:
        delay = self._delays.pop(intent.client_order_id, 0.0)
        if delay:
            await asyncio.sleep(delay)
        say("sending", intent.client_order_id)
        return await self._answered(intent, self._inner.place_order(intent))

    async def _answered(self, intent: OrderIntent, sent: Awaitable[Order]) -> Order:
        try:
            order = await sent
        except BaseException:
            say("unsent", intent.client_order_id)  # answered with an error, or none: the activity reconciles
            raise
        say("sent", intent.client_order_id)
        return order

    async def find_order(self, intent: OrderIntent) -> Order | None:
        return await self._inner.find_order(intent)

    async def cancel_order(self, order: Order) -> Order:
        return await self._inner.cancel_order(order)

    async def market_book(self, market_id: str, token_id: str) -> BookSnapshot:
        return await self._inner.market_book(market_id, token_id)

    async def get_balance(self) -> Balance:
        return await self._inner.get_balance()

    async def get_positions(self) -> list[Position]:
        return await self._inner.get_positions()


class AnnouncedStarts:
    """The launcher's Temporal client: says when a saga's start request leaves and when it returned."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def start_workflow(self, *args: Any, **kwargs: Any) -> Any:
        saga_id = kwargs["id"]
        say("starting", saga_id)
        handle = await self._client.start_workflow(*args, **kwargs)
        say("started", saga_id)
        return handle


class HotLaunches:
    """What `inertial up` wires around its worker (control/up.py): one `SendAhead` for the launcher
    and the worker's order activities, an admission for the launcher. The sagas run with
    `pre_trade_approval=False` (no risk supervisor in the chaos rig), so the admission is only what
    `TradeLauncher` requires to send ahead; the test is the detector and admits every opportunity."""

    def __init__(
        self, client: Client, queue: str, gate: RiskGate, poly: PolymarketClient, kalshi: KalshiClient
    ) -> None:
        self.delays: dict[str, float] = {}
        sends = {venue: AnnouncedSends(c, self.delays) for venue, c in trading_venues(poly, kalshi).items()}
        self.gates = RiskGates([gate])
        self.send_ahead = SendAhead(VenueAccounts.single(sends), self.gates.allows_new_exposure)
        self.admissions = TenantAdmissions([HotAdmission(client, gate)])
        self.starts = cast(Client, AnnouncedStarts(client))
        self.queue = queue
        self._tasks: set[asyncio.Task[None]] = set()

    def launch(self, command: LaunchCommand) -> None:
        task = asyncio.create_task(self._launch(command))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _launch(self, command: LaunchCommand) -> None:
        found = command.opportunity
        saga_id = workflow_id_for(TENANT, found.opportunity_id)
        say("admitted", saga_id)
        try:
            if command.hold_s:
                await asyncio.sleep(command.hold_s)
            for leg in concurrent_leg_intents(saga_id, found):
                self.delays[leg.client_order_id] = command.send_delay_s
            launcher = TradeLauncher(self.starts, self.queue, admissions=self.admissions, send_ahead=self.send_ahead)
            await launcher.launch(saga_start(found, command.pair, command.policy, TENANT, admitted=True))
        except Exception:
            log.exception("launch of %s failed", saga_id)
            say("failed", saga_id)


def _clients(config: WorkerConfig) -> tuple[PolymarketClient, KalshiClient]:
    poly = PolymarketClient(
        config.polymarket_url,
        wallet=Wallet(config.polymarket_key),
        creds=ApiCreds(config.polymarket_api_key, config.polymarket_secret, config.polymarket_passphrase),
        timeout=config.http_timeout_s,
    )
    kalshi = KalshiClient(
        config.kalshi_url,
        signer=KalshiSigner.from_pem(config.kalshi_key_id, config.kalshi_pem),
        limiter=VenueRateLimiter.kalshi(KalshiTier.PRIME),
        timeout=config.http_timeout_s,
    )
    return poly, kalshi


async def _read_commands(hot: HotLaunches) -> None:
    """Launch each command line until stdin closes (the test stopped us, or died)."""
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        hot.launch(LaunchCommand.model_validate_json(line))


async def serve(config: WorkerConfig, *, standby: bool, hot: bool = False) -> None:
    poly, kalshi = _clients(config)
    engine = create_engine(config.database_url)
    client = await connect(config.temporal_address, config.namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        async with contextlib.AsyncExitStack() as stack:
            launches: HotLaunches | None = None
            if hot:
                gate = RiskGate(SqlGateStateStore(engine), TENANT)
                launches = HotLaunches(client, config.task_queue, gate, poly, kalshi)
                worker = trading_worker(
                    client, config.task_queue, engine, poly, kalshi, launches.gates, launches.send_ahead
                )
                # Polling starts once the worker is built: building it validates the workflows, seconds of
                # CPU on a busy machine that would leave the gate's first read stale (it fails closed).
                await stack.enter_async_context(gate.running())
            else:
                # The rig runs no risk supervisor (its limits are not what the chaos suite tests); the hot
                # process's gate is covered by its own path above.
                worker = build_worker(
                    client,
                    config.task_queue,
                    engine,
                    accounts=VenueAccounts.single(trading_venues(poly, kalshi)),
                    trading_allowed=lambda _tenant: True,
                )
            if standby:
                print("warm", flush=True)
                if not await loop.run_in_executor(None, sys.stdin.readline):
                    return  # the test process is gone: never start polling
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            if launches is None:
                watch: asyncio.Future[Any] = loop.run_in_executor(None, sys.stdin.read)
            else:
                watch = asyncio.ensure_future(_read_commands(launches))
            watch.add_done_callback(lambda _: stop.set())
            async with worker:
                print("ready", flush=True)
                await stop.wait()
    finally:
        await poly.aclose()
        await kalshi.aclose()
        await engine.dispose()


def main() -> None:
    config = WorkerConfig.model_validate_json(Path(sys.argv[1]).read_text())
    flags = sys.argv[2:]
    asyncio.run(serve(config, standby="--standby" in flags, hot="--hot" in flags))


if __name__ == "__main__":
    main()
