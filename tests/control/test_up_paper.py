"""The README's main command, as a newcomer runs it: paper mode finds opportunities and completes sagas."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from domain.models import Venue
from storage.redis_bus import RedisBus
from temporal.devserver import port_in_use
from tests.control.test_cli import INERTIAL, run
from tests.temporal.test_devserver import free_port


async def test_paper_mode_trades_the_sandboxes_within_a_minute(tmp_path: Path, redis_url: str) -> None:
    """With Redis configured (a multi-process deployment), the hot process also copies its books there."""
    result = await asyncio.to_thread(
        run,
        ["up", "--until-sagas", "1", "--duration", "90"],
        tmp_path,
        INERTIAL_TEMPORAL__DEV_SERVER_PORT=str(free_port()),
        INERTIAL_TEMPORAL__UI_PORT=str(free_port()),
        INERTIAL_REDIS_URL=redis_url,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "PAPER" in out and "sandboxes: Polymarket http://127.0.0.1:" in out
    assert re.search(r"trading [1-9]\d* confirmed pairs", out)
    final = out.strip().splitlines()[-3:]
    assert "stopped cleanly" in final[-1]
    finished = (
        sqlite3.connect(tmp_path / "data" / "inertial.db").execute("SELECT state, net_exposure FROM sagas").fetchall()
    )
    assert finished, out[-2000:]
    for state, net_exposure in finished:
        assert state in ("Completed", "Compensated", "Failed")
        assert net_exposure == 0
    assert "Traceback" not in result.stderr
    bus = RedisBus(redis_url)
    try:
        mirrored = [await bus.get_book(venue, market) for venue, market in await _book_keys(redis_url)]
    finally:
        await bus.close()
    assert {book.venue for book in mirrored if book is not None} == {Venue.POLYMARKET, Venue.KALSHI}


async def test_paper_mode_copies_the_sandbox_leader_on_both_venues(tmp_path: Path) -> None:
    """Nothing configured: a sandbox leader trades both venues and its trades become copies, filled or
    skipped with a reason, each recorded once."""
    result = await asyncio.to_thread(
        run,
        ["up", "--duration", "25"],
        tmp_path,
        INERTIAL_TEMPORAL__DEV_SERVER_PORT=str(free_port()),
        INERTIAL_TEMPORAL__UI_PORT=str(free_port()),
        INERTIAL_COPYTRADE__SANDBOX_LEADER_INTERVAL_S="1",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "a sandbox leader trades both venues" in result.stdout
    rows = (
        sqlite3.connect(tmp_path / "data" / "inertial.db")
        .execute("SELECT venue, state, reason, workflow_id FROM copy_outcomes")
        .fetchall()
    )
    assert {venue for venue, *_ in rows} == {"polymarket", "kalshi"}, result.stdout[-2000:]
    assert {state for _, state, *_ in rows} <= {"filled", "partially_filled", "skipped", "failed"}
    assert any(state in ("filled", "partially_filled") for _, state, *_ in rows)
    assert all(reason for _, state, reason, _ in rows if state == "skipped")
    assert len({workflow for *_, workflow in rows}) == len(rows)
    assert "Traceback" not in result.stderr


async def _book_keys(redis_url: str) -> list[tuple[Venue, str]]:
    client = aioredis.from_url(redis_url)
    try:
        keys = [key.decode() async for key in client.scan_iter("inertial:book:*")]
    finally:
        await client.aclose()
    return [(Venue(key.split(":")[2]), key.split(":", 3)[3]) for key in keys]


def test_run_command_is_the_readme_main_command() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "make run" in readme and "make test" in readme
    assert re.search(r"^run: install\n\t\$\(BIN\)/inertial up$", makefile, re.M)
    assert (
        subprocess.run(["make", "-n", "run"], capture_output=True, text=True, cwd=Path(__file__).parents[2]).returncode
        == 0
    )


def test_a_newcomer_chats_with_the_bot_then_ctrl_c_stops_everything_cleanly(tmp_path: Path) -> None:
    """The embedded default serves a sandbox Telegram bot: linked with a CLI code, it answers /status."""
    port, telegram, api = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INERTIAL_") and k != "DRY_RUN"}
    env.update(
        INERTIAL_DATA_DIR=str(tmp_path / "data"),
        INERTIAL_TEMPORAL__DEV_SERVER_PORT=str(port),
        INERTIAL_TEMPORAL__UI_PORT=str(free_port()),
        INERTIAL_API__PORT=str(api),
        INERTIAL_TELEGRAM__SANDBOX_PORT=str(telegram),
        COLUMNS="200",
    )
    proc = subprocess.Popen(
        [str(INERTIAL), "up"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C to stop" in line:
            break
    assert any(f"sandbox Bot API http://127.0.0.1:{telegram}" in line for line in lines), "".join(lines)

    def inertial(*args: str) -> str:
        done = subprocess.run([str(INERTIAL), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    code = re.search(r"/start (\S+)", inertial("users", "link", "owner"))
    assert code is not None
    url = f"http://127.0.0.1:{telegram}"
    assert "Linked: you are owner (owner)" in inertial("sandbox", "telegram", "say", f"/start {code[1]}", "--url", url)
    assert "PAPER" in inertial("sandbox", "telegram", "say", "/status", "--url", url)
    asked = inertial("sandbox", "telegram", "say", "/unkill", "--url", url)
    message = re.search(r"^\[(\d+)\] Lift the kill switch", asked, re.M)
    assert message is not None and "[Cancel]" in asked
    assert "cancelled" in inertial("sandbox", "telegram", "press", message[1], "cancel", "--url", url)
    key = inertial("keys", "create", "owner").strip().splitlines()[-1]
    with httpx.stream(
        "GET", f"http://127.0.0.1:{api}/v1/stream", headers={"X-API-Key": key}, timeout=30
    ) as stream:  # the REST stream carries the books the streamers keep
        events = []
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
            if "book" in events:
                break
    assert "book" in events and "risk" in events
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert "stopped cleanly" in out
    assert "Traceback" not in err
    assert not port_in_use("127.0.0.1", port), "the embedded Temporal dev server outlived `inertial up`"
