"""Tick -> both leg orders at the venues, through the main job's own path and Temporal (issue 6).

The stack is the one `inertial up` runs in paper mode, built by the same functions in
the same order: sandbox venues, paper accounts (`point_at_sandboxes` +
`provision`), the real Temporal dev server (same flags as `inertial up`), venue
clients, the tenant's risk supervisor, gate and pre-trade admission, the worker, pair
discovery and auto-confirm, both market streams -> BookRelay -> HotLoop -> Detector
-> ArbitrageTrades (recorded; admission: the pre-trade checks) -> TradeLauncher (eager start) -> ArbSagaWorkflow (both
legs in its first workflow task, the reservation handed to the supervisor alongside) ->
place_order -> PolymarketClient / KalshiTradingClient -> sandboxes. `--approval
supervisor` measures the other way a saga can be approved (it asks the supervisor first).
Only the books and the risk limits are the bench's: one twin pair with a quiet 3-level
book on each venue, no background scenario, limits with room for every round.

Each sandbox, with the bench's market maker on it, runs in a child process of its own
(bench/_venue_process.py, driven over its stdin and stdout). Real venues are remote and
apart: in this process the sandboxes' order handlers (Polymarket's checks an EIP-712
signature, about 1 ms) and publishers would take turns on the hot event loop and inflate
every figure, and in one shared child the second leg would wait behind the first one's
handler. So the measured process holds only what the hot process of `inertial up` holds
when it trades real venues.

Each round the market maker lowers one venue's YES ask through that sandbox's own
matching engine and publisher (so the market WebSocket carries the tick), the bench
waits until the child reports both leg orders at its order handlers and the saga has
finished, then restores the books. Every stamp is `time.perf_counter_ns()`,
CLOCK_MONOTONIC on Linux: one clock for the whole machine, so the child's stamps (tick,
send) and this process's line up. The hooks are the bench's (wrappers and a Temporal
interceptor), never code in the production path:

  tick     the sandbox has published the price change (it is in the subscriber's outbox)
  feed     the venue stream has parsed the frame and updated the book (its `on_book`)
  detect   the admitted saga's start reaches the launcher (recorded, risk-checked)
  start    `start_workflow` returned (client interceptor; the eager flag of the response is kept)
  schedule the `place_order` activity began on the worker (activity interceptor), per leg;
           split into the workflow task's start, the supervisor's approval (when the saga
           asks for it), the workflow code, and the task's completion + eager dispatch
  sign     the leg's order/request is signed (Polymarket EIP-712 order, Kalshi RSA-PSS headers)
  send     the sandbox's order handler received it (Polymarket `place_order`, Kalshi `place`),
           stamped in the venue process; for a leg sent on its venue's order lane
           (venues/lane.py), split at the moment its bytes were written to the socket

The total is tick -> the second leg received. Stages are measured on that leg (the
critical path); per-venue figures follow. Targets (issue 6): p50 <= 10 ms, p99 <= 25 ms.
Like `inertial up`, the bench settles its heap once the stack is up (control/heap.py) and
prints the garbage collector's pauses during the rounds.
The reference printed last is the same server's eager start of an empty workflow (the
floor of the start stage, which moves with the machine from day to day); the total
beyond it is this path's own.

    .venv/bin/python -m bench.bench_tick_to_order [--rounds 300] [--warmup 30] [--venue both]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import logging
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
from temporalio import activity, workflow
from temporalio import client as temporal_client
from temporalio import worker as temporal_worker
from temporalio.api.enums.v1 import EventType
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from activities.orders import PlaceOrder
from activities.send_ahead import SendAhead
from arbitrage.saga import ArbState, SagaPolicy
from control.app.risk import RiskControl, running_risk
from control.config import Settings
from control.heap import settle_heap
from control.paper import point_at_sandboxes, provision
from control.services import services
from control.trading import TradingStack, trading_accounts, trading_stack, trading_worker, venue_clients
from control.up import probe_health
from domain.book import OrderBook
from domain.models import Venue
from risk.gate import RiskGate, RiskGates
from risk.models import Limits
from sandbox.handles import Sandboxes
from sandbox.polymarket.app import SandboxUrls
from streamers.admission import HotAdmission, TenantAdmissions
from temporal.devserver import DYNAMIC_CONFIG
from temporal.settings import TemporalSettings
from venues import lane

TARGET_P50_MS = 10.0
TARGET_P99_MS = 25.0
TENANT = "default"
APPROVAL_ACTIVITY = "request_trade_approval"
LEG_ACTIVITY = "place_order"
# The bench buys 10 contracts a leg every round and never settles: room for every round.
BENCH_LIMITS = Limits(
    max_contracts_per_market=Decimal(10**6),
    max_contracts_per_venue=Decimal(10**6),
    max_contracts_total=Decimal(10**6),
    max_exposure_per_venue=Decimal(10**6),
    max_exposure_total=Decimal(10**6),
)
ROUND_TIMEOUT_S = 10.0
VENUES_READY_S = 60.0
VENUES_STOP_S = 10.0
# Kalshi Basic tier allows 10 order writes/s (venues/ratelimit.py); one Kalshi leg per round.
MIN_ROUND_S = 0.12
EAGER_GAP_MS = 5.0
BARE_STARTS = 100
BARE_GAP_S = 0.06
HISTORIES = 20
APPROVALS = ("hot", "supervisor", "none")
STAGES = ("feed", "detect", "start", "schedule", "sign", "send")


@dataclass
class Round:
    venue: Venue
    tick: int
    book: int = 0
    detect: int = 0
    start: int = 0
    eager: bool | None = None
    workflow_id: str = ""
    handle: Any = None
    workflow: int = 0
    approval: int = 0
    approved: int = 0
    command: dict[Venue, int] = field(default_factory=dict)
    schedule: dict[Venue, int] = field(default_factory=dict)
    sign: dict[Venue, int] = field(default_factory=dict)
    written: dict[Venue, int] = field(default_factory=dict)
    received: dict[Venue, int] = field(default_factory=dict)
    handled: dict[Venue, int] = field(default_factory=dict)
    # wall clock (time.time_ns) of each first stamp, to line up with the server's event times
    walls: dict[tuple[str, Venue | None], int] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def last_leg(self) -> Venue:
        return max(self.received, key=lambda v: self.received[v])

    def sent_ahead(self, venue: Venue) -> bool:
        """The hot process sent this leg (activities/send_ahead.py): signed before the saga's activity ran."""
        return self.sign[venue] < self.schedule[venue]

    def send_from(self, venue: Venue) -> int:
        """Where the send stage starts: the leg issued (start returned, or its activity ran) and signed."""
        issued = self.start if self.sent_ahead(venue) else self.schedule[venue]
        return max(self.sign[venue], issued)

    def stages(self, venue: Venue) -> dict[str, int]:
        """A leg sent ahead has no schedule stage on its path, and is signed while the start is in flight
        (its sign stage is then 0: only what signing still takes after the start counts)."""
        issued = self.start if self.sent_ahead(venue) else self.schedule[venue]
        signed = self.send_from(venue)
        return {
            "feed": self.book - self.tick,
            "detect": self.detect - self.book,
            "start": self.start - self.detect,
            "schedule": issued - self.start,
            "sign": signed - issued,
            "send": self.received[venue] - signed,
        }

    def schedule_parts(self, venue: Venue) -> dict[str, int]:
        """The schedule stage split: until the workflow code runs, the code (with the risk supervisor's
        pre-trade approval when the saga asks for it), then until the leg's activity runs."""
        parts = {"workflow begins": self.workflow - self.start}
        if self.approval:
            parts["approval activity begins"] = self.approval - self.workflow
            parts["approval (supervisor update)"] = self.approved - self.approval
            parts["approved -> leg commands"] = self.command[venue] - self.approved
        else:
            parts["workflow code"] = self.command[venue] - self.workflow
        parts["task done+dispatch"] = self.schedule[venue] - self.command[venue]
        return parts

    def total(self) -> int:
        return max(self.received.values()) - self.tick


class Probe:
    """The stamps of the round in flight; a stamp outside a round, or a second one, is ignored."""

    def __init__(self) -> None:
        self.round: Round | None = None

    def mark(self, name: str, venue: Venue | None = None) -> None:
        now = time.perf_counter_ns()
        current = self.round
        if current is None:
            return
        current.walls.setdefault((name, venue), time.time_ns())
        if venue is None:
            if not getattr(current, name):
                setattr(current, name, now)
            return
        stamps: dict[Venue, int] = getattr(current, name)
        stamps.setdefault(venue, now)

    def received(self, venue: Venue, at: int, held: int) -> None:
        """The venue process's stamps of a leg: its arrival at the order handler and how long the handler ran."""
        current = self.round
        if current is None or venue in current.received:
            return
        current.received[venue] = at
        current.handled[venue] = held
        if len(current.received) == 2:
            current.done.set()


PROBE = Probe()


class _StartTimer(temporal_client.OutboundInterceptor):
    async def start_workflow(self, input: temporal_client.StartWorkflowInput) -> Any:
        handle = await super().start_workflow(input)
        PROBE.mark("start")
        current = PROBE.round
        if current is not None and not current.workflow_id:
            current.workflow_id = input.id
            current.handle = handle
            current.eager = bool(getattr(handle, "__temporal_eagerly_started", False))
        return handle


class _ActivityTimer(temporal_worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporal_worker.ExecuteActivityInput) -> Any:
        request = input.args[0] if input.args else None
        if isinstance(request, PlaceOrder):
            PROBE.mark("schedule", request.intent.venue)
        approval = activity.info().activity_type == APPROVAL_ACTIVITY
        if approval:
            PROBE.mark("approval")
        try:
            return await super().execute_activity(input)
        finally:
            if approval:
                PROBE.mark("approved")


def _mark_from_workflow(name: str, venue: Venue | None = None) -> None:
    workflow.extern_functions()[_MARK](name, venue)


class _WorkflowOutboundTimer(temporal_worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporal_worker.StartActivityInput) -> workflow.ActivityHandle[Any]:
        request = input.args[0] if input.args else None
        if isinstance(request, PlaceOrder):
            _mark_from_workflow("command", request.intent.venue)
        return super().start_activity(input)


@workflow.defn(name="BenchBareStart", sandboxed=False)
class _BareStart:
    """The least a saga's start can cost on this server: no input to speak of, nothing to do."""

    @workflow.run
    async def run(self) -> None:
        return None


async def bare_starts(client: temporal_client.Client, count: int = BARE_STARTS) -> list[int]:
    """The reference: `count` eager starts of an empty workflow, as the launcher starts a saga (eager,
    duplicates rejected), on the same server and client, `BARE_GAP_S` apart; ns from call to return.
    Whatever the total spends beyond this start is the path's own (or the machine's, that day)."""
    queue = f"bench-bare-{uuid.uuid4()}"
    took: list[int] = []
    async with temporal_worker.Worker(client, task_queue=queue, workflows=[_BareStart]):
        for n in range(count):
            await asyncio.sleep(BARE_GAP_S)
            began = time.perf_counter_ns()
            await client.start_workflow(
                _BareStart.run,
                id=f"{queue}-{n}",
                task_queue=queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                request_eager_start=True,
            )
            took.append(time.perf_counter_ns() - began)
    return took


class _WorkflowTimer(temporal_worker.WorkflowInboundInterceptor):
    """Runs inside the workflow sandbox: stamps go out through an extern function, the sandbox's door."""

    def init(self, outbound: temporal_worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutboundTimer(outbound))

    async def execute_workflow(self, input: temporal_worker.ExecuteWorkflowInput) -> Any:
        _mark_from_workflow("workflow")
        return await super().execute_workflow(input)


_MARK = "bench_mark"


class BenchInterceptor(temporal_client.Interceptor, temporal_worker.Interceptor):
    """Given to the client, it is also used by the worker built on that client (temporalio does so)."""

    def workflow_interceptor_class(
        self, input: temporal_worker.WorkflowInterceptorClassInput
    ) -> type[temporal_worker.WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[_MARK] = PROBE.mark
        return _WorkflowTimer

    def intercept_client(self, next: temporal_client.OutboundInterceptor) -> temporal_client.OutboundInterceptor:
        return _StartTimer(next)

    def intercept_activity(
        self, next: temporal_worker.ActivityInboundInterceptor
    ) -> temporal_worker.ActivityInboundInterceptor:
        return _ActivityTimer(next)


def _after(fn: Callable[..., Any], name: str, venue: Venue | None = None) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        PROBE.mark(name, venue)
        return result

    return timed


class _TimedKalshiSigner:
    """Stands in for the Kalshi client's signer (slotted, so it cannot be wrapped in place)."""

    def __init__(self, signer: Any) -> None:
        self._signer = signer

    def headers(self, method: str, path: str) -> dict[str, str]:
        headers: dict[str, str] = self._signer.headers(method, path)
        if method == "POST" and path.endswith("/portfolio/orders"):
            PROBE.mark("sign", Venue.KALSHI)
        return headers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._signer, name)


@dataclass(frozen=True)
class KalshiUrls:
    api_url: str
    ws_url: str


@dataclass(frozen=True)
class VenueUrls:
    """What `point_at_sandboxes` reads of a `Sandboxes`: the URLs only, so it works for venues in another process."""

    polymarket_urls: SandboxUrls
    kalshi: KalshiUrls


class VenueProcess:
    """A child serving one sandbox venue and running the bench's market maker there (bench/_venue_process.py).

    Commands go down its stdin, one line each, and are answered in order; between the
    answers come the order handlers' `received` pushes, which go to `PROBE`.
    """

    def __init__(
        self, process: asyncio.subprocess.Process, on_received: Callable[[Venue, int, int], None] = PROBE.received
    ) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self._on_received = on_received
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._answers: collections.deque[asyncio.Future[int]] = collections.deque()
        self._reader: asyncio.Task[None] | None = None

    async def ready(self) -> dict[str, str]:
        """Wait for the child's `ready` line (its URLs), then listen to it for the rest of the run."""
        line = await asyncio.wait_for(self._stdout.readline(), VENUES_READY_S)
        if not line.startswith(b"ready "):
            raise RuntimeError(f"the venue process did not start (exit code {await self.process.wait()})")
        urls: dict[str, str] = json.loads(line.removeprefix(b"ready "))
        self._reader = asyncio.create_task(self._read())
        return urls

    async def _read(self) -> None:
        async for line in self._stdout:
            kind, *words = line.decode().split()
            if kind == "received":
                self._on_received(Venue(words[0]), int(words[1]), int(words[2]))
            elif kind == "ok":
                self._answers.popleft().set_result(int(words[0]))
        while self._answers:
            self._answers.popleft().set_exception(RuntimeError("the venue process has exited"))

    async def command(self, word: str) -> int:
        """A command of bench/_venue_process.py's `Books` (`tick`, `untick`, `refill`, `refresh`, `lead`,
        `reask`); the child's stamp after it (for a tick or a lead: right after publishing it)."""
        if self._reader is None or self._reader.done():
            raise RuntimeError("the venue process is not running")
        answer = asyncio.get_running_loop().create_future()
        self._answers.append(answer)
        self._stdin.write(f"{word}\n".encode())
        await self._stdin.drain()
        result: int = await answer
        return result

    async def stop(self) -> None:
        """Close its stdin (it stops its servers and exits); terminate it, then kill it, if it does not."""
        if self._reader is not None:
            self._reader.cancel()
        process = self.process
        if process.returncode is None:
            self._stdin.close()
            for signal_child in (process.terminate, process.kill):
                try:
                    await asyncio.wait_for(process.wait(), VENUES_STOP_S)
                    break
                except TimeoutError:
                    signal_child()
            await process.wait()


class Venues:
    """Both venue children, driven as one market maker."""

    def __init__(self, processes: dict[Venue, VenueProcess]) -> None:
        self.processes = processes

    async def tick(self, venue: Venue) -> int:
        """Open one window on `venue`; the stamp its child took right after publishing the price change."""
        return await self.processes[venue].command("tick")

    async def restore(self, venue: Venue) -> None:
        """Cancel what is left of the tick on `venue`; refill the other venue's best quote, which a leg took."""
        other = Venue.KALSHI if venue is Venue.POLYMARKET else Venue.POLYMARKET
        await asyncio.gather(self.processes[venue].command("untick"), self.processes[other].command("refill"))

    async def refresh(self) -> None:
        await asyncio.gather(*(process.command("refresh") for process in self.processes.values()))


@contextlib.asynccontextmanager
async def venue_processes(
    on_received: Callable[[Venue, int, int], None] = PROBE.received,
) -> AsyncIterator[tuple[Venues, VenueUrls]]:
    """`python -m bench._venue_process <venue>` for each venue, stopped on exit; each in its own process group,
    so a Ctrl-C at the terminal reaches only the bench, whose exit then stops the children (which also exit
    if the bench dies: their stdin closes)."""
    processes: dict[Venue, VenueProcess] = {}
    try:
        for venue in (Venue.POLYMARKET, Venue.KALSHI):
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench._venue_process",
                venue.value,
                cwd=Path(__file__).resolve().parents[1],
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                process_group=0,
            )
            processes[venue] = VenueProcess(child, on_received)
        poly, kalshi = await asyncio.gather(*(process.ready() for process in processes.values()))
        urls = VenueUrls(
            SandboxUrls(clob=poly["clob"], ws=poly["ws"], gamma=poly["gamma"], data_api=poly["data_api"]),
            KalshiUrls(api_url=kalshi["kalshi_api"], ws_url=kalshi["kalshi_ws"]),
        )
        yield Venues(processes), urls
    finally:
        await asyncio.gather(*(process.stop() for process in processes.values()))


async def _risk_ready(client: temporal_client.Client, gate: RiskGate, admission: HotAdmission | None) -> None:
    """Trading is refused until the supervisor has published its gate state and synced both venues'
    balances (its first account sync), and until the admission has read that book: a tick before
    then is refused for want of balance, and the round would wait for a window that never reopens."""
    control = RiskControl(client, TENANT)
    deadline = time.monotonic() + 30.0
    while not gate.allows_new_exposure() or len((await control.status()).balances) < len(Venue):
        if time.monotonic() > deadline:
            raise RuntimeError("the risk supervisor never opened the gate or never synced the balances")
        await asyncio.sleep(0.1)
    if admission is not None:
        await admission.refresh()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _instrument(trading: TradingStack) -> None:
    assert trading.feed.on_book is not None and trading.kalshi_stream is not None

    def book_hook(venue: Venue, listener: Callable[[OrderBook], None]) -> Callable[[OrderBook], None]:
        def timed(book: OrderBook) -> None:
            current = PROBE.round
            if current is not None and current.venue is venue:
                PROBE.mark("book")
            listener(book)

        return timed

    trading.feed.on_book = book_hook(Venue.POLYMARKET, trading.feed.on_book)
    stream = trading.kalshi_stream
    stream._on_book = book_hook(Venue.KALSHI, stream._on_book)  # type: ignore[arg-type]
    launcher = trading.loop.trades.launcher

    def detected(launch: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(start: Any) -> Any:
            PROBE.mark("detect")
            return await launch(start)

        return timed

    launcher.launch = detected(launcher.launch)  # type: ignore[method-assign]
    _stamp_lane_writes({Venue.POLYMARKET: trading.polymarket.clob_url, Venue.KALSHI: trading.kalshi.base_url})
    signer = trading.polymarket.signer
    assert signer is not None
    signer.sign_intent = _after(signer.sign_intent, "sign", Venue.POLYMARKET)  # type: ignore[method-assign]
    trading.kalshi._signer = _TimedKalshiSigner(trading.kalshi._signer)  # type: ignore[assignment]


def _stamp_lane_writes(urls: dict[Venue, str]) -> None:
    """Stamp `written` when an order's bytes go to the socket of its venue's order lane (venues/lane.py)."""
    write = lane._Connection.send

    def timed(connection: lane._Connection, request: httpx.Request) -> Any:
        answer = write(connection, request)
        for venue, url in urls.items():
            if str(request.url).startswith(url):
                PROBE.mark("written", venue)
        return answer

    lane._Connection.send = timed  # type: ignore[method-assign,assignment]


async def _settle(trading: TradingStack, quiet_s: float = 0.01) -> None:
    """Wait until the hot loop has seen every queued book and no window is open."""
    detector = trading.loop.detector
    relay = trading.loop.relay
    while True:
        seen = relay.received
        await asyncio.sleep(quiet_s)
        windows = [w for states in detector._by_market.values() for s in states for w in s.window_start_ns]
        if relay.received == seen and relay.delivered >= 1 and all(w is None for w in windows):
            return


async def _books_in_sync(trading: TradingStack, limit_s: float = 30.0) -> None:
    """Both venues' books have arrived, are in sync and were seen by the detector (a change or its
    stream's freshness touch) before the first tick; a tick evaluated before that finds no window."""
    deadline = time.monotonic() + limit_s
    detector = trading.loop.detector

    def ready() -> bool:
        oldest = time.time_ns() - detector.max_book_age_ns // 2
        return all(w.book.in_sync and w.seen_ns >= oldest for w in detector.watched.values())

    while not ready():
        if time.monotonic() > deadline:
            missing = [
                f"{venue.value} {market} in_sync={w.book.in_sync} age={(time.time_ns() - w.seen_ns) / 1e9:.1f}s"
                for (venue, market), w in detector.watched.items()
            ]
            raise RuntimeError(f"books never in sync and fresh: {', '.join(missing)}")
        await asyncio.sleep(0.05)


@dataclass
class ServerView:
    """What the server's history says about the Temporal stages of the last sagas (wall clock, ms)."""

    eager_gaps: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)

    def add(self, part: str, ns: int) -> None:
        self.parts.setdefault(part, []).append(ns / 1e6)


async def _server_view(client: temporal_client.Client, rounds: list[Round]) -> ServerView:
    """Line the bench's wall-clock stamps up with the saga histories' event times (one host, one clock).

    Eager activity check: an activity handed out in the answer to the workflow task's
    completion is started by the server in that same transaction (about 0.1 ms after it
    was scheduled, 1.4 ms at worst seen under load); one dispatched through matching starts
    a transfer task and a poll later (about 13 ms here with the worker's eager execution
    disabled). The line between them is EAGER_GAP_MS.
    """
    view = ServerView()
    for r in rounds:
        history = await client.get_workflow_handle(r.workflow_id).fetch_history()
        at: dict[str, int] = {}
        scheduled: dict[int, tuple[Venue, int]] = {}
        last_completed = 0
        for event in history.events:
            time_ns = event.event_time.ToNanoseconds()
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                at["started"] = time_ns
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                last_completed = time_ns
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and len(scheduled) < 2:
                attributes = event.activity_task_scheduled_event_attributes
                if attributes.activity_type.name != LEG_ACTIVITY:
                    continue
                at.setdefault("completed", last_completed)
                payload = attributes.input.payloads[0].data
                scheduled[event.event_id] = (Venue(json.loads(payload)["intent"]["venue"]), time_ns)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                leg = scheduled.get(event.activity_task_started_event_attributes.scheduled_event_id)
                if leg is not None:
                    view.eager_gaps.append((time_ns - leg[1]) / 1e6)
                    at[leg[0].value] = time_ns
        venue = r.last_leg()
        view.add("start: request reaches the server", at["started"] - r.walls[("detect", None)])
        view.add("start: server until the answer is back", r.walls[("start", None)] - at["started"])
        view.add("dispatch: completion reaches the server", at["completed"] - r.walls[("command", venue)])
        view.add("dispatch: server until the leg activity started", at[venue.value] - at["completed"])
        view.add("dispatch: answer until the activity runs", r.walls[("schedule", venue)] - at[venue.value])
    return view


async def _one_round(sandboxes: Venues, trading: TradingStack, venue: Venue) -> Round:
    current = Round(venue=venue, tick=0)
    PROBE.round = current
    current.tick = await sandboxes.tick(venue)
    try:
        try:
            await asyncio.wait_for(current.done.wait(), ROUND_TIMEOUT_S)
        except TimeoutError:
            stats = trading.loop.stats
            raise RuntimeError(
                f"round on {venue.value} timed out: {current}; hot loop {stats.evaluations} evaluations, "
                f"{stats.opportunities} opportunities, {stats.sagas_started} sagas, {stats.errors} errors, "
                f"{trading.loop.detector.stale_skips} stale skips; books "
                + ", ".join(
                    f"{v.value} in_sync={w.book.in_sync} age={(time.time_ns() - w.seen_ns) / 1e9:.1f}s"
                    for (v, _), w in trading.loop.detector.watched.items()
                )
            ) from None
        if current.handle is not None:
            status = await asyncio.wait_for(current.handle.result(), ROUND_TIMEOUT_S)
            if status.state is not ArbState.COMPLETED:
                raise RuntimeError(f"saga {current.workflow_id} ended {status.state.value}: {status.alerts}")
    finally:
        PROBE.round = None
        await sandboxes.restore(venue)
        await _settle(trading)
    return current


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, values_ns: list[int], width: int = 18) -> str:
    ms = [v / 1e6 for v in values_ns]
    return (
        f"  {name:<{width}} p50 {_pct(ms, 0.50):7.2f}   p95 {_pct(ms, 0.95):7.2f}   p99 {_pct(ms, 0.99):7.2f}   "
        f"max {max(ms):7.2f} ms"
    )


@dataclass
class Collections:
    """The garbage collector's pauses while the rounds run (a `gc.callbacks` hook), by generation."""

    pauses: dict[int, list[int]] = field(default_factory=lambda: collections.defaultdict(list))
    _began: int = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter_ns()
        else:
            self.pauses[info["generation"]].append(time.perf_counter_ns() - self._began)

    @contextlib.contextmanager
    def watching(self) -> Iterator[Collections]:
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


def report(
    rounds: list[Round],
    eager_start: int,
    server: ServerView,
    elapsed_s: float,
    bare: list[int],
    collected: Collections,
) -> None:
    totals = [r.total() for r in rounds]
    print(f"{len(rounds)} rounds measured ({elapsed_s:.1f} s)")
    print(f"eager workflow start: {eager_start}/{len(rounds)} start responses carried the first workflow task")
    gaps = server.eager_gaps
    eager = sum(1 for gap in gaps if gap < EAGER_GAP_MS)
    print(
        f"eager activity execution: {eager}/{len(gaps)} leg activities of the last "
        f"{len(gaps) // 2} sagas started in the scheduling transaction "
        f"(scheduled -> started max {max(gaps, default=0):.2f} ms; < {EAGER_GAP_MS:.0f} ms = eager)"
    )
    ahead = sum(1 for r in rounds for venue in r.received if r.sent_ahead(venue))
    print(f"legs sent by the hot process once the saga existed (its activity adopts them): {ahead}/{2 * len(rounds)}")
    print("tick -> second leg order received by its venue:")
    print(_row("total", totals))
    print("stages on the critical path (the leg that arrived last; schedule is 0 for a leg sent ahead):")
    for stage in STAGES:
        print(_row(stage, [r.stages(r.last_leg())[stage] for r in rounds]))
    print("tick -> the saga's leg activity running (it places the leg, or adopts the one sent ahead):")
    print(_row("total", [max(r.schedule.values()) - r.tick for r in rounds]))
    print("  start -> activity, split on the leg whose activity ran last:")
    for part in rounds[0].schedule_parts(rounds[0].last_leg()):
        split = [r.schedule_parts(max(r.schedule, key=r.schedule.__getitem__))[part] for r in rounds]
        print(_row("  " + part, split, width=30))
    for venue in (Venue.POLYMARKET, Venue.KALSHI):
        print(f"{venue.value} leg (every round):")
        print(_row("tick -> received", [r.received[venue] - r.tick for r in rounds]))
        print(_row("tick -> activity", [r.schedule[venue] - r.tick for r in rounds]))
        for stage in ("schedule", "sign", "send"):
            print(_row(stage, [r.stages(venue)[stage] for r in rounds]))
        on_lane = [r for r in rounds if venue in r.written]
        print(f"    sent on the order lane in {len(on_lane)}/{len(rounds)} rounds; their send split:")
        print(_row("  until written", [r.written[venue] - r.send_from(venue) for r in on_lane]))
        print(_row("  written -> received", [r.received[venue] - r.written[venue] for r in on_lane]))
        print(_row("sandbox handler", [r.handled[venue] for r in rounds if venue in r.handled]))
    for venue in (Venue.POLYMARKET, Venue.KALSHI):
        own = [r.total() for r in rounds if r.venue is venue]
        if own:
            print(f"ticks on {venue.value}:")
            print(_row("total", own))
            print(_row("feed", [r.book - r.tick for r in rounds if r.venue is venue]))
    print(f"garbage collections during warm-up and rounds (start-up heap frozen, {gc.get_freeze_count()} objects):")
    for generation, pauses in sorted(collected.pauses.items()):
        print(_row(f"gen {generation} x{len(pauses)}", pauses))
    print(f"Temporal stages against the server's event times (last {HISTORIES} sagas, critical leg):")
    for part, values in server.parts.items():
        print(_row(part, [int(v * 1e6) for v in values], width=46))
    print(f"reference: eager start of an empty workflow on the same server, {BARE_GAP_S * 1e3:.0f} ms apart:")
    print(_row("bare start", bare))
    starts = [r.stages(r.last_leg())["start"] for r in rounds]
    print(
        f"  the saga's start stage p50 {_pct(starts, 0.5) / 1e6:.2f} ms = "
        f"{_pct(starts, 0.5) / _pct(bare, 0.5):.2f}x the bare start; tick -> orders beyond the bare start p50: "
        f"{(_pct(totals, 0.5) - _pct(bare, 0.5)) / 1e6:.2f} ms"
    )
    p50, p99 = _pct(totals, 0.50) / 1e6, _pct(totals, 0.99) / 1e6
    print(
        f"targets: p50 {p50:.2f} ms / {TARGET_P50_MS:.0f} ms = {p50 / TARGET_P50_MS:.2f}x "
        f"({'met' if p50 <= TARGET_P50_MS else 'MISSED'}); "
        f"p99 {p99:.2f} ms / {TARGET_P99_MS:.0f} ms = {p99 / TARGET_P99_MS:.2f}x "
        f"({'met' if p99 <= TARGET_P99_MS else 'MISSED'})"
    )


async def run(rounds: int, warmup: int, venues: list[Venue], *, approval: str, keep_legs_in_saga: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tick-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            dry_run=True,
            temporal=TemporalSettings(dev_server_port=_free_port(), ui_port=_free_port()),
        )
        async with contextlib.AsyncExitStack() as stack:
            sandboxes, urls = await stack.enter_async_context(venue_processes())
            # `point_at_sandboxes` reads only the URLs (see VenueUrls).
            settings = await provision(point_at_sandboxes(settings, cast(Sandboxes, urls)))
            svc = await stack.enter_async_context(services(settings))
            config = svc.client.config()
            config["interceptors"] = [BenchInterceptor()]
            client = temporal_client.Client(**config)
            # The order of `inertial up` (control/up.py): clients, risk gate, worker, trading stack.
            queue = settings.temporal.task_queue
            polymarket, kalshi = await stack.enter_async_context(venue_clients(settings))
            gate = await stack.enter_async_context(running_risk(client, svc.engine, TENANT, queue, BENCH_LIMITS))
            gates = RiskGates([gate])
            send_ahead = SendAhead(trading_accounts(polymarket, kalshi), gates.allows_new_exposure)
            await stack.enter_async_context(
                trading_worker(client, queue, svc.engine, polymarket, kalshi, gates, send_ahead)
            )
            policy = SagaPolicy(pre_trade_approval=approval != "none")
            admission = None
            if approval == "hot":
                admission = await stack.enter_async_context(HotAdmission(client, gate).running())
            trading = await stack.enter_async_context(
                trading_stack(
                    settings,
                    client,
                    svc.engine,
                    polymarket,
                    kalshi,
                    admissions=None if admission is None else TenantAdmissions([admission]),
                    send_ahead=send_ahead if admission is not None and not keep_legs_in_saga else None,
                    policy=policy,
                )
            )
            if len(trading.pairs) != 1:
                raise RuntimeError(f"expected the bench's one twin pair to be confirmed, got {len(trading.pairs)}")
            await _risk_ready(client, gate, admission)
            await probe_health(svc, settings.temporal.task_queue)
            _instrument(trading)
            await sandboxes.refresh()
            await _books_in_sync(trading)
            await _settle(trading, 0.2)
            print(
                f"stack up: Temporal {svc.temporal_address} (dev server), pair {trading.pairs[0].pair_id}; "
                f"{warmup} warm-up + {rounds} measured rounds, ticks on {', '.join(v.value for v in venues)}; "
                f"pre-trade approval: {approval}; "
                f"legs {'placed by the saga' if keep_legs_in_saga else 'sent ahead when admitted'}",
                flush=True,
            )
            settle_heap()
            measured: list[Round] = []
            started = time.perf_counter()
            with Collections().watching() as collected:
                for i in range(warmup + rounds):
                    began = time.perf_counter()
                    result = await _one_round(sandboxes, trading, venues[i % len(venues)])
                    if i >= warmup:
                        measured.append(result)
                    await asyncio.sleep(max(0.0, MIN_ROUND_S - (time.perf_counter() - began)))
            elapsed = time.perf_counter() - started
            server = await _server_view(client, measured[-HISTORIES:])
            eager = sum(1 for r in measured if r.eager)
            report(measured, eager, server, elapsed, await bare_starts(client), collected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--venue", choices=("both", "polymarket", "kalshi"), default="both")
    parser.add_argument(
        "--approval",
        choices=APPROVALS,
        default="hot",
        help="hot: the pre-trade checks in the hot process, as `inertial up` (default); supervisor: every saga "
        "asks the risk supervisor before its legs; none: no pre-trade check (an experiment: its cost)",
    )
    parser.add_argument(
        "--legs-in-saga",
        action="store_true",
        help="the saga's activities place the legs even when this process admitted it (no send ahead): "
        "the path through activity dispatch",
    )
    parser.add_argument(
        "--server-config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an experiment: one more dynamic config value for the dev server (default: exactly `inertial up`'s)",
    )
    args = parser.parse_args()
    for item in args.server_config:
        key, _, value = item.partition("=")
        DYNAMIC_CONFIG[key] = value
    logging.basicConfig(level=logging.WARNING)
    venues = [Venue.POLYMARKET, Venue.KALSHI] if args.venue == "both" else [Venue(args.venue)]
    asyncio.run(run(args.rounds, args.warmup, venues, approval=args.approval, keep_legs_in_saga=args.legs_in_saga))


if __name__ == "__main__":
    main()
