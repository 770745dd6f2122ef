"""`inertial up` against an external Temporal address and PostgreSQL: the non-embedded deployment."""

from __future__ import annotations

import re
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from storage.migrate import head_revision
from tests.conftest import fresh_postgres_database
from tests.control.test_cli import run


async def test_up_once_with_external_temporal_and_postgres(tmp_path: Path, dev_server_env: WorkflowEnvironment) -> None:
    address = dev_server_env.client.service_client.config.target_host
    async with fresh_postgres_database() as url:
        result = run(
            ["up", "--once"],
            tmp_path,
            INERTIAL_TEMPORAL__ADDRESS=address,
            INERTIAL_DATABASE_URL=url,
            INERTIAL_TEMPORAL__TASK_QUEUE="up-external",
        )
    assert result.returncode == 0, result.stderr
    assert re.search(rf"Temporal\s+│ {re.escape(address)}", result.stdout), result.stdout
    assert "postgresql+asyncpg" in result.stdout and f"revision {head_revision()}" in result.stdout
    assert "healthy" in result.stdout and "stopped cleanly" in result.stdout
