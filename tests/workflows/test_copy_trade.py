"""The copy workflow on the dev server: one fill seen thrice is one order; refusals place nothing and say why."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from control.app.audit import Audit
from control.app.copy import Copying
from control.app.errors import OperationError
from control.app.records import Records
from control.app.risk import RiskControl, running_risk
from copytrade.copies import CopyState, CopyStatus
from copytrade.fills import FillSource, LeaderFill
from copytrade.leaders import Follow, leader_workflow_id
from copytrade.rules import CopyRules
from domain.accounts import AccountRef
from domain.models import Market, Outcome, Position, Side, Venue, utc_now
from risk.models import Limits
from storage import migrate
from storage.database import create_engine
from storage.tables import CopyOutcomeRow
from streamers.copytrade import CopyTrades, FollowsRefresh
from streamers.launcher import TradeLauncher
from tests.fakes.venue import FakeVenue
from tests.workflows.saga_fixtures import PAIR, POLY, end_follows, venues
from venues.accounts import VenueAccounts
from workers.worker import build_worker
from workflows.copy_leader import CopyLeaderWorkflow
from workflows.copy_trade import CopyTradeWorkflow

LEADER = "0x" + "ab" * 20
RULES = CopyRules(fixed_amount=Decimal("8.40"), max_slippage=Decimal("0.02"))  # 20 shares at 0.42


async def markets(venue: Venue, market_id: str) -> Market:
    if venue is Venue.POLYMARKET and market_id == POLY.market_id:
        return POLY
    if venue is Venue.KALSHI and market_id == PAIR.kalshi.market_id:
        return PAIR.kalshi
    raise KeyError(market_id)


def leader_fill(source: FillSource, *, age: timedelta = timedelta(seconds=1), tx: str | None = None) -> LeaderFill:
    return LeaderFill(
        venue=Venue.POLYMARKET,
        leader=LEADER,
        market_id=POLY.market_id,
        token_id=POLY.yes_token,
        side=Side.BUY,
        price=Decimal("0.40"),
        size=Decimal(100),
        at=utc_now() - age,
        source=source,
        venue_fill_id=tx or "0x" + uuid.uuid4().hex * 2,
    )


@dataclass
class CopyRig:
    client: Client
    queue: str
    engine: AsyncEngine
    venues: dict[Venue, FakeVenue]
    allowed: list[bool]
    tenant: str
    leader_holds: dict[str, Decimal]  # the leader's public holdings: market id -> YES shares

    def trades(self, rules: CopyRules = RULES) -> CopyTrades:
        return CopyTrades(TradeLauncher(self.client, self.queue), {LEADER: {self.tenant: rules}})

    async def outcomes(self) -> list[CopyOutcomeRow]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(CopyOutcomeRow))).all())  # type: ignore[arg-type]


@pytest.fixture
async def copy_rig(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[CopyRig]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}")
    await migrate.upgrade(engine)
    fakes = venues()
    allowed = [True]
    holds: dict[str, Decimal] = {}

    async def leader_positions(venue: Venue, leader: str) -> list[Position]:
        return [
            Position(venue=venue, market_id=m, outcome=Outcome.YES, quantity=q, cost_basis=q / 2)
            for m, q in holds.items()
        ]

    queue = f"copy-{uuid.uuid4()}"
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    accounts = VenueAccounts.single(fakes)
    accounts.add(AccountRef(tenant_id=tenant), fakes)
    worker = build_worker(
        dev_server_env.client,
        queue,
        engine,
        accounts=accounts,
        trading_allowed=lambda _t: allowed[0],
        markets=markets,
        leader_positions=leader_positions,
    )
    async with worker, running_risk(dev_server_env.client, engine, tenant, queue, Limits()):
        control = RiskControl(dev_server_env.client, tenant)
        while not (await control.status()).balances:
            await asyncio.sleep(0.05)
        yield CopyRig(dev_server_env.client, queue, engine, fakes, allowed, tenant, holds)
    await engine.dispose()


async def _result(client: Client, handle: WorkflowHandle) -> CopyStatus:
    """The copy's end, after checking its history replays (the workflow is deterministic)."""
    status: CopyStatus = await handle.result()
    history = await handle.fetch_history()
    await Replayer(workflows=[CopyTradeWorkflow], data_converter=client.data_converter).replay_workflow(history)
    return status


async def test_one_fill_seen_by_three_sources_is_copied_once(copy_rig: CopyRig) -> None:
    trades = copy_rig.trades()
    tx = "0x" + "12" * 32
    started = [await trades.take(leader_fill(source, tx=tx)) for source in FillSource if source.value != "kalshi_ws"]
    assert [len(s) for s in started] == [1, 0, 0, 0]
    assert (trades.stats.started, trades.stats.duplicates) == (1, 3)
    status = await _result(copy_rig.client, started[0][0])
    assert status.state is CopyState.FILLED, status.reason
    assert (status.side, status.limit_price, status.quantity) == (Side.BUY, Decimal("0.42"), Decimal(20))
    poly = copy_rig.venues[Venue.POLYMARKET]
    assert len(poly.submissions) == 1 and poly.net_contracts()[(POLY.market_id, "yes")] == 20
    queried = await started[0][0].query("state", result_type=CopyStatus)
    assert queried == status
    (row,) = await copy_rig.outcomes()
    assert (row.state, row.filled, row.notional) == ("filled", Decimal(20), Decimal("8.00"))


async def test_a_mirrored_sell_sells_the_share_of_the_position_the_leader_sold(copy_rig: CopyRig) -> None:
    """The leader sells 50 of its 200 shares (its public holdings show 150 after): the follower sells a
    quarter of its 20; told by the fill itself (Kalshi's channel), the holdings are not asked."""
    trades = copy_rig.trades()
    (bought,) = await trades.take(leader_fill(FillSource.RTDS))
    assert (await _result(copy_rig.client, bought)).state is CopyState.FILLED
    copy_rig.venues[Venue.POLYMARKET].set_book(POLY.market_id, [("0.39", "500")], [("0.41", "500")])
    copy_rig.leader_holds[POLY.market_id] = Decimal(150)
    sell = leader_fill(FillSource.RTDS).model_copy(update={"side": Side.SELL, "size": Decimal(50)})
    (sold,) = await trades.take(sell)
    status = await _result(copy_rig.client, sold)
    assert (status.state, status.side, status.quantity) == (CopyState.FILLED, Side.SELL, Decimal(5)), status.reason
    told = leader_fill(FillSource.RTDS).model_copy(
        update={"side": Side.SELL, "size": Decimal(10), "leader_position_after": Decimal(20)}
    )
    (half,) = await trades.take(told)
    status = await _result(copy_rig.client, half)
    assert (status.state, status.quantity) == (CopyState.FILLED, Decimal(5)), status.reason  # a third of 15


async def test_a_stale_fill_is_skipped_with_its_reason_and_places_nothing(copy_rig: CopyRig) -> None:
    (handle,) = await copy_rig.trades().take(leader_fill(FillSource.DATA_API, age=timedelta(minutes=10)))
    status = await _result(copy_rig.client, handle)
    assert status.state is CopyState.SKIPPED and "stale" in status.reason
    assert not copy_rig.venues[Venue.POLYMARKET].submissions
    (row,) = await copy_rig.outcomes()
    assert row.state == "skipped" and "stale" in row.reason


async def test_the_kill_switch_inside_the_order_activity_stops_a_copy(copy_rig: CopyRig) -> None:
    copy_rig.allowed[0] = False
    (handle,) = await copy_rig.trades().take(leader_fill(FillSource.RTDS))
    status = await _result(copy_rig.client, handle)
    assert status.state is CopyState.FAILED and "trading halted" in status.reason
    assert not copy_rig.venues[Venue.POLYMARKET].orders
    [alert] = (await Audit(copy_rig.engine).events(copy_rig.tenant, alerts_only=True)).items
    assert alert.subject == handle.id and f"copy of polymarket leader {LEADER} failed" in alert.details["message"]


async def test_a_risk_refusal_places_nothing(copy_rig: CopyRig) -> None:
    await RiskControl(copy_rig.client, copy_rig.tenant).set_limit("max_contracts_per_market", "5", "test")
    (handle,) = await copy_rig.trades().take(leader_fill(FillSource.RTDS))
    status = await _result(copy_rig.client, handle)
    assert status.state is CopyState.SKIPPED and "refused by risk" in status.reason
    assert not copy_rig.venues[Venue.POLYMARKET].submissions


async def test_a_cross_venue_copy_trades_the_confirmed_twin(copy_rig: CopyRig) -> None:
    from matching.pairs import SqlPairRepository

    repo = SqlPairRepository(copy_rig.engine)
    await repo.suggest(PAIR.model_copy(update={"status": PAIR.status.CANDIDATE, "confirmed_by": None}))
    await repo.decide(PAIR.pair_id, PAIR.status.CONFIRMED, "alice")
    rules = RULES.model_copy(update={"cross_venue": True, "fixed_amount": Decimal(5)})
    (handle,) = await copy_rig.trades(rules).take(leader_fill(FillSource.CHAIN))
    status = await _result(copy_rig.client, handle)
    assert status.target is not None and status.target.venue is Venue.KALSHI
    assert status.target.outcome is PAIR.kalshi_outcome(status.target.outcome)
    assert copy_rig.venues[Venue.KALSHI].submissions and not copy_rig.venues[Venue.POLYMARKET].submissions


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_a_follow_holds_rules_counts_copies_and_drives_the_hot_process(copy_rig: CopyRig) -> None:
    copying = Copying(copy_rig.client, copy_rig.tenant, timeout=10)
    followed = await copying.follow(Venue.POLYMARKET, LEADER.upper().replace("0X", "0x"), RULES, copy_rig.queue)
    assert followed.leader == LEADER and followed.rules == RULES
    with pytest.raises(OperationError, match="not a wallet"):
        await copying.follow(Venue.POLYMARKET, "0x1234", RULES, copy_rig.queue)
    with pytest.raises(OperationError, match="max_slippage"):
        await copying.set_rules(Venue.POLYMARKET, LEADER, {"max_slippage": "0.9"})
    with pytest.raises(OperationError, match="min_price"):
        await copying.set_rules(Venue.POLYMARKET, LEADER, {"min_price": "0.7", "max_price": "0.6"})
    changed = await copying.set_rules(Venue.POLYMARKET, LEADER, {"fixed_amount": "4.20"})
    assert changed.rules.fixed_amount == Decimal("4.20") and changed.rules.max_slippage == RULES.max_slippage
    with pytest.raises(OperationError, match="say why"):
        await copying.pause(Venue.POLYMARKET, LEADER, " ", "test")

    refresh = FollowsRefresh(copy_rig.client)

    async def followed_in_hot_process() -> bool:
        await refresh.refresh()
        return copy_rig.tenant in refresh.follows.get(LEADER, {})

    await _eventually(followed_in_hot_process)
    trades = CopyTrades(TradeLauncher(copy_rig.client, copy_rig.queue), refresh.follows)
    (handle,) = await trades.take(leader_fill(FillSource.RTDS))
    assert (await _result(copy_rig.client, handle)).quantity == Decimal(10)  # $4.20 at 0.42

    async def counted() -> bool:
        return (await copying.state(Venue.POLYMARKET, LEADER)).counters.filled == 1

    await _eventually(counted)
    assert [f.leader for f in await copying.follows()] == [LEADER]
    await copying.pause(Venue.POLYMARKET, LEADER, "too volatile", "test")
    await refresh.refresh()
    assert copy_rig.tenant not in refresh.follows.get(LEADER, {})
    assert await trades.take(leader_fill(FillSource.RTDS)) == []  # paused: nothing starts
    history = await Records(copy_rig.engine).copies(copy_rig.tenant, leader=LEADER)
    assert [row.state for row in history.items] == ["filled"]
    await copying.unfollow(Venue.POLYMARKET, LEADER, "test")
    with pytest.raises(OperationError):
        await copying.set_rules(Venue.POLYMARKET, LEADER, {"fixed_amount": "5"})


async def test_a_follow_no_worker_answers_for_is_left_out_not_fatal(copy_rig: CopyRig) -> None:
    """One unreachable leader workflow (its queue has no worker) must not hide every other follow."""
    gone = f"gone-{uuid.uuid4().hex[:6]}"
    await copy_rig.client.start_workflow(
        CopyLeaderWorkflow.run,
        Follow(tenant_id=gone, venue=Venue.POLYMARKET, leader=LEADER, rules=RULES),
        id=leader_workflow_id(gone, Venue.POLYMARKET, LEADER),
        task_queue=f"nobody-polls-{uuid.uuid4()}",
    )
    await Copying(copy_rig.client, copy_rig.tenant, timeout=10).follow(Venue.POLYMARKET, LEADER, RULES, copy_rig.queue)
    refresh = FollowsRefresh(copy_rig.client)
    await refresh.refresh()
    assert copy_rig.tenant in refresh.follows.get(LEADER, {})
    assert gone not in refresh.follows.get(LEADER, {})
    for tenant in (gone, copy_rig.tenant):
        await end_follows(copy_rig.client, tenant)
