"""Legs sent ahead of their saga (activities/send_ahead.py): signed while it starts, never sent before it
exists, never twice, always adopted or reconciled by the saga's own `place_order`."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.orders import OrderActivities, PlaceOrder
from activities.send_ahead import SendAhead
from arbitrage.saga import ArbState, SagaStatus, concurrent_leg_intents
from domain.models import OrderIntent, OrderStatus, Venue
from storage import migrate
from storage.database import create_engine
from streamers.arbitrage import saga_start
from streamers.launcher import TradeLauncher, TradeStart
from tests.workflows.saga_fixtures import PAIR, opportunity, venues
from tests.workflows.test_arb_saga import FAST
from venues.accounts import VenueAccounts
from workers.worker import build_worker


def _intents(opportunity_id: str = "opp-1") -> tuple[OrderIntent, OrderIntent]:
    return concurrent_leg_intents(f"arb-{opportunity_id}", opportunity(10, opportunity_id=opportunity_id))


async def test_nothing_leaves_before_the_saga_exists_and_a_failed_start_sends_nothing() -> None:
    fakes = venues()
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: True)
    loop = asyncio.get_running_loop()
    started: asyncio.Future[object] = loop.create_future()
    legs = _intents()
    starting = asyncio.ensure_future(send_ahead.start_then_send(started, legs))
    await asyncio.sleep(0.05)
    assert all(not fake.submissions for fake in fakes.values())
    assert [fake.prepared for fake in fakes.values()] == [[legs[0].client_order_id], [legs[1].client_order_id]]
    sent_when_started: list[list[list[str]]] = []
    starting.add_done_callback(lambda _: sent_when_started.append([f.sent_prepared for f in fakes.values()]))
    started.set_result("handle")
    assert await starting == "handle"
    # both prepared legs were written in the step the start's answer arrived, before it returned
    assert sent_when_started == [[[legs[0].client_order_id], [legs[1].client_order_id]]]
    sent = [send_ahead.take(leg.client_order_id) for leg in legs]
    orders = [await task for task in sent if task is not None]
    assert [o.intent.client_order_id for o in orders if o is not None] == [leg.client_order_id for leg in legs]
    assert [len(fake.submissions) for fake in fakes.values()] == [1, 1]
    assert send_ahead.take(legs[0].client_order_id) is None  # taken once

    failed: asyncio.Future[object] = loop.create_future()
    others = _intents("opp-2")
    failing = asyncio.ensure_future(send_ahead.start_then_send(failed, others))
    failed.set_exception(RuntimeError("start refused"))
    with pytest.raises(RuntimeError, match="start refused"):
        await failing
    task = send_ahead.take(others[0].client_order_id)
    assert task is not None and await task is None
    cancelled: asyncio.Future[object] = loop.create_future()
    stopped = _intents("opp-3")
    stopping = asyncio.ensure_future(send_ahead.start_then_send(cancelled, stopped))
    await asyncio.sleep(0)
    stopping.cancel()  # the launcher was stopped while starting: nothing is sent
    with pytest.raises(asyncio.CancelledError):
        await stopping
    task = send_ahead.take(stopped[1].client_order_id)
    assert task is not None and await task is None
    assert [len(fake.submissions) for fake in fakes.values()] == [1, 1]


async def test_a_leg_not_prepared_in_time_or_finding_its_lane_busy_is_placed_at_once() -> None:
    fakes = venues()
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: True)
    fakes[Venue.KALSHI].lane_free = False
    started: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    started.set_result("handle")
    poly, kalshi = _intents()
    await send_ahead.start_then_send(started, (poly, kalshi))  # started already: no time to prepare
    orders = [
        await sent for sent in (send_ahead.take(poly.client_order_id), send_ahead.take(kalshi.client_order_id)) if sent
    ]
    assert [o.intent.client_order_id for o in orders if o] == [poly.client_order_id, kalshi.client_order_id]
    assert [fake.sent_prepared for fake in fakes.values()] == [[], []]
    assert [fake.submissions for fake in fakes.values()] == [[poly.client_order_id], [kalshi.client_order_id]]


async def test_kill_switch_stops_the_send_and_the_activity_then_refuses() -> None:
    fakes = venues()
    allowed = [False]
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: allowed[0])
    activities = OrderActivities(VenueAccounts.single(fakes), lambda _tenant: allowed[0], send_ahead)
    started: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    started.set_result("handle")
    legs = _intents()
    await send_ahead.start_then_send(started, legs)
    with pytest.raises(Exception, match="kill switch"):
        await activities.place_order(PlaceOrder(intent=legs[0]))
    assert all(not fake.submissions for fake in fakes.values())


async def test_activity_adopts_the_send_or_reconciles_its_failure_never_placing_twice() -> None:
    fakes = venues()
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: True)
    activities = OrderActivities(VenueAccounts.single(fakes), lambda _tenant: True, send_ahead)
    started: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    started.set_result("handle")
    fakes[Venue.KALSHI].faults.unknown_outcome_next = 1  # the send lands but its answer is lost
    poly, kalshi = _intents()
    await send_ahead.start_then_send(started, (poly, kalshi))
    adopted = await activities.place_order(PlaceOrder(intent=poly))
    reconciled = await activities.place_order(PlaceOrder(intent=kalshi))
    assert adopted.status is OrderStatus.FILLED and adopted.filled_quantity == Decimal(10)
    assert reconciled == fakes[Venue.KALSHI].orders[kalshi.client_order_id]
    assert [fake.submissions for fake in fakes.values()] == [[poly.client_order_id], [kalshi.client_order_id]]
    retried = await activities.place_order(PlaceOrder(intent=kalshi))  # a retry places: duplicate -> reconciled
    assert retried == reconciled and len(fakes[Venue.KALSHI].orders) == 1


async def test_launcher_sends_admitted_legs_and_the_saga_adopts_them(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    await migrate.upgrade(engine)
    queue = f"send-ahead-{uuid.uuid4()}"
    fakes = venues()
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: True)
    opp = opportunity(opportunity_id=f"opp-{uuid.uuid4()}")
    start = saga_start(opp, PAIR, FAST, "default", admitted=True)
    with pytest.raises(ValueError, match="only when this process admitted"):
        TradeStart(workflow="ArbSaga", arg=None, workflow_id="w", tenant_id="t", admitted=False, send_ahead=_intents())
    launcher = TradeLauncher(dev_server_env.client, queue, send_ahead=send_ahead)
    async with build_worker(
        dev_server_env.client,
        queue,
        engine,
        accounts=VenueAccounts.single(fakes),
        trading_allowed=lambda _tenant: True,
        send_ahead=send_ahead,
    ):
        handle = await launcher.launch(start)
        assert handle is not None
        result: SagaStatus = await handle.result()
    assert result.state is ArbState.COMPLETED
    assert [len(fake.submissions) for fake in fakes.values()] == [1, 1]  # sent ahead, adopted, never re-placed
    assert len(send_ahead) == 0
    events = (await handle.fetch_history()).events
    completed = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    assert len(completed) >= 2  # both legs' activities completed with the adopted orders
    await engine.dispose()


async def test_a_worker_without_the_sends_places_the_same_ids_and_reconciles(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The failover path: the legs were sent by a hot process whose worker is not the one running the
    saga (it died); the saga's activities place the same client order ids, the venue refuses them as
    duplicates, and the saga reconciles to the orders that were sent. One order per leg, never two."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    await migrate.upgrade(engine)
    queue = f"failover-{uuid.uuid4()}"
    fakes = venues()
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: True)
    opp = opportunity(opportunity_id=f"opp-{uuid.uuid4()}")
    launcher = TradeLauncher(dev_server_env.client, queue, send_ahead=send_ahead)
    handle = await launcher.launch(saga_start(opp, PAIR, FAST, "default", admitted=True))
    assert handle is not None
    for leg in concurrent_leg_intents(handle.id, opp):  # sent; no worker of this process will adopt them
        task = send_ahead.take(leg.client_order_id)
        assert task is not None and await task is not None
    assert len(send_ahead) == 0
    async with build_worker(
        dev_server_env.client, queue, engine, accounts=VenueAccounts.single(fakes), trading_allowed=lambda _tenant: True
    ):
        result: SagaStatus = await handle.result()
    assert result.state is ArbState.COMPLETED and result.unmatched == 0
    assert [len(fake.orders) for fake in fakes.values()] == [1, 1]
    assert [len(fake.submissions) for fake in fakes.values()] == [2, 2]  # sent ahead, then refused as duplicates
    await engine.dispose()


async def test_a_send_that_breaks_leaves_the_leg_to_its_activity_and_the_start_stands() -> None:
    fakes = venues()
    send_ahead = SendAhead(VenueAccounts.single(fakes), lambda _tenant: True)
    activities = OrderActivities(VenueAccounts.single(fakes), lambda _tenant: True, send_ahead)
    poly, kalshi = _intents()

    def broken(intent: OrderIntent) -> None:
        raise RuntimeError("lane exploded")

    fakes[Venue.POLYMARKET].send_ahead = broken  # type: ignore[method-assign]
    started: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    starting = asyncio.ensure_future(send_ahead.start_then_send(started, (poly, kalshi)))
    await asyncio.sleep(0.01)
    started.set_result("handle")
    assert await starting == "handle"  # the saga started; the broken send does not say otherwise
    placed = await asyncio.wait_for(activities.place_order(PlaceOrder(intent=poly)), 1)
    adopted = await asyncio.wait_for(activities.place_order(PlaceOrder(intent=kalshi)), 1)
    assert placed.intent == poly and adopted.intent == kalshi
    assert [fake.submissions for fake in fakes.values()] == [[poly.client_order_id], [kalshi.client_order_id]]
