"""`inertial risk ...` against a real dev server with a supervisor and its worker running."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from activities.risk import RiskActivities
from control.app.risk import RiskControl, running_risk
from control.cli.risk import app
from risk.gate import RiskGate
from risk.models import Limits
from storage import migrate
from storage.database import create_engine
from workflows.risk_supervisor import RiskSupervisorWorkflow


@dataclass
class Running:
    tenant: str
    env: dict[str, str]
    gate: RiskGate


@pytest.fixture
async def running(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Running]:
    """A supervisor for a fresh tenant with its gate, and the environment that points the CLI at the server."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'risk.db'}")
    await migrate.upgrade(engine)
    client = dev_server_env.client
    queue = f"risk-cli-{uuid.uuid4().hex[:8]}"
    tenant = f"cli{uuid.uuid4().hex[:8]}"
    risk = RiskActivities(engine, client)
    async with (
        Worker(client, task_queue=queue, workflows=[RiskSupervisorWorkflow], activities=risk.activities()),
        running_risk(client, engine, tenant, queue, Limits(max_open_sagas=3)) as gate,
    ):
        # a second start keeps the running supervisor and its limits
        await RiskControl(client, tenant).ensure_started(queue, Limits(max_open_sagas=4))
        env = {
            "INERTIAL_TEMPORAL__ADDRESS": client.service_client.config.target_host,
            "INERTIAL_VAULT__ENCRYPT_PAYLOADS": "false",  # this test's worker runs without the codec
            "INERTIAL_TEMPORAL__NAMESPACE": client.namespace,
            "INERTIAL_DATA_DIR": str(tmp_path),
        }
        yield Running(tenant, env, gate)
        await RiskControl(client, tenant).handle.terminate("test over")
    await engine.dispose()


async def eventually_allows(gate: RiskGate, allowed: bool, within: float = 10.0) -> None:
    """The CLI returned; the gate polling in the background must follow within `within` seconds."""
    async with asyncio.timeout(within):
        while gate.allows_new_exposure() is not allowed:
            await asyncio.sleep(0.01)


async def invoke(env: dict[str, str], *args: str) -> Result:
    """The CLI runs its own event loop, so it runs in a thread while the worker serves on ours."""
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args), env=env))


async def test_status_kill_unkill_reset_and_set_limit(running: Running) -> None:
    tenant, env, gate = running.tenant, running.env, running.gate
    result = await invoke(env, "status", "--tenant", tenant)
    assert result.exit_code == 0, result.output
    assert "kill switch     off" in result.output and "max_open_sagas = 3" in result.output
    await eventually_allows(gate, True)
    result = await invoke(env, "pnl", "--tenant", tenant)
    assert (result.exit_code, result.output.strip().split(" (")[0]) == (0, "no P&L snapshot yet")

    result = await invoke(env, "kill", "--tenant", tenant, "--reason", "exchange halted", "--actor", "dana")
    assert result.exit_code == 0, result.output
    assert "kill switch     ON (exchange halted)" in result.output
    audited = sqlite3.connect(Path(env["INERTIAL_DATA_DIR"]) / "inertial.db").execute(
        "SELECT actor, action, interface FROM audit_events WHERE tenant_id = ?", (tenant,)
    )
    assert audited.fetchall() == [("cli:dana", "kill", "cli")]  # the CLI goes through the application layer
    await eventually_allows(gate, False, within=gate.poll_interval + 1.0)

    result = await invoke(env, "status", "--tenant", tenant, "--json")
    payload = json.loads(result.output)
    assert payload["state"]["kill_switch"] is True
    assert payload["state"]["published_version"] == payload["state"]["gate_version"]
    assert payload["limits"]["max_exposure_total"] == "1000"

    result = await invoke(env, "unkill", "--tenant", tenant)
    assert result.exit_code == 0 and "kill switch     off" in result.output
    await eventually_allows(gate, True, within=gate.poll_interval + 1.0)

    result = await invoke(env, "set-limit", "max_exposure_total", "250.5", "--tenant", tenant)
    assert (result.exit_code, result.output.strip()) == (0, "max_exposure_total = 250.5")

    result = await invoke(env, "set-limit", "--tenant", tenant, "--", "max_exposure_total", "-1")
    assert result.exit_code == 1
    assert "greater than or equal to 0" in result.output and "Traceback" not in result.output

    result = await invoke(env, "reset-breaker", "--tenant", tenant)
    assert result.exit_code == 1 and "circuit breaker is not open" in result.output


async def test_unknown_tenant_and_unreachable_server_are_one_line_errors(running: Running) -> None:
    env = running.env
    result = await invoke(env, "status", "--tenant", "nobody")
    assert result.exit_code == 1
    assert result.output.strip() == "error: no risk supervisor for tenant 'nobody' (start it with `inertial up`)"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = await invoke({**env, "INERTIAL_TEMPORAL__ADDRESS": f"127.0.0.1:{closed_port}"}, "status")
    assert result.exit_code == 1 and "cannot reach Temporal" in result.output


async def test_temporal_cli_can_query_the_state(running: Running, temporal_binaries: dict[str, Path]) -> None:
    tenant, env = running.tenant, running.env
    command = [
        str(temporal_binaries["dev"]),
        "workflow",
        "query",
        "--address",
        env["INERTIAL_TEMPORAL__ADDRESS"],
        "--namespace",
        env["INERTIAL_TEMPORAL__NAMESPACE"],
        "--workflow-id",
        f"risk-supervisor-{tenant}",
        "--name",
        "state",
        "--output",
        "json",
    ]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f'"tenant_id": "{tenant}"' in done.stdout and '"kill_switch": false' in done.stdout


async def test_a_supervisor_without_a_worker_is_a_one_line_timeout(dev_server_env: WorkflowEnvironment) -> None:
    client = dev_server_env.client
    tenant = f"orphan{uuid.uuid4().hex[:8]}"
    control = RiskControl(client, tenant)
    await control.ensure_started(f"nobody-polls-{uuid.uuid4().hex[:8]}")
    env = {
        "INERTIAL_TEMPORAL__ADDRESS": client.service_client.config.target_host,
        "INERTIAL_VAULT__ENCRYPT_PAYLOADS": "false",  # this test's worker runs without the codec
        "INERTIAL_TEMPORAL__NAMESPACE": client.namespace,
    }
    try:
        for args in (["status"], ["kill", "--reason", "x"]):
            result = await invoke(env, *args, "--tenant", tenant, "--timeout", "1")
            assert result.exit_code == 1, result.output
            assert result.output.strip() == (
                "error: no answer within 1s: is a worker running (`inertial up` or `inertial worker`)?"
            )
    finally:
        await control.handle.terminate("test over")
