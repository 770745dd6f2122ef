"""The worker: every workflow and activity of the system, registered on one task queue.

The hot process runs one in-process (so eager start skips a round trip); a second
copy can run as its own process (`inertial worker`) to take over if the hot one dies.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.health import HealthActivities
from workflows.health import HealthCheckWorkflow


def build_worker(client: Client, task_queue: str, engine: AsyncEngine) -> Worker:
    health = HealthActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[HealthCheckWorkflow],
        activities=[health.check_database],
    )
