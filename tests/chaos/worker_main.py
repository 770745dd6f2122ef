"""A saga worker in its own process, so chaos tests can kill it with SIGKILL mid-saga.

`python -m tests.chaos.worker_main CONFIG.json [--standby]` builds the production
worker (`workers.worker.build_worker`) with the real venue clients pointed at the
sandbox venues, prints `ready` once it polls, and runs until SIGTERM (clean stop) or
SIGKILL, or until stdin closes (the test process died: no orphan keeps polling). A
standby loads and connects, prints `warm`, and starts polling only when a line arrives
on stdin: a replacement then takes over in milliseconds, not seconds of imports.
The config is written by the chaos rig (`tests.chaos.config.WorkerConfig`).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from domain.models import Venue
from storage.database import create_engine
from temporal.client import connect
from tests.chaos.config import WorkerConfig
from venues.base import TradingClient
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.client import KalshiClient
from venues.kalshi.trading import KalshiTradingClient
from venues.polymarket.auth import ApiCreds
from venues.polymarket.client import PolymarketClient
from venues.polymarket.eip712 import Wallet
from venues.ratelimit import KalshiTier, VenueRateLimiter
from workers.worker import build_worker


async def serve(config: WorkerConfig, *, standby: bool) -> None:
    poly = PolymarketClient(
        config.polymarket_url,
        wallet=Wallet(config.polymarket_key),
        creds=ApiCreds(config.polymarket_api_key, config.polymarket_secret, config.polymarket_passphrase),
        timeout=config.http_timeout_s,
    )
    kalshi = KalshiClient(
        config.kalshi_url,
        signer=KalshiSigner.from_pem(config.kalshi_key_id, config.kalshi_pem),
        limiter=VenueRateLimiter.kalshi(KalshiTier.PRIME),
        timeout=config.http_timeout_s,
    )
    venues: dict[Venue, TradingClient] = {
        Venue.POLYMARKET: poly,
        Venue.KALSHI: KalshiTradingClient(kalshi),
    }
    engine = create_engine(config.database_url)
    client = await connect(config.temporal_address, config.namespace)
    worker = build_worker(client, config.task_queue, engine, venues=venues)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if standby:
        print("warm", flush=True)
        if not await loop.run_in_executor(None, sys.stdin.readline):
            return  # the test process is gone: never start polling
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    orphaned = loop.run_in_executor(None, sys.stdin.read)
    orphaned.add_done_callback(lambda _: stop.set())
    try:
        async with worker:
            print("ready", flush=True)
            await stop.wait()
    finally:
        await poly.aclose()
        await kalshi.aclose()
        await engine.dispose()


def main() -> None:
    config = WorkerConfig.model_validate_json(Path(sys.argv[1]).read_text())
    asyncio.run(serve(config, standby="--standby" in sys.argv[2:]))


if __name__ == "__main__":
    main()
