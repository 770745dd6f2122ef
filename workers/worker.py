"""The worker: every workflow and activity of the system, registered on one task queue.

The hot process runs one in-process (so eager start skips a round trip); a second
copy can run as its own process (`inertial worker`) to take over sagas, hedges and
compensations if the hot one dies — any worker on the queue can continue any saga.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.copies import NO_MARKETS, CopyActivities, LeaderPositions, MarketSource
from activities.health import HealthActivities
from activities.markets import MarketActivities
from activities.orders import OrderActivities
from activities.risk import BookSource, RiskActivities
from activities.sagas import SagaRecordActivities
from activities.send_ahead import SendAhead
from domain.accounts import TenantId
from domain.models import Market, Venue
from matching.pairs import SqlPairRepository
from venues.accounts import VenueAccounts
from workflows.arb_saga import ArbSagaWorkflow
from workflows.copy_leader import CopyLeaderWorkflow
from workflows.copy_trade import CopyTradeWorkflow
from workflows.health import HealthCheckWorkflow
from workflows.manual_order import ManualOrderWorkflow
from workflows.risk_supervisor import RiskSupervisorWorkflow


def build_worker(
    client: Client,
    task_queue: str,
    engine: AsyncEngine,
    *,
    accounts: VenueAccounts | None = None,
    trading_allowed: Callable[[TenantId], bool] | None = None,
    books: BookSource | None = None,
    send_ahead: SendAhead | None = None,
    markets: MarketSource | None = None,
    leader_positions: LeaderPositions | None = None,
) -> Worker:
    """`trading_allowed`: the tenant's risk gate's answer (`RiskGates.allows_new_exposure`), asked by every
    order activity; a worker given accounts must be given it too, so no worker trades ungated by default.
    `send_ahead`: the hot process's leg sends, adopted by this worker's order activities. `markets`: the
    venues' market listings, which copies need to know where they trade; `leader_positions`: leaders'
    public holdings, which mirrored sells are sized from."""
    if accounts and trading_allowed is None:
        raise ValueError("a worker that places orders needs trading_allowed (the risk gates' allows_new_exposure)")
    accounts = accounts or VenueAccounts({})
    health = HealthActivities(engine)
    orders = OrderActivities(accounts, trading_allowed or _no_accounts, send_ahead)
    records = SagaRecordActivities(engine)
    risk = RiskActivities(engine, client, accounts=accounts, books=books)
    markets = markets or _no_markets
    copies = CopyActivities(engine, accounts, markets, SqlPairRepository(engine), leader_positions)
    market_reads = MarketActivities(markets)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            HealthCheckWorkflow,
            ArbSagaWorkflow,
            RiskSupervisorWorkflow,
            CopyTradeWorkflow,
            CopyLeaderWorkflow,
            ManualOrderWorkflow,
        ],
        activities=[
            health.check_database,
            orders.place_order,
            orders.find_order,
            orders.cancel_order,
            orders.quote_book,
            market_reads.read_market,
            records.record_saga,
            records.alert,
            *risk.activities(),
            *copies.activities(),
        ],
    )


def _no_accounts(tenant_id: TenantId) -> bool:
    """The gate of a worker with no accounts: it has nothing to trade with, so nothing is allowed."""
    return False


async def _no_markets(venue: Venue, market_id: str) -> Market:
    """The market source of a worker given none: copies cannot be placed from it."""
    raise ApplicationError(f"this worker reads no {venue.value} markets", type=NO_MARKETS, non_retryable=True)
