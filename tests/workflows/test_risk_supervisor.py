"""The risk supervisor on the time-skipping server: limits, breaker window, reset, kill switch,
update validators, P&L snapshots, continue-as-new; every history recorded here replays."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from typer.testing import CliRunner

from activities.risk import RiskActivities
from arbitrage.opportunity import Opportunity
from arbitrage.risk_terms import trade_request
from control.app.errors import OperationError
from control.app.risk import RiskControl
from control.cli.risk import app as cli_app
from domain.accounts import DEFAULT_TENANT
from domain.book import BookSnapshot
from domain.models import Outcome, Position, Venue
from risk.gate import RiskGate, SqlGateStateStore
from risk.models import (
    Decision,
    KillSwitchChange,
    LimitChange,
    RejectCode,
    SagaFinished,
    SagaOutcome,
    TradeRequest,
    supervisor_id,
)
from risk.pnl import PnlScope
from risk.supervision import RiskStatus, SupervisorInput
from storage import migrate
from storage.database import create_engine, session_factory
from storage.tables import AuditEvent, FillRow, PnlSnapshot, Tenant
from streamers.admission import HotAdmission
from tests.risk.factories import T0, FakeVenueClient, GateStore, arb_request, funded
from tests.risk.fake_saga import FakeSagaWorkflow
from tests.workflows.saga_fixtures import opportunity as saga_opportunity
from venues.accounts import VenueAccounts
from workflows.risk_supervisor import RiskSupervisorWorkflow

TASK_QUEUE = "risk-test"
QUIET = {"pnl_interval_seconds": 0, "account_interval_seconds": 0, "orphan_check_seconds": 0}


@dataclass
class Harness:
    env: WorkflowEnvironment
    engine: AsyncEngine
    venues: dict[Venue, FakeVenueClient]
    books: dict[tuple[Venue, str], BookSnapshot]
    handles: list[WorkflowHandle[RiskSupervisorWorkflow, None]] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    def control(self, handle: WorkflowHandle[RiskSupervisorWorkflow, None]) -> RiskControl:
        return RiskControl(self.client, handle.id.removeprefix("risk-supervisor-"))

    async def start(self, tenant: str | None = None, **params: int) -> WorkflowHandle[RiskSupervisorWorkflow, None]:
        tenant = tenant or f"t{uuid.uuid4().hex[:8]}"
        handle = await self.client.start_workflow(
            RiskSupervisorWorkflow.run,
            SupervisorInput(tenant_id=tenant, **{**QUIET, **params}),
            id=supervisor_id(tenant),
            task_queue=TASK_QUEUE,
        )
        self.handles.append(handle)
        await handle.signal(RiskSupervisorWorkflow.sync_account, funded())
        return handle


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'risk.db'}")
    await migrate.upgrade(engine)
    client = time_skipping_env.client
    venues = {venue: FakeVenueClient(venue, "0") for venue in Venue}
    books: dict[tuple[Venue, str], BookSnapshot] = {}

    async def book_of(venue: Venue, market_id: str) -> BookSnapshot | None:
        return books.get((venue, market_id))

    risk = RiskActivities(engine, client, accounts=VenueAccounts.single(venues), books=book_of)
    h = Harness(time_skipping_env, engine, dict(venues), books)
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[RiskSupervisorWorkflow, FakeSagaWorkflow],
        activities=risk.activities(),
    ):
        yield h
        histories: list[WorkflowHistory] = []
        for handle in h.handles:
            histories.append(await handle.fetch_history())
        for workflow_id in {handle.id for handle in h.handles}:
            with contextlib.suppress(RPCError):  # already closed
                await h.client.get_workflow_handle(workflow_id).terminate("test over")
    replayer = Replayer(workflows=[RiskSupervisorWorkflow, FakeSagaWorkflow], data_converter=client.data_converter)
    for history in histories:
        await replayer.replay_workflow(history)
    await engine.dispose()


async def eventually(probe: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Signals are processed asynchronously: poll a query until it shows their effect."""
    async with asyncio.timeout(timeout):
        while not await probe():
            await asyncio.sleep(0.02)


async def reserve(handle: WorkflowHandle[RiskSupervisorWorkflow, None], saga_id: str) -> Decision:
    return await handle.execute_update(RiskSupervisorWorkflow.check_and_reserve, arb_request(saga_id))


async def fail(handle: WorkflowHandle[RiskSupervisorWorkflow, None], saga_id: str) -> None:
    await handle.signal(
        RiskSupervisorWorkflow.saga_finished, SagaFinished(saga_id=saga_id, outcome=SagaOutcome.COMPENSATED)
    )


async def test_reservations_enforce_limits_and_are_released_by_saga_finished(harness: Harness) -> None:
    handle = await harness.start()
    await harness.control(handle).set_limit("max_open_sagas", "1", actor="test")
    first = await reserve(handle, "s1")
    assert first.approved
    assert (await reserve(handle, "s1")).approved  # a retried request gets the same answer
    second = await reserve(handle, "s2")
    assert (second.approved, second.code) == (False, RejectCode.MAX_OPEN_SAGAS)
    status = await handle.query(RiskSupervisorWorkflow.status)
    assert status.open_sagas == ["s1"] and status.exposure == Decimal("9.60")
    assert status.exposure_by_venue == {Venue.POLYMARKET: Decimal("4.05"), Venue.KALSHI: Decimal("5.55")}

    await handle.signal(
        RiskSupervisorWorkflow.saga_finished,
        SagaFinished(saga_id="s1", outcome=SagaOutcome.COMPLETED, fees=Decimal("0.10")),
    )
    assert (await reserve(handle, "s2")).approved
    status = await handle.query(RiskSupervisorWorkflow.status)
    assert status.open_sagas == ["s2"]
    assert status.balances[Venue.KALSHI] == Decimal("994.45")
    assert status.net_pnl_today == Decimal("-0.10")
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await reserve(handle, "s1")
    assert "already finished" in str(info.value.cause)


async def test_breaker_trips_within_window_not_outside_and_reset_reopens(harness: Harness) -> None:
    handle = await harness.start()
    for key, value in (("breaker_max_failures", "2"), ("breaker_window_seconds", "60")):
        await harness.control(handle).set_limit(key, value, actor="test")
    for saga in ("a", "b", "c"):
        assert (await reserve(handle, saga)).approved
    await fail(handle, "a")
    await harness.env.sleep(61)
    await fail(handle, "b")  # the first failure has left the window
    await eventually(lambda: _open_sagas_are(handle, ["c"]))
    assert not (await handle.query(RiskSupervisorWorkflow.status)).breaker_open
    await fail(handle, "c")
    await eventually(lambda: _breaker_open(handle))
    decision = await reserve(handle, "d")
    assert decision.code is RejectCode.CIRCUIT_BREAKER

    store = SqlGateStateStore(harness.engine)
    tenant = (await handle.query(RiskSupervisorWorkflow.status)).tenant_id
    await eventually(lambda: _stored_breaker_open(store, tenant, True))

    status = await harness.control(handle).reset_breaker("alice")
    assert not status.breaker_open and status.published_version == status.gate_version
    assert not (await store.read(tenant)).breaker_open  # type: ignore[union-attr]
    assert (await reserve(handle, "d")).approved
    with pytest.raises(OperationError, match="not open"):
        await harness.control(handle).reset_breaker("alice")
    async with session_factory(harness.engine)() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.tenant_id == tenant))).all()
    assert actions[-2:] == ["breaker_tripped", "breaker_reset"]  # the first three may interleave
    assert sorted(actions[:-2]) == ["limit_changed", "limit_changed", "supervisor_started"]


async def test_breaker_cooldown_reopens_trading_by_itself(harness: Harness) -> None:
    handle = await harness.start()
    for key, value in (("breaker_max_failures", "1"), ("breaker_cooldown_seconds", "300")):
        await harness.control(handle).set_limit(key, value, actor="test")
    assert (await reserve(handle, "a")).approved
    await fail(handle, "a")
    await eventually(lambda: _breaker_open(handle))
    await harness.env.sleep(301)
    await eventually(lambda: _published_closed(handle))
    assert (await reserve(handle, "b")).approved


async def test_kill_switch_blocks_new_sagas_and_reaches_the_gate(harness: Harness) -> None:
    handle = await harness.start()
    tenant = (await handle.query(RiskSupervisorWorkflow.status)).tenant_id
    gate = RiskGate(SqlGateStateStore(harness.engine), tenant)
    await eventually(lambda: _refreshed_gate_allows(gate))  # the supervisor publishes when it starts

    status = await harness.control(handle).kill("venue outage", actor="bob")
    assert status.kill_switch and status.published_version == status.gate_version
    await gate.refresh()  # the update returned after publishing: one poll is enough
    assert gate.refusal() == "kill switch is on: venue outage"
    gate.check(reduces_exposure=True)  # hedges and unwinds still go through
    assert (await reserve(handle, "s1")).code is RejectCode.KILL_SWITCH

    await harness.control(handle).unkill(actor="bob")
    await gate.refresh()
    assert gate.allows_new_exposure()
    assert (await reserve(handle, "s1")).approved


BAD_UPDATES: list[tuple[str, object, str]] = [
    ("set_limit", LimitChange(key="max_bananas", value="1"), "unknown limit 'max_bananas'"),
    ("set_limit", LimitChange(key="max_exposure_total", value="-5"), "greater than or equal to 0"),
    ("set_limit", LimitChange(key="max_open_sagas", value="lots"), "invalid value 'lots' for max_open_sagas"),
    ("set_limit", LimitChange(key="max_open_sagas", value="3", actor=" "), "say who"),
    ("set_kill_switch", KillSwitchChange(engaged=True, reason="  "), "needs a reason"),
    ("set_kill_switch", KillSwitchChange(engaged=False, actor=""), "say who"),
    ("reset_breaker", "carol", "not open"),
]


async def test_update_validators_reject_bad_input_and_change_nothing(harness: Harness) -> None:
    handle = await harness.start()
    before = await handle.query(RiskSupervisorWorkflow.limits)
    for update, arg, message in BAD_UPDATES:
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(update, arg)
        assert message in str(info.value.cause), update
    assert await handle.query(RiskSupervisorWorkflow.limits) == before
    assert not (await handle.query(RiskSupervisorWorkflow.status)).kill_switch
    history = await handle.fetch_history()
    assert not any(e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events)


async def test_saga_asks_through_the_activity_and_reports_back_by_signal(harness: Harness) -> None:
    handle = await harness.start()
    tenant = (await handle.query(RiskSupervisorWorkflow.status)).tenant_id
    await harness.control(handle).set_limit("breaker_max_failures", "1", actor="test")
    saga = await harness.client.start_workflow(
        FakeSagaWorkflow.run, args=[tenant, SagaOutcome.FAILED], id="saga-x", task_queue=TASK_QUEUE
    )
    harness.handles.append(saga)  # type: ignore[arg-type]
    assert (await saga.result()).approved
    await eventually(lambda: _breaker_open(handle))
    assert (await handle.query(RiskSupervisorWorkflow.status)).open_sagas == []


async def test_pnl_snapshots_are_taken_periodically_and_persisted(harness: Harness, tmp_path: Path) -> None:
    handle = await harness.start(pnl_interval_seconds=60)
    tenant = (await handle.query(RiskSupervisorWorkflow.status)).tenant_id
    async with session_factory(harness.engine)() as session:
        session.add(Tenant(id=tenant, name="test tenant"))
        await session.flush()
        session.add(
            FillRow(
                tenant_id=None,
                venue="kalshi",
                fill_id="other-tenant",
                venue_order_id="o",
                market_id="KX",
                outcome="yes",
                side="buy",
                price=Decimal("0.5"),
                quantity=Decimal(100),
                fee=Decimal(0),
                is_taker=True,
                filled_at=T0,
            )
        )
        fills = [
            ("KX", "buy", "0.40", "10", "0.07"),
            ("KX", "sell", "0.45", "10", "0.03"),  # KX: flat, +0.50 before fees
            ("KY", "buy", "0.30", "5", "0"),  # marked at KY's best YES bid 0.35: +0.25
            ("KZ", "buy", "0.50", "2", "0"),  # no book: marked at 0, -1.00
        ]
        for n, (market, side, price, quantity, fee) in enumerate(fills):
            session.add(
                FillRow(
                    tenant_id=tenant,
                    venue="kalshi",
                    fill_id=f"f{n}",
                    venue_order_id="o",
                    market_id=market,
                    outcome="yes",
                    side=side,
                    price=Decimal(price),
                    quantity=Decimal(quantity),
                    fee=Decimal(fee),
                    is_taker=True,
                    filled_at=T0,
                )
            )
        await session.commit()
    harness.books[(Venue.KALSHI, "KY")] = BookSnapshot(
        venue=Venue.KALSHI,
        market_id="KY",
        yes_bids=((Decimal("0.35"), Decimal(50)),),
        yes_asks=((Decimal("0.38"), Decimal(50)),),
        sequence=1,
        updated_at=T0,
        in_sync=True,
    )
    assert await handle.query(RiskSupervisorWorkflow.pnl) is None
    await harness.env.sleep(61)
    await eventually(lambda: _has_pnl(handle))
    report = await handle.query(RiskSupervisorWorkflow.pnl)
    assert report is not None
    assert (report.total.realized, report.total.unrealized, report.total.fees) == (
        Decimal("0.40"),
        Decimal("-0.75"),
        Decimal("0.10"),
    )
    assert report.unmarked == ("kalshi:KZ:yes",)
    env = {
        "INERTIAL_TEMPORAL__ADDRESS": harness.client.service_client.config.target_host,
        "INERTIAL_DATA_DIR": str(tmp_path),  # never the user's own data directory
        "INERTIAL_VAULT__ENCRYPT_PAYLOADS": "false",  # this test's worker runs without the codec
    }
    shown = await asyncio.to_thread(lambda: CliRunner().invoke(cli_app, ["pnl", "--tenant", tenant], env=env))
    assert shown.exit_code == 0, shown.output
    assert "total  all" in shown.output and "0.40          -0.75         0.10\n" in shown.output
    assert "marked at worst case (no book): kalshi:KZ:yes" in shown.output
    async with session_factory(harness.engine)() as session:
        rows = (await session.scalars(select(PnlSnapshot).where(PnlSnapshot.scope == PnlScope.TOTAL.value))).all()
    assert [(r.tenant_id, r.realized, r.unrealized, r.fees) for r in rows] == [
        (tenant, Decimal("0.4"), Decimal("-0.75"), Decimal("0.1"))
    ]


async def test_continue_as_new_carries_the_whole_state(harness: Harness) -> None:
    handle = await harness.start(max_history_events=20)
    first_run = (await handle.describe()).run_id
    await harness.control(handle).kill("audit", actor="ops")
    await harness.control(handle).unkill(actor="ops")
    await harness.control(handle).set_limit("max_daily_loss", "7.5", actor="test")
    assert (await reserve(handle, "held")).approved
    await harness.control(handle).kill("after", actor="ops")
    await eventually(lambda: _generation_at_least(handle, 1))
    harness.handles.append(harness.client.get_workflow_handle(handle.id, run_id=first_run))
    latest: WorkflowHandle[RiskSupervisorWorkflow, None] = harness.client.get_workflow_handle_for(
        RiskSupervisorWorkflow.run, handle.id
    )
    assert (await latest.describe()).run_id != first_run
    status = await _status_across_runs(latest)
    assert (status.kill_switch, status.kill_reason, status.open_sagas) == (True, "after", ["held"])
    assert status.balances[Venue.POLYMARKET] == Decimal(1000)
    assert (await latest.query(RiskSupervisorWorkflow.limits)).max_daily_loss == Decimal("7.5")
    assert (await latest.execute_update(RiskSupervisorWorkflow.check_and_reserve, arb_request("held"))).approved
    for n in range(10):  # saga traffic alone (no timers, no gate changes) also rolls the history over
        assert (await reserve(latest, f"r{n}")).code is RejectCode.KILL_SWITCH
    await eventually(lambda: _generation_at_least(latest, 2))
    assert (await _status_across_runs(latest)).open_sagas == ["held"]


async def _open_sagas_are(handle: WorkflowHandle[RiskSupervisorWorkflow, None], expected: list[str]) -> bool:
    return (await handle.query(RiskSupervisorWorkflow.status)).open_sagas == expected


async def _breaker_open(handle: WorkflowHandle[RiskSupervisorWorkflow, None]) -> bool:
    return (await handle.query(RiskSupervisorWorkflow.status)).breaker_open


async def _published_closed(handle: WorkflowHandle[RiskSupervisorWorkflow, None]) -> bool:
    status = await handle.query(RiskSupervisorWorkflow.status)
    return not status.breaker_open and status.published_version == status.gate_version


async def _stored_breaker_open(store: SqlGateStateStore, tenant: str, expected: bool) -> bool:
    state = await store.read(tenant)
    return state is not None and state.breaker_open is expected


async def _has_pnl(handle: WorkflowHandle[RiskSupervisorWorkflow, None]) -> bool:
    return await handle.query(RiskSupervisorWorkflow.pnl) is not None


async def _status_across_runs(handle: WorkflowHandle[RiskSupervisorWorkflow, None]) -> RiskStatus:
    """A query that lands on a run just as it continues as new can stall on the test server: retry it."""
    async with asyncio.timeout(30):
        while True:
            try:
                return await handle.query(RiskSupervisorWorkflow.status, rpc_timeout=timedelta(seconds=2))
            except RPCError:
                await asyncio.sleep(0.05)


async def _generation_at_least(handle: WorkflowHandle[RiskSupervisorWorkflow, None], generation: int) -> bool:
    return (await _status_across_runs(handle)).generation >= generation


async def _refreshed_gate_allows(gate: RiskGate) -> bool:
    await gate.refresh()
    return gate.allows_new_exposure()


async def test_a_supervisor_started_afresh_keeps_the_halt_and_publishes_above_the_old_versions(
    harness: Harness,
) -> None:
    handle = await harness.start()
    tenant = handle.id.removeprefix("risk-supervisor-")
    await harness.control(handle).set_limit("breaker_max_failures", "1", actor="test")
    assert (await reserve(handle, "a")).approved
    await fail(handle, "a")
    await eventually(lambda: _breaker_open(handle))
    killed = await harness.control(handle).kill("fat finger", actor="ops")
    await handle.terminate("operator restarted it")
    harness.handles.remove(handle)  # its history is still replayed at teardown, by run id:
    harness.handles.append(harness.client.get_workflow_handle(handle.id, run_id=(await handle.describe()).run_id))

    await harness.env.sleep(5)
    fresh = await harness.start(tenant)
    await eventually(lambda: _published_and_settled(fresh))
    status = await fresh.query(RiskSupervisorWorkflow.status)
    assert (status.kill_switch, status.kill_reason, status.breaker_open) == (True, "fat finger", True)
    assert "before the supervisor restarted" in status.breaker_reason
    assert status.gate_version > killed.gate_version

    store = SqlGateStateStore(harness.engine)
    unkilled = await harness.control(fresh).unkill(actor="ops")
    await harness.control(fresh).reset_breaker("ops")
    stored = await store.read(tenant)
    assert stored is not None and not stored.halted and stored.version > unkilled.gate_version


async def _published_and_settled(handle: WorkflowHandle[RiskSupervisorWorkflow, None]) -> bool:
    status = await handle.query(RiskSupervisorWorkflow.status)
    return status.published_version == status.gate_version > 0


async def test_account_is_synced_from_the_venues_periodically(harness: Harness) -> None:
    harness.venues[Venue.KALSHI].available = Decimal("250.5")
    harness.venues[Venue.KALSHI].positions = [
        Position(venue=Venue.KALSHI, market_id="KX-9", outcome=Outcome.YES, quantity=Decimal(7), cost_basis=Decimal(3)),
        Position(venue=Venue.KALSHI, market_id="KX-9", outcome=Outcome.NO, quantity=Decimal(2)),
    ]
    handle = await harness.start(DEFAULT_TENANT, account_interval_seconds=30)  # the tenant the venues trade for
    await eventually(lambda: _balance_is(handle, Venue.KALSHI, Decimal("250.5")))
    status = await handle.query(RiskSupervisorWorkflow.status)
    assert status.balances[Venue.POLYMARKET] == Decimal(0)
    assert (status.contracts, status.exposure) == (Decimal(9), Decimal(5))  # no cost basis: $1 a contract
    harness.venues[Venue.KALSHI].available = Decimal(40)
    await harness.env.sleep(31)
    await eventually(lambda: _balance_is(handle, Venue.KALSHI, Decimal(40)))

    harness.venues[Venue.POLYMARKET].available = Decimal(100)
    await harness.env.sleep(31)
    await eventually(lambda: _balance_is(handle, Venue.POLYMARKET, Decimal(100)))
    assert (await reserve(handle, "s1")).approved
    await handle.signal(RiskSupervisorWorkflow.saga_finished, SagaFinished(saga_id="s1", outcome=SagaOutcome.COMPLETED))
    await eventually(lambda: _contracts_are(handle, Decimal(29)))  # 9 held + both legs of 10
    # the venues do not list the new legs yet: the next sync, within the overlap, keeps them
    harness.venues[Venue.POLYMARKET].available = Decimal(90)
    await harness.env.sleep(31)
    await eventually(lambda: _balance_is(handle, Venue.POLYMARKET, Decimal("85.95")))  # 90 - 4.05 again
    assert (await handle.query(RiskSupervisorWorkflow.status)).contracts == Decimal(29)
    # a sync begun more than the overlap after the completion is the venues' word alone
    await harness.env.sleep(31)
    await eventually(lambda: _balance_is(handle, Venue.POLYMARKET, Decimal(90)))
    assert (await handle.query(RiskSupervisorWorkflow.status)).contracts == Decimal(9)


async def _contracts_are(handle: WorkflowHandle[RiskSupervisorWorkflow, None], contracts: Decimal) -> bool:
    return (await handle.query(RiskSupervisorWorkflow.status)).contracts == contracts


async def _balance_is(handle: WorkflowHandle[RiskSupervisorWorkflow, None], venue: Venue, amount: Decimal) -> bool:
    return (await handle.query(RiskSupervisorWorkflow.status)).balances.get(venue) == amount


async def test_reservations_of_sagas_that_closed_without_reporting_are_released_as_failures(
    harness: Harness,
) -> None:
    handle = await harness.start(orphan_check_seconds=60)
    await harness.control(handle).set_limit("breaker_max_failures", "1", actor="test")
    assert (await reserve(handle, "arb-never-ran")).approved
    assert (await reserve(handle, handle.id)).approved  # a running workflow: its reservation stays
    await harness.env.sleep(121)  # released within grace (60 s) + one check interval (60 s)
    await eventually(lambda: _open_sagas_are(handle, [handle.id]))
    await eventually(lambda: _breaker_open(handle))
    status = await handle.query(RiskSupervisorWorkflow.status)
    assert "1 failed" in status.breaker_reason


# --- pre-trade admission in the hot process (streamers/admission.py) -----------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _admission(
    harness: Harness, handle: WorkflowHandle[RiskSupervisorWorkflow, None]
) -> tuple[HotAdmission, GateStore, _Clock]:
    tenant = handle.id.removeprefix("risk-supervisor-")
    store, clock = GateStore(tenant), _Clock()
    gate = RiskGate(store, tenant, clock=clock)
    await gate.refresh()
    return HotAdmission(harness.client, gate, clock=clock), store, clock


def _opportunity(n: int) -> Opportunity:
    return saga_opportunity(10, opportunity_id=f"opp-{n}")


def _request(n: int) -> TradeRequest:
    """What the hot process asks admission for opportunity `n`'s saga."""
    return trade_request(_opportunity(n), f"arb-opp-{n}")


async def test_admission_counts_its_sagas_until_the_supervisor_knows_them(harness: Harness) -> None:
    handle = await harness.start()
    await harness.control(handle).set_limit("max_open_sagas", "2", actor="test")
    admission, _, _ = await _admission(harness, handle)
    refused = admission.check(_request(1))
    assert (refused.approved, refused.code) == (False, RejectCode.UNAVAILABLE)
    assert refused.message == "admission has not read the risk supervisor yet"

    await admission.refresh()
    assert admission.check(_request(1)).approved
    assert admission.check(_request(2)).approved
    third = admission.check(_request(3))  # the supervisor knows neither saga yet: counted here
    assert (third.approved, third.code) == (False, RejectCode.MAX_OPEN_SAGAS)
    again = admission.check(_request(1))
    assert (again.approved, again.code, again.message) == (False, RejectCode.DUPLICATE, "arb-opp-1 is already admitted")

    for n in (1, 2):  # what each saga's first workflow task sends
        request = trade_request(_opportunity(n), f"arb-opp-{n}")
        await handle.signal(RiskSupervisorWorkflow.reservation_admitted, request)
    await eventually(lambda: _open_sagas_are(handle, ["arb-opp-1", "arb-opp-2"]))
    await admission.refresh()
    assert admission.pending == []  # now counted through the supervisor's book, once
    assert not admission.check(_request(3)).approved

    await fail(handle, "arb-opp-1")
    await eventually(lambda: _open_sagas_are(handle, ["arb-opp-2"]))
    await admission.refresh()
    assert admission.check(_request(3)).approved
    only_opp_2 = trade_request(_opportunity(2), "arb-opp-2").at_risk  # opp-3 is not the supervisor's yet
    assert (await handle.query(RiskSupervisorWorkflow.status)).exposure == only_opp_2 == Decimal("8.68")


async def test_admission_fails_closed_and_gives_back_what_was_not_started(harness: Harness) -> None:
    handle = await harness.start()
    await harness.control(handle).set_limit("max_open_sagas", "1", actor="test")
    admission, store, clock = await _admission(harness, handle)
    await admission.refresh()
    assert admission.check(_request(1)).approved
    admission.release("arb-opp-1")  # its start failed: the room is free again
    assert admission.pending == [] and admission.check(_request(2)).approved

    clock.now += admission.unseen_grace + 1  # arb-opp-2 never reached the supervisor
    await admission._gate.refresh()
    await admission.refresh()
    assert admission.pending == [] and admission.check(_request(3)).approved

    clock.now += admission.max_staleness + 1
    stale = admission.check(_request(4))
    assert (stale.approved, stale.code) == (False, RejectCode.UNAVAILABLE) and "old" in stale.message
    await admission.refresh()
    store.state = store.state.model_copy(update={"version": 2, "kill_switch": True, "kill_reason": "outage"})
    admission.release("arb-opp-3")
    assert admission.check(_request(4)).approved is False  # the gate has not polled yet: still its last state
    await admission._gate.refresh()
    killed = admission.check(_request(4))
    assert (killed.approved, killed.code, killed.message) == (
        False,
        RejectCode.KILL_SWITCH,
        "kill switch is on: outage",
    )


async def test_supervisor_records_an_admitted_reservation_even_over_its_limits(harness: Harness) -> None:
    """The orders may already be out: the room is in use whatever the book now says."""
    handle = await harness.start()
    await harness.control(handle).set_limit("max_open_sagas", "0", actor="test")
    await handle.signal(RiskSupervisorWorkflow.reservation_admitted, arb_request("late"))
    await handle.signal(RiskSupervisorWorkflow.reservation_admitted, arb_request("late"))  # repeated: once
    await eventually(lambda: _open_sagas_are(handle, ["late"]))
    await fail(handle, "late")
    await eventually(lambda: _open_sagas_are(handle, []))
    await handle.signal(RiskSupervisorWorkflow.reservation_admitted, arb_request("late"))  # after it finished
    await asyncio.sleep(0.2)
    assert (await handle.query(RiskSupervisorWorkflow.status)).open_sagas == []
