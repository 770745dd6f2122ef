"""`inertial copy ...` against a real dev server with the leader workflows' worker running."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from control.app.copy import Copying
from control.cli.copy import app
from domain.models import Venue
from storage import migrate
from storage.database import create_engine
from workflows.copy_leader import CopyLeaderWorkflow

WALLET = "0x" + "Ab" * 20


@dataclass
class Running:
    tenant: str
    env: dict[str, str]
    copying: Copying


@pytest.fixture
async def running(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Running]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inertial.db'}")
    await migrate.upgrade(engine)
    await engine.dispose()
    client = dev_server_env.client
    queue = f"copy-cli-{uuid.uuid4().hex[:8]}"
    tenant = f"cli{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[CopyLeaderWorkflow]):
        env = {
            "INERTIAL_TEMPORAL__ADDRESS": client.service_client.config.target_host,
            "INERTIAL_VAULT__ENCRYPT_PAYLOADS": "false",  # this test's worker runs without the codec
            "INERTIAL_TEMPORAL__NAMESPACE": client.namespace,
            "INERTIAL_TEMPORAL__TASK_QUEUE": queue,
            "INERTIAL_DATA_DIR": str(tmp_path),
        }
        yield Running(tenant, env, Copying(client, tenant))


async def invoke(env: dict[str, str], *args: str) -> Result:
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args), env=env))


async def test_follow_rules_pause_resume_list_unfollow(running: Running) -> None:
    env, t = running.env, ("--tenant", running.tenant)
    result = await invoke(env, "follow", "polymarket", WALLET, "-r", "fixed_amount=25", "-r", "sides=buys_only", *t)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"polymarket {WALLET.lower()}: copying; 0 copies")
    state = await running.copying.state(Venue.POLYMARKET, WALLET)
    assert (str(state.rules.fixed_amount), state.rules.sides.value) == ("25", "buys_only")

    result = await invoke(env, "rules", "polymarket", WALLET, "-r", "max_slippage=0.05", *t)
    assert result.exit_code == 0 and "max_slippage = 0.05" in result.output and "fixed_amount = 25" in result.output
    result = await invoke(env, "pause", "polymarket", WALLET, "--reason", "on holiday", *t)
    assert result.exit_code == 0 and "PAUSED (on holiday)" in result.output
    assert (await running.copying.state(Venue.POLYMARKET, WALLET)).paused
    result = await invoke(env, "resume", "polymarket", WALLET, *t)
    assert result.exit_code == 0 and ": copying;" in result.output
    result = await invoke(env, "list", *t)
    assert result.exit_code == 0 and result.output.count("\n") == 1 and WALLET.lower() in result.output
    result = await invoke(env, "unfollow", "polymarket", WALLET, *t)
    assert (result.exit_code, result.output.strip()) == (0, f"unfollowed polymarket {WALLET.lower()}")
    result = await invoke(env, "history", *t)
    assert (result.exit_code, result.output.strip()) == (0, "no copies yet")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("follow", "polymarket", "0x1234"), "is not a wallet address (0x followed by 40 hex digits)"),
        (("follow", "binance", WALLET), "unknown venue 'binance': polymarket or kalshi"),
        (("follow", "kalshi", "bad name!"), "is not a Kalshi leader name"),
        (("follow", "kalshi", "lead", "-r", "max_slippage=0.9"), "max_slippage"),
        (("follow", "kalshi", "lead", "-r", "fixed_amount"), "rule 'fixed_amount' is not KEY=VALUE"),
        (("follow", "kalshi", "lead", "-r", "colour=blue"), "colour"),
        (("rules", "kalshi", "nobody"), "nobody"),
        (("pause", "kalshi", "nobody", "--reason", "x"), "nobody"),
    ],
)
async def test_bad_input_is_one_line_and_changes_nothing(running: Running, args: tuple[str, ...], message: str) -> None:
    result = await invoke(running.env, *args, "--tenant", running.tenant)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert "Traceback" not in result.output
    assert await running.copying.follows() == []


async def test_another_tenant_reaches_nothing_of_this_ones(running: Running) -> None:
    """The CLI acts as an owner of the tenant `--tenant` names and of that one only."""
    followed = await invoke(running.env, "follow", "polymarket", WALLET, "--tenant", running.tenant)
    assert followed.exit_code == 0, followed.output
    other = ("--tenant", f"x{running.tenant}")
    pause = ("pause", "polymarket", WALLET, "--reason", "mine")
    for args in (pause, ("resume", "polymarket", WALLET), ("unfollow", "polymarket", WALLET)):
        result = await invoke(running.env, *args, *other)
        assert result.exit_code == 1 and "does not follow polymarket leader" in result.output, result.output
    result = await invoke(running.env, "rules", "polymarket", WALLET, "-r", "fixed_amount=1", *other)
    assert result.exit_code == 1 and "does not follow" in result.output, result.output
    listed = await invoke(running.env, "list", *other)
    assert listed.exit_code == 0 and WALLET.lower() not in listed.output
    [follow] = await running.copying.follows()
    assert (follow.paused, str(follow.rules.fixed_amount)) == (False, "10")
    await running.copying.unfollow(Venue.POLYMARKET, WALLET, "test")
