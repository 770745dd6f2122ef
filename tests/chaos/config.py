"""What a chaos worker process is told: written to a file by the rig, read by `tests.chaos.worker_main`."""

from __future__ import annotations

from pydantic import BaseModel


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
