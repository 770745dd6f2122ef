"""Manual orders on the dev server: one order per idempotency key, checked against its market and the
risk limits before anything is sent, a resting order held until it is cancelled, and another tenant's
orders answered as not found."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from control.app.errors import NotFound, OperationError
from control.app.orders import ManualOrders
from control.app.risk import RiskControl, running_risk
from domain.accounts import AccountRef
from domain.manual_orders import ManualOrder, ManualOrderState
from domain.models import Outcome, Side, Venue
from risk.models import Limits
from storage import migrate
from storage.database import create_engine
from tests.fakes.venue import FakeVenue
from tests.workflows.saga_fixtures import KALSHI, POLY, venues
from tests.workflows.test_copy_trade import markets
from venues.accounts import VenueAccounts
from workers.worker import build_worker
from workflows.manual_order import ManualOrderWorkflow

BUY_20 = ManualOrder(
    venue=Venue.POLYMARKET,
    market_id=POLY.market_id,
    outcome=Outcome.YES,
    side=Side.BUY,
    price=Decimal("0.42"),
    quantity=Decimal(20),
)


@dataclass
class Rig:
    client: Client
    queue: str
    venues: dict[Venue, FakeVenue]
    allowed: list[bool]
    tenant: str

    def orders(self, tenant: str | None = None) -> ManualOrders:
        return ManualOrders(self.client, tenant or self.tenant, timedelta(seconds=15))


@pytest.fixture
async def rig(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Rig]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'manual.db'}")
    await migrate.upgrade(engine)
    fakes = venues()
    allowed = [True]
    queue = f"manual-{uuid.uuid4()}"
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    accounts = VenueAccounts.single(fakes)
    accounts.add(AccountRef(tenant_id=tenant), fakes)
    worker = build_worker(
        dev_server_env.client, queue, engine, accounts=accounts, trading_allowed=lambda _t: allowed[0], markets=markets
    )
    limits = Limits(max_contracts_per_market=Decimal(150))
    async with worker, running_risk(dev_server_env.client, engine, tenant, queue, limits):
        control = RiskControl(dev_server_env.client, tenant)
        while not (await control.status()).balances:
            await asyncio.sleep(0.05)
        yield Rig(dev_server_env.client, queue, fakes, allowed, tenant)
        await control.handle.terminate("test over")
    await engine.dispose()


async def _replays(client: Client, order_id: str) -> None:
    history = await client.get_workflow_handle(order_id).fetch_history()
    await Replayer(workflows=[ManualOrderWorkflow], data_converter=client.data_converter).replay_workflow(history)


async def test_a_key_places_one_order_and_answers_the_same_again(rig: Rig) -> None:
    orders = rig.orders()
    first = await orders.place(BUY_20, "key-1", rig.queue, "alice")
    assert first.state is ManualOrderState.FILLED, first.reason
    assert (first.filled, first.cost) == (Decimal(20), Decimal("8.00"))
    again = await orders.place(BUY_20, "key-1", rig.queue, "alice")
    assert again == first
    poly = rig.venues[Venue.POLYMARKET]
    assert len(poly.submissions) == 1 and poly.net_contracts()[(POLY.market_id, "yes")] == 20
    with pytest.raises(OperationError, match="different order"):
        await orders.place(BUY_20.model_copy(update={"quantity": Decimal(5)}), "key-1", rig.queue)
    assert len(poly.submissions) == 1
    assert [o.order_id for o in await orders.list()] == [first.order_id]
    await _replays(rig.client, first.order_id)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price": Decimal("0.425")}, "not on the market's tick of 0.01"),
        ({"quantity": Decimal("0.5")}, "below the market's minimum of 1"),
        ({"quantity": Decimal(200)}, "refused by risk"),
        ({"venue": Venue.KALSHI, "market_id": KALSHI.market_id, "quantity": Decimal("2.5")}, "whole contracts"),
    ],
)
async def test_a_refused_order_sends_nothing_and_says_why(rig: Rig, change: dict[str, object], reason: str) -> None:
    status = await rig.orders().place(BUY_20.model_copy(update=change), "key", rig.queue)
    assert status.state is ManualOrderState.REFUSED and reason in status.reason
    assert all(not v.submissions for v in rig.venues.values())


async def test_the_kill_switch_stops_a_manual_order_at_the_activity(rig: Rig) -> None:
    rig.allowed[0] = False
    status = await rig.orders().place(BUY_20, "killed", rig.queue)
    assert status.state is ManualOrderState.FAILED and "kill" in status.reason.lower()
    assert not rig.venues[Venue.POLYMARKET].net_contracts()


async def test_a_resting_order_works_until_cancelled_and_keeps_its_partial_fill(rig: Rig) -> None:
    orders = rig.orders()
    resting = BUY_20.model_copy(update={"price": Decimal("0.40"), "quantity": Decimal(150), "rest_seconds": 3600})
    placed = await orders.place(resting, "rest", rig.queue)
    assert placed.state is ManualOrderState.PLACED
    other = rig.orders(f"t-{uuid.uuid4().hex[:8]}")
    with pytest.raises(NotFound):
        await other.state(placed.order_id)
    with pytest.raises(NotFound):
        await other.cancel(placed.order_id)
    done = await orders.cancel(placed.order_id)
    assert done.state is ManualOrderState.PARTIALLY_FILLED and done.filled == 100
    assert done.cancel_requested
    with pytest.raises(OperationError, match="nothing to cancel"):
        await orders.cancel(placed.order_id)
    await _replays(rig.client, placed.order_id)
