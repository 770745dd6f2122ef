"""What a chaos worker process is told: written to a file by the rig, read by `tests.chaos.worker_main`;
and what a hot chaos process is asked to launch, a line at a time on its stdin."""

from __future__ import annotations

from pydantic import BaseModel

from arbitrage.opportunity import Opportunity
from arbitrage.saga import SagaPolicy
from domain.models import MarketPair


class WorkerConfig(BaseModel):
    """Everything a worker process needs; written to a file so no secret travels on a command line."""

    temporal_address: str
    namespace: str
    task_queue: str
    database_url: str
    polymarket_url: str
    polymarket_key: str
    polymarket_api_key: str
    polymarket_secret: str
    polymarket_passphrase: str
    kalshi_url: str
    kalshi_key_id: str
    kalshi_pem: str
    http_timeout_s: float = 1.5


class LaunchCommand(BaseModel):
    """One line on a hot chaos process's stdin: launch this saga as `inertial up`'s launcher does.

    `hold_s` is how long the process holds the admitted opportunity before starting its saga (the
    test kills it there: a saga that never reached the server); `send_delay_s` holds the legs'
    sends after the start returned (the test kills it between the start and the sends)."""

    opportunity: Opportunity
    pair: MarketPair
    policy: SagaPolicy
    hold_s: float = 0.0
    send_delay_s: float = 0.0
