"""The chaos rig: both sandbox venues in this process, saga workers as killable subprocesses, and the audit.

Every saga trades its own twin market (a Polymarket condition with YES/NO tokens and
a Kalshi ticker, seeded so that Polymarket YES + Kalshi NO costs well under $1 after
fees, with depth for hedges and unwinds), so the venues' own logs for that market
are exactly what the saga did. `audit` reads those logs through the admin API and
checks what matters: flat across venues (or within tolerance and alerted), no client
order id placed twice, fills the saga believes in equal to the venue's, and the
`sagas` row equal to the workflow's final `state` query.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle

from arbitrage.opportunity import Direction, Opportunity, OpportunityLeg
from arbitrage.saga import ArbState, LegFill, LegOrder, SagaPolicy, SagaStatus
from domain.fees import kalshi_order_fee
from domain.models import Market, MarketPair, Outcome, PairStatus, Venue
from sandbox.handles import KalshiHandle, Sandboxes
from sandbox.kalshi.admin import seed_book as seed_kalshi_book
from sandbox.polymarket.state import PolymarketState
from storage.database import session_factory
from storage.tables import AuditEvent, SagaRow
from streamers.arbitrage import ArbitrageTrades
from streamers.launcher import TradeLauncher
from tests.chaos.config import LaunchCommand, WorkerConfig
from tests.fakes.recorder import InMemoryRecorder
from venues.errors import InvalidOrderError
from venues.polymarket.eip712 import Wallet
from venues.polymarket.orders import OrderSigner
from workflows.arb_saga import ArbSagaWorkflow

REPO = Path(__file__).resolve().parents[2]
KALSHI_ACCOUNT = "chaos-trader"
POLY_ASK, POLY_BID = Decimal("0.40"), Decimal("0.38")
KALSHI_YES_BID_CENTS = 55  # so Kalshi NO asks at 45 cents: 0.40 + 0.45 + fee < 1
DEPTH = 400
READY_TIMEOUT_S = 60.0

Saga = WorkflowHandle[ArbSagaWorkflow, SagaStatus]


@dataclass
class ChaosLedger:
    """What the suite did and saw, printed by the terminal summary of tests/chaos/conftest.py."""

    faults: Counter[str] = field(default_factory=Counter)
    signals: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    strategies: Counter[str] = field(default_factory=Counter)
    max_residual: Decimal = Decimal(0)
    alerted_residuals: int = 0
    sagas: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    hot_kills: Counter[str] = field(default_factory=Counter)
    hot_sagas: Counter[str] = field(default_factory=Counter)
    hot_states: Counter[str] = field(default_factory=Counter)


LEDGER = ChaosLedger()


class WorkerPool:
    """`size` worker processes on one task queue, plus `standbys` warm ones.

    `kill_one` SIGKILLs a worker (no graceful shutdown: its activities and workflow tasks
    are abandoned mid-flight), promotes a standby to take over, and warms a new one. With `hot`, the
    processes are hot processes (`worker_main --hot`): `promote` one and drive it with `HotProcess`.
    """

    def __init__(
        self, config: WorkerConfig, workdir: Path, size: int = 2, standbys: int = 2, *, hot: bool = False
    ) -> None:
        self._hot = hot
        self._config_path = workdir / f"{'hot' if hot else 'worker'}-{config.task_queue}.json"
        self._config_path.write_text(config.model_dump_json())
        self._config_path.chmod(0o600)
        self._logs = workdir
        self._size = size
        self._standby_count = standbys
        self._spawned = 0
        self.procs: list[asyncio.subprocess.Process] = []
        self._standbys: list[asyncio.Task[asyncio.subprocess.Process]] = []
        self._starting: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await asyncio.gather(*(self.add() for _ in range(self._size)))
        self._standbys = [asyncio.create_task(self._spawn(standby=True)) for _ in range(self._standby_count)]

    async def add(self) -> None:
        self.procs.append(await self._spawn(standby=False))

    async def _spawn(self, *, standby: bool) -> asyncio.subprocess.Process:
        self._spawned += 1
        log = (self._logs / f"worker-{self._config_path.stem}-{self._spawned}.log").open("ab")
        args = [str(self._config_path), *(["--standby"] if standby else []), *(["--hot"] if self._hot else [])]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.chaos.worker_main",
            *args,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        log.close()
        await self._expect(proc, b"warm" if standby else b"ready")
        return proc

    async def _expect(self, proc: asyncio.subprocess.Process, word: bytes) -> None:
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                line = await proc.stdout.readline()
        except TimeoutError:
            proc.kill()
            raise RuntimeError(f"chaos worker not {word.decode()} in {READY_TIMEOUT_S}s (see {self._logs})") from None
        if line.strip() != word:
            raise RuntimeError(f"chaos worker failed to start (see {self._logs}): {line!r}")

    async def kill_one(self, rng: Random) -> None:
        victim = rng.choice(self.procs)
        self.procs.remove(victim)
        victim.kill()
        await victim.wait()
        task = asyncio.create_task(self._take_over())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _take_over(self) -> None:
        await self.promote()

    async def promote(self, *, keep: int | None = None) -> asyncio.subprocess.Process:
        """The warm standby starts polling; new standbys warm up behind it until `keep` (default: as many
        as the pool was given) are there; fewer when the caller knows it needs fewer (CPU is scarce)."""
        standby = await self._standbys.pop(0)
        while len(self._standbys) < (self._standby_count if keep is None else keep):
            self._standbys.append(asyncio.create_task(self._spawn(standby=True)))
        assert standby.stdin is not None
        standby.stdin.write(b"go\n")
        await standby.stdin.drain()
        await self._expect(standby, b"ready")
        self.procs.append(standby)
        return standby

    def failed_activities(self, activity_type: str) -> int:
        """Failed attempts of one activity type, from the workers' logs (the SDK logs each one)."""
        needle = f"'activity_type': '{activity_type}'"
        count = 0
        for log in self._logs.glob(f"worker-{self._config_path.stem}-*.log"):
            count += sum(
                1
                for line in log.read_text(errors="replace").splitlines()
                if "activity as failed" in line and needle in line
            )
        return count

    async def warm(self) -> None:
        """Wait until every standby is loaded and connected."""
        for task in list(self._standbys):
            await task

    @property
    def taking_over(self) -> int:
        return len(self._starting)

    async def settle(self) -> None:
        """Wait for replacements to be polling."""
        async with asyncio.timeout(READY_TIMEOUT_S):
            for task in list(self._starting):
                await task

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.settle()
        procs = list(self.procs)
        for task in self._standbys:
            with contextlib.suppress(Exception):
                procs.append(await task)
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            if proc.stdin is not None:
                proc.stdin.close()  # also what ends a standby, and the worker's orphan watch
        for proc in procs:
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.procs.clear()


class HotProcess:
    """A promoted hot chaos process (`tests.chaos.worker_main --hot`): saga launches in, what it says out.

    It says `WORD ID` lines as each saga progresses (see worker_main); `until` waits for one, `kill`
    SIGKILLs the process and keeps everything it said before dying."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.said: set[tuple[str, str]] = set()
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            word, _, ident = line.decode().strip().partition(" ")
            self.said.add((word, ident))
            self._changed.set()

    async def launch(self, command: LaunchCommand) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.model_dump_json().encode() + b"\n")
        await self.proc.stdin.drain()

    async def until(self, wanted: Callable[[set[tuple[str, str]]], bool], timeout: float) -> bool:
        """Wait until `wanted(said)` holds (checked whenever the process says something); False on timeout."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not wanted(self.said):
                    self._changed.clear()
                    await self._changed.wait()
        return wanted(self.said)

    async def kill(self) -> None:
        self.proc.kill()
        await self.proc.wait()
        await self._reader  # the pipe still holds what it said before dying


@dataclass(frozen=True)
class Twin:
    """One matched pair listed on both sandbox venues, aligned (YES means the same event on both)."""

    pair: MarketPair

    @property
    def poly(self) -> Market:
        return self.pair.polymarket

    @property
    def kalshi(self) -> Market:
        return self.pair.kalshi


@dataclass
class Accounts:
    poly_key: str
    poly_address: str
    poly_api_key: str
    kalshi_account: str


class ChaosVenues:
    """The two running sandbox venues, our funded accounts on them, and a twin market factory."""

    def __init__(self, sandboxes: Sandboxes, accounts: Accounts) -> None:
        assert sandboxes.kalshi is not None and sandboxes.polymarket is not None
        assert sandboxes.polymarket_urls is not None
        self.kalshi: KalshiHandle = sandboxes.kalshi
        self.poly: PolymarketState = sandboxes.polymarket
        self.poly_url = sandboxes.polymarket_urls.clob
        self.poly_ws = sandboxes.polymarket_urls.ws_market
        self.accounts = accounts
        self._signer = OrderSigner(Wallet(accounts.poly_key), chain_id=self.poly.chain_id)
        self._twins = 0

    def new_twin(self) -> Twin:
        self._twins += 1
        n = self._twins
        listed = self.poly.add_market(question=f"Chaos question {n}?", min_size=Decimal(1))
        self.poly.seed_book(
            listed,
            bids=[(POLY_BID, Decimal(DEPTH)), (POLY_BID - Decimal("0.02"), Decimal(DEPTH))],
            asks=[(POLY_ASK, Decimal(DEPTH)), (POLY_ASK + Decimal("0.02"), Decimal(DEPTH))],
        )
        ticker = f"KXCHAOS-26DEC31-Q{n}"
        self.kalshi.venue.add_market(ticker, title=f"Chaos question {n}?")
        no_top = 100 - KALSHI_YES_BID_CENTS - 2
        seed_kalshi_book(
            self.kalshi.venue,
            ticker,
            yes=[(KALSHI_YES_BID_CENTS, DEPTH), (KALSHI_YES_BID_CENTS - 2, DEPTH)],
            no=[(no_top, DEPTH), (no_top - 2, DEPTH)],
        )
        poly = Market(
            venue=Venue.POLYMARKET,
            market_id=listed.condition_id,
            title=listed.question,
            yes_token=listed.yes_token,
            no_token=listed.no_token,
            min_order_size=Decimal(1),
        )
        kalshi = Market(
            venue=Venue.KALSHI, market_id=ticker, title=ticker, yes_token=f"{ticker}:yes", no_token=f"{ticker}:no"
        )
        pair = MarketPair(pair_id=f"chaos-{n}", polymarket=poly, kalshi=kalshi, status=PairStatus.CONFIRMED)
        return Twin(pair)

    def polymarket_order_id(self, fill: LegFill, twin: Twin) -> str | None:
        """The venue order id (EIP-712 hash) a client order id must map to: one order per id, ever.

        None for an intent the client refuses to sign (e.g. under the market's minimum size)."""
        try:
            return self._signer.sign_intent(fill.intent, twin.poly).order_hash
        except InvalidOrderError:
            return None

    @property
    def injectors(self) -> dict[Venue, Any]:
        return {Venue.POLYMARKET: self.poly.faults, Venue.KALSHI: self.kalshi.faults}

    def clear_faults(self) -> None:
        for faults in self.injectors.values():
            faults.clear()

    def release_stalled(self, venue: Venue) -> None:
        """Answer the placements held by `timeout_orders` without dropping the other settings."""
        faults = self.injectors[venue]
        kept = faults.settings.model_dump()
        faults.clear()
        faults.configure(**kept)

    def fired(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for faults in self.injectors.values():
            total.update(faults.fired)
        return total

    async def logs(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The venues' own order and fill logs (admin API)."""
        async with httpx.AsyncClient(timeout=30) as http:
            poly = (await http.get(f"{self.poly_url}/_sandbox/log")).json()
            kalshi = (
                await http.get(f"{self.kalshi.base_url}/_sandbox/log", params={"account": self.accounts.kalshi_account})
            ).json()
        return poly, kalshi


def opportunity(twin: Twin, contracts: int, opportunity_id: str) -> Opportunity:
    """The seeded window: buy Polymarket YES at its ask and Kalshi NO at 100 - best YES bid."""
    c = Decimal(contracts)
    no_ask = Decimal(100 - KALSHI_YES_BID_CENTS) / 100
    kalshi_fee = kalshi_order_fee([(no_ask, c)])
    now = datetime.now(UTC)
    return Opportunity(
        opportunity_id=opportunity_id,
        pair_id=twin.pair.pair_id,
        direction=Direction.POLYMARKET_YES,
        contracts=contracts,
        polymarket=OpportunityLeg(
            venue=Venue.POLYMARKET,
            market_id=twin.poly.market_id,
            token_id=twin.poly.yes_token,
            outcome=Outcome.YES,
            limit_price=POLY_ASK,
            contracts=contracts,
            fills=((POLY_ASK, c),),
            cost=POLY_ASK * c,
            fee=Decimal(0),
        ),
        kalshi=OpportunityLeg(
            venue=Venue.KALSHI,
            market_id=twin.kalshi.market_id,
            token_id=twin.kalshi.no_token,
            outcome=Outcome.NO,
            limit_price=no_ask,
            contracts=contracts,
            fills=((no_ask, c),),
            cost=no_ask * c,
            fee=kalshi_fee,
        ),
        expected_profit=c - (POLY_ASK + no_ask) * c - kalshi_fee,
        detected_at=now,
        polymarket_book_at=now,
        kalshi_book_at=now,
    )


# Polymarket fills fractional shares (and a FAK buy's USDC amount has at most 2 decimals) while
# Kalshi trades whole contracts: less than one contract may be impossible to match exactly.
FAST = SagaPolicy(
    pre_trade_approval=False,
    hedge_tolerance=Decimal("0.99"),
    compensation_backoff=timedelta(milliseconds=50),
    max_compensation_backoff=timedelta(milliseconds=400),
    max_compensation_attempts=20,
    order_timeout=timedelta(seconds=4),
)


def random_policy(rng: Random) -> SagaPolicy:
    order = rng.choice([LegOrder.CONCURRENT, LegOrder.RISKIER_FIRST])
    riskier = rng.choice([Venue.POLYMARKET, Venue.KALSHI])
    return FAST.model_copy(update={"leg_order": order, "riskier_venue": riskier})


@dataclass
class Launched:
    twin: Twin
    handle: Saga
    policy: SagaPolicy


Injector = Callable[[Random], Awaitable[None]]


async def run_batch(
    client: Client,
    queue: str,
    venues: ChaosVenues,
    rng: Random,
    *,
    sagas: int | None = None,
    twins: list[Twin] | None = None,
    inject: Injector,
    interval: tuple[float, float],
    spread_s: float = 3.0,
    tail_s: float = 1.5,
    deadline_s: float = 90.0,
) -> list[tuple[Launched, SagaStatus]]:
    """Start `sagas` sagas over `spread_s` seconds while `inject` fires at random intervals; wait for all.

    Faults are injected while sagas start and for up to `tail_s` after (less if all are done),
    then cleared: every saga must then finish on its own (a venue that never recovers is a
    different test).
    """
    if twins is None:
        assert sagas is not None
        twins = [venues.new_twin() for _ in range(sagas)]
    pairs = {t.pair.pair_id: t.pair for t in twins}
    recorder = InMemoryRecorder()
    launched: list[Launched] = []
    starts = sorted(rng.uniform(0, spread_s) for _ in twins)
    policies = [random_policy(rng) for _ in twins]
    sizes = [rng.randint(5, 25) for _ in twins]
    tag = f"{queue}-{rng.getrandbits(32):08x}"

    async def launch_all() -> None:
        begun = asyncio.get_running_loop().time()
        for i, (twin, at, policy, size) in enumerate(zip(twins, starts, policies, sizes, strict=True)):
            await asyncio.sleep(max(0.0, begun + at - asyncio.get_running_loop().time()))
            trades = ArbitrageTrades(TradeLauncher(client, queue), pairs, recorder, policy)
            handle = await trades.take(opportunity(twin, size, f"{tag}-{i}"))
            assert handle is not None
            launched.append(Launched(twin, handle, policy))

    async def chaos(stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(rng.uniform(*interval)):
                    await stop.wait()
            if not stop.is_set():
                await inject(rng)

    stop = asyncio.Event()
    chaos_task = asyncio.create_task(chaos(stop))
    finished: asyncio.Future[list[SagaStatus]] | None = None
    try:
        await launch_all()
        finished = asyncio.gather(*(item.handle.result() for item in launched))
        await asyncio.wait([finished], timeout=tail_s)
        stop.set()
        await chaos_task
        venues.clear_faults()
        try:
            async with asyncio.timeout(deadline_s):
                results = await finished
        except TimeoutError:
            raise AssertionError(f"sagas still running after {deadline_s}s:\n{await stuck(launched)}") from None
    finally:
        stop.set()
        venues.clear_faults()
        if finished is not None and not finished.done():
            finished.cancel()
        if not chaos_task.done():
            chaos_task.cancel()
    return list(zip(launched, results, strict=True))


async def stuck(launched: list[Launched]) -> str:
    """Where each unfinished saga is, from its state query and its pending activities."""
    lines = []
    for item in launched:
        described = await item.handle.describe()
        if described.status is not None and described.status.name != "RUNNING":
            continue
        try:
            async with asyncio.timeout(5):
                status: SagaStatus = await item.handle.query(ArbSagaWorkflow.state)
        except TimeoutError:
            lines.append(f"{item.handle.id}: no worker answered the state query")
            continue
        raw = described.raw_description
        pending = [(p.activity_type.name, p.attempt, p.last_failure.message[:120]) for p in raw.pending_activities]
        lines.append(f"{item.handle.id} {status.state} legs={[(f.filled, f.rejected) for f in status.legs]} {pending}")
    return "\n".join(lines[:30])


@dataclass
class Holdings:
    """One saga's contracts from the venues' logs, in pair terms (the twin is aligned)."""

    yes: Decimal = Decimal(0)
    no: Decimal = Decimal(0)
    filled_by_id: dict[str, Decimal] = field(default_factory=dict)

    def add(self, outcome: str, side: str, size: Decimal, order_key: str) -> None:
        signed = size if side.lower() == "buy" else -size
        if outcome.lower() == "yes":
            self.yes += signed
        else:
            self.no += signed
        self.filled_by_id[order_key] = self.filled_by_id.get(order_key, Decimal(0)) + size

    @property
    def residual(self) -> Decimal:
        return abs(self.yes - self.no)


async def audit(venues: ChaosVenues, engine: AsyncEngine, results: list[tuple[Launched, SagaStatus]]) -> list[str]:
    """Check every saga against the venues' logs and the database; returns the violations found."""
    poly_log, kalshi_log = await venues.logs()
    api_key = venues.accounts.poly_api_key
    poly_orders: dict[str, list[dict[str, Any]]] = {}
    for order in poly_log["orders"]:
        if order["owner"] == api_key:
            poly_orders.setdefault(order["market"], []).append(order)
    poly_trades: dict[str, list[dict[str, Any]]] = {}
    for trade in poly_log["trades"]:
        poly_trades.setdefault(trade["market"], []).append(trade)
    kalshi_orders: dict[str, list[dict[str, Any]]] = {}
    for order in kalshi_log["orders"]:
        kalshi_orders.setdefault(order["ticker"], []).append(order)
    kalshi_fills: dict[str, list[dict[str, Any]]] = {}
    for fill in kalshi_log["fills"]:
        kalshi_fills.setdefault(fill["ticker"], []).append(fill)

    sessions = session_factory(engine)
    async with sessions() as session:
        rows = {r.workflow_id: r for r in (await session.scalars(select(SagaRow))).all()}
        alerts: Counter[str] = Counter(
            a.subject or ""
            for a in (await session.scalars(select(AuditEvent).where(AuditEvent.action == "alert"))).all()
        )

    problems: list[str] = []
    for launched, status in results:
        twin, wid = launched.twin, launched.handle.id
        fills = [*status.legs, *status.compensations]
        async with asyncio.timeout(30):
            queried: SagaStatus = await launched.handle.query(ArbSagaWorkflow.state)
        if queried != status:
            problems.append(f"{wid}: state query differs from the result")
        row = rows.get(wid)
        if row is None:
            problems.append(f"{wid}: no sagas row")
        elif row.state != queried.state.value or row.details != queried.model_dump(mode="json"):
            problems.append(f"{wid}: sagas row {row.state} != queried {queried.state.value}")
        if not queried.state.is_final:
            problems.append(f"{wid}: ended in non-final state {queried.state}")

        held = Holdings()
        poly_ids: dict[str, LegFill] = {}
        for f in fills:
            order_id = venues.polymarket_order_id(f, twin) if f.intent.venue is Venue.POLYMARKET else None
            if order_id is not None:
                poly_ids[order_id] = f
        for order in poly_orders.get(twin.poly.market_id, []):
            if order["id"] not in poly_ids:
                problems.append(f"{wid}: Polymarket order {order['id'][:12]} matches no client order id of the saga")
        for trade in poly_trades.get(twin.poly.market_id, []):
            if trade["owner"] == api_key:
                held.add(trade["outcome"], trade["side"], Decimal(trade["size"]), trade["taker_order_id"])
            for maker in trade["maker_orders"]:
                if maker["owner"] == api_key:
                    held.add(maker["outcome"], maker["side"], Decimal(maker["matched_amount"]), maker["order_id"])
        client_ids = Counter(o["client_order_id"] for o in kalshi_orders.get(twin.kalshi.market_id, []))
        saga_ids = {f.intent.client_order_id for f in fills}
        for client_id, count in client_ids.items():
            if count > 1:
                problems.append(f"{wid}: Kalshi client order id {client_id} placed {count} times")
            if client_id not in saga_ids:
                problems.append(f"{wid}: Kalshi order {client_id} unknown to the saga")
        for fill in kalshi_fills.get(twin.kalshi.market_id, []):
            held.add(fill["side"], fill["action"], Decimal(fill["count"]), fill["client_order_id"])

        for f in fills:
            key = f.intent.client_order_id
            if f.intent.venue is Venue.POLYMARKET:
                key = next((h for h, p in poly_ids.items() if p.intent.client_order_id == key), key)
            venue_filled = held.filled_by_id.get(key, Decimal(0))
            if venue_filled != f.filled:
                problems.append(
                    f"{wid}: {f.intent.venue.value} {f.intent.side.value} {f.intent.client_order_id} "
                    f"filled {venue_filled} at the venue, saga believes {f.filled}"
                )
        if held.residual != queried.unmatched:
            problems.append(f"{wid}: venue residual {held.residual} != saga unmatched {queried.unmatched}")
        if held.residual:
            LEDGER.alerted_residuals += 1
            if not alerts[wid]:
                problems.append(f"{wid}: exposed by {held.residual} contracts and no alert")
        if held.residual > launched.policy.hedge_tolerance and queried.state is not ArbState.FAILED:
            problems.append(f"{wid}: exposed by {held.residual} beyond tolerance yet {queried.state}")
        LEDGER.max_residual = max(LEDGER.max_residual, held.residual)
        LEDGER.states[queried.state.value] += 1
        if queried.hedge_strategy is not None:
            LEDGER.strategies[queried.hedge_strategy.value] += 1
        LEDGER.sagas += 1
    return problems


@contextlib.asynccontextmanager
async def timed(phase: str) -> AsyncIterator[None]:
    began = asyncio.get_running_loop().time()
    try:
        yield
    finally:
        LEDGER.phases[phase] = asyncio.get_running_loop().time() - began
