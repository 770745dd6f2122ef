"""The arbitrage saga on the real dev server (search attributes need it) against fake venues with faults.

Every scenario must end flat (YES and NO holdings equal across venues), with no order
placed twice, in the state it reports — and its history must replay deterministically.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from arbitrage.saga import ArbSagaInput, ArbState, HedgeStrategy, LegOrder, SagaPolicy, SagaStatus
from control.app.risk import RiskControl, running_risk
from domain.accounts import AccountRef
from domain.models import Outcome, Venue
from risk.models import Limits
from storage import migrate
from storage.database import create_engine
from tests.fakes.venue import FakeVenue
from tests.workflows.saga_fixtures import PAIR, opportunity, venues
from venues.accounts import VenueAccounts
from workers.worker import build_worker
from workflows.arb_saga import ArbSagaWorkflow

FAST = SagaPolicy(
    pre_trade_approval=False,
    compensation_backoff=timedelta(milliseconds=20),
    max_compensation_backoff=timedelta(milliseconds=100),
)


@dataclass
class Rig:
    client: Client
    queue: str
    venues: dict[Venue, FakeVenue]
    allowed: list[bool]
    engine: AsyncEngine
    accounts: VenueAccounts

    async def start(
        self, policy: SagaPolicy = FAST, contracts: int = 10, tenant: str = "default", *, admitted: bool = False
    ) -> WorkflowHandle:
        request = ArbSagaInput(
            opportunity=opportunity(contracts), pair=PAIR, policy=policy, tenant_id=tenant, admitted=admitted
        )
        return await self.client.start_workflow(
            ArbSagaWorkflow.run, request, id=f"arb-{uuid.uuid4()}", task_queue=self.queue
        )

    async def run(self, policy: SagaPolicy = FAST, contracts: int = 10, record_as: str | None = None) -> SagaStatus:
        handle = await self.start(policy, contracts)
        result: SagaStatus = await handle.result()
        await replay(self.client, handle, record_as)
        return result

    def pair_holdings(self) -> dict[Outcome, Decimal]:
        """Holdings in Polymarket-outcome terms summed over both venues (the pair is aligned)."""
        held = {Outcome.YES: Decimal(0), Outcome.NO: Decimal(0)}
        for fake in self.venues.values():
            for (_, outcome), qty in fake.net_contracts().items():
                held[Outcome(outcome)] += qty
        return held

    def assert_flat(self) -> None:
        held = self.pair_holdings()
        assert held[Outcome.YES] == held[Outcome.NO], held


HISTORIES = Path(__file__).with_name("histories")


async def replay(client: Client, handle: WorkflowHandle, record_as: str | None = None) -> None:
    """Replay this run's history; with INERTIAL_RECORD_HISTORIES=1 also keep it as a regression fixture."""
    history = await handle.fetch_history()
    await Replayer(workflows=[ArbSagaWorkflow], data_converter=client.data_converter).replay_workflow(history)
    if record_as and os.environ.get("INERTIAL_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{record_as}.json").write_text(history.to_json())


@pytest.fixture
async def rig(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Rig]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'saga.db'}")
    await migrate.upgrade(engine)
    fakes = venues()
    allowed = [True]
    queue = f"arb-{uuid.uuid4()}"
    accounts = VenueAccounts.single(fakes)
    worker: Worker = build_worker(
        dev_server_env.client,
        queue,
        engine,
        accounts=accounts,
        trading_allowed=lambda _tenant: allowed[0],
    )
    async with worker:
        yield Rig(dev_server_env.client, queue, fakes, allowed, engine, accounts)
    await engine.dispose()


async def test_a_worker_given_venues_without_the_risk_gate_is_refused(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ungated.db'}")
    with pytest.raises(ValueError, match="needs trading_allowed"):
        build_worker(dev_server_env.client, "ungated", engine, accounts=VenueAccounts.single(venues()))
    await engine.dispose()


async def test_both_legs_fill_completes_with_locked_profit(rig: Rig) -> None:
    status = await rig.run(record_as="happy_path")
    assert status.state is ArbState.COMPLETED
    assert status.unmatched == 0
    kalshi_fee = Decimal("0.18")
    assert status.realized_pnl == Decimal(10) - Decimal("4.00") - Decimal("4.50") - kalshi_fee
    assert [len(v.orders) for v in rig.venues.values()] == [1, 1]
    rig.assert_flat()


async def test_rejected_leg_is_hedged_on_the_other_venue(rig: Rig) -> None:
    rig.venues[Venue.KALSHI].faults.reject_next = 1
    status = await rig.run(record_as="hedge")
    assert status.state is ArbState.COMPENSATED
    assert status.hedge_strategy is HedgeStrategy.HEDGE_OTHER_VENUE
    assert status.legs[1].rejected is not None
    rig.assert_flat()


async def test_partial_fill_hedges_only_the_difference(rig: Rig) -> None:
    rig.venues[Venue.KALSHI].faults.fill_ratio = Decimal("0.6")
    status = await rig.run()
    assert status.state is ArbState.COMPENSATED
    assert [leg.filled for leg in status.legs] == [Decimal(10), Decimal(6)]
    assert sum(c.filled for c in status.compensations) >= Decimal(4)
    rig.assert_flat()


async def test_venue_refusing_hedges_leads_to_same_venue_hedge_or_unwind(rig: Rig) -> None:
    rig.venues[Venue.KALSHI].faults.reject_next = 100
    status = await rig.run(FAST.model_copy(update={"hedge_loss_budget": Decimal(0)}), record_as="unwind")
    assert status.state is ArbState.COMPENSATED
    assert status.hedge_strategy is HedgeStrategy.UNWIND
    assert rig.venues[Venue.KALSHI].orders == {}
    rig.assert_flat()


async def test_unknown_outcome_is_reconciled_without_a_second_order(rig: Rig) -> None:
    poly = rig.venues[Venue.POLYMARKET]
    poly.faults.unknown_outcome_next = 1
    status = await rig.run()
    assert status.state is ArbState.COMPLETED
    assert len(poly.orders) == 1
    assert len(poly.submissions) == 1


async def test_transient_5xx_is_retried_with_the_same_client_order_id(rig: Rig) -> None:
    kalshi = rig.venues[Venue.KALSHI]
    kalshi.faults.unavailable_next = 2
    status = await rig.run()
    assert status.state is ArbState.COMPLETED
    assert len(set(kalshi.submissions)) == 1 and len(kalshi.submissions) == 3
    assert len(kalshi.orders) == 1


async def test_kill_switch_places_nothing(rig: Rig) -> None:
    rig.allowed[0] = False
    status = await rig.run()
    assert status.state is ArbState.FAILED
    assert all(not v.orders for v in rig.venues.values())
    assert all("kill switch" in (leg.rejected or "") for leg in status.legs)


async def test_riskier_first_stops_when_the_first_leg_fails(rig: Rig) -> None:
    rig.venues[Venue.KALSHI].faults.reject_next = 1
    status = await rig.run(FAST.model_copy(update={"leg_order": LegOrder.RISKIER_FIRST, "riskier_venue": Venue.KALSHI}))
    assert status.state is ArbState.FAILED
    assert rig.venues[Venue.POLYMARKET].orders == {}


async def test_riskier_first_sizes_the_second_leg_to_the_first_fill(rig: Rig) -> None:
    rig.venues[Venue.KALSHI].faults.fill_ratio = Decimal("0.7")
    status = await rig.run(FAST.model_copy(update={"leg_order": LegOrder.RISKIER_FIRST, "riskier_venue": Venue.KALSHI}))
    assert status.state is ArbState.COMPLETED
    assert [leg.filled for leg in status.legs] == [Decimal(7), Decimal(7)]
    rig.assert_flat()


async def test_cancel_mid_saga_finishes_legs_in_flight_then_gets_flat(rig: Rig) -> None:
    kalshi = rig.venues[Venue.KALSHI]
    kalshi.faults.hang = asyncio.Event()
    handle = await rig.start()
    while not rig.venues[Venue.POLYMARKET].orders or not kalshi.submissions:
        await asyncio.sleep(0.01)
    await handle.cancel()
    await asyncio.sleep(0.2)
    kalshi.faults.hang.set()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    rig.assert_flat()
    legs = [cid for cid in kalshi.orders if not cid.startswith("comp-")]
    assert len(legs) <= 1  # the leg in flight was never placed twice; a compensating order may follow it
    status: SagaStatus = await handle.query(ArbSagaWorkflow.state)
    assert status.state in (ArbState.COMPLETED, ArbState.COMPENSATED)
    assert any("cancelled" in a for a in status.alerts)
    await replay(rig.client, handle, record_as="cancel")


@pytest.mark.parametrize("name", ["happy_path", "hedge", "unwind", "cancel", "approved", "admitted"])
async def test_recorded_history_replays_deterministically(name: str) -> None:
    """Histories recorded from earlier runs of this code: a non-deterministic change to the saga fails here."""
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(f"recorded-{name}", path.read_text())
    await Replayer(workflows=[ArbSagaWorkflow], data_converter=pydantic_data_converter).replay_workflow(history)


async def _supervised_run(
    rig: Rig, limits: Limits, record_as: str | None = None, *, admitted: bool = False
) -> tuple[SagaStatus, RiskControl, WorkflowHandle]:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    rig.accounts.add(AccountRef(tenant_id=tenant), rig.venues)
    async with running_risk(rig.client, rig.engine, tenant, rig.queue, limits):
        control = RiskControl(rig.client, tenant)
        while not (await control.status()).balances:
            await asyncio.sleep(0.05)
        policy = FAST.model_copy(update={"pre_trade_approval": True})
        handle = await rig.start(policy, tenant=tenant, admitted=admitted)
        status: SagaStatus = await handle.result()
        while (await control.status()).open_sagas:
            await asyncio.sleep(0.05)
    await replay(rig.client, handle, record_as)
    return status, control, handle


async def test_supervisor_approves_then_hears_the_outcome(rig: Rig) -> None:
    status, control, _ = await _supervised_run(rig, Limits(), record_as="approved")
    assert status.state is ArbState.COMPLETED
    after = await control.status()
    assert after.open_sagas == [] and after.net_pnl_today == status.realized_pnl


async def test_supervisor_refusal_places_nothing(rig: Rig) -> None:
    status, _, _ = await _supervised_run(rig, Limits(max_contracts_per_market=Decimal(5)))
    assert status.state is ArbState.FAILED
    assert any("refused by risk" in alert for alert in status.alerts)
    assert all(not v.orders for v in rig.venues.values())


async def test_admitted_saga_places_its_legs_at_once_and_hands_over_its_reservation(rig: Rig) -> None:
    """Admitted by the hot process: the first workflow task schedules both legs and signals the
    supervisor; nothing (no approval, no activity) runs before the legs."""
    status, control, handle = await _supervised_run(rig, Limits(), record_as="admitted", admitted=True)
    assert status.state is ArbState.COMPLETED and status.alerts == []
    after = await control.status()
    assert after.open_sagas == [] and after.net_pnl_today == status.realized_pnl
    events = (await handle.fetch_history()).events
    first_task = next(e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert [a.activity_type.name for a in scheduled[:2]] == ["place_order", "place_order"]
    assert {a.workflow_task_completed_event_id for a in scheduled[:2]} == {first_task}
    handover = next(
        e.signal_external_workflow_execution_initiated_event_attributes
        for e in events
        if e.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED
    )
    assert handover.signal_name == "reservation_admitted"
    assert handover.workflow_task_completed_event_id == first_task
