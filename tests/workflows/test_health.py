"""The health probe workflow on the time-skipping server, and its history replays deterministically."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from storage import migrate
from storage.database import create_engine
from workers.worker import build_worker
from workflows.health import HealthCheckWorkflow


async def test_health_reports_migrated_database_and_replays(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    client = time_skipping_env.client
    async with build_worker(client, "health-test", engine):
        before = await client.execute_workflow(
            HealthCheckWorkflow.run, id=f"h-{uuid.uuid4()}", task_queue="health-test"
        )
        assert (before.backend, before.revision, before.up_to_date) == ("sqlite", None, False)
        await migrate.upgrade(engine)
        handle = await client.start_workflow(HealthCheckWorkflow.run, id=f"h-{uuid.uuid4()}", task_queue="health-test")
        after = await handle.result()
        assert (after.revision, after.up_to_date) == (migrate.head_revision(), True)
        history: WorkflowHistory = await handle.fetch_history()
    await Replayer(workflows=[HealthCheckWorkflow], data_converter=client.data_converter).replay_workflow(history)
    await engine.dispose()
