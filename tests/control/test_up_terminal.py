"""`inertial up` on a real terminal (tmux): one live view, redrawn in place, with the links to look further."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.control.test_cli import INERTIAL
from tests.temporal.test_devserver import free_port


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=30).stdout


def test_up_on_a_terminal_redraws_one_live_view_in_place(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    api, session = free_port(), f"inertial-{uuid.uuid4().hex[:8]}"
    env = {
        "INERTIAL_DATA_DIR": str(tmp_path / "data"),
        "INERTIAL_TEMPORAL__DEV_SERVER_PORT": str(free_port()),
        "INERTIAL_TEMPORAL__UI_PORT": str(free_port()),
        "INERTIAL_API__PORT": str(api),
        "INERTIAL_TELEGRAM__SANDBOX_PORT": str(free_port()),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    path = os.environ.get("PATH", "")
    _tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "200",
        "-y",
        "100",
        f"env -u COLUMNS -u LINES PATH={path} {exports} {INERTIAL} up --duration 90",
    )
    try:
        screens: list[str] = []
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            screen = _tmux("capture-pane", "-p", "-t", session)
            if "latest alerts" in screen and "book updates" in screen:
                screens.append(screen)
                if len(screens) >= 2 and screens[-1] != screens[0]:
                    break
            time.sleep(2)
        assert len(screens) >= 2, _tmux("capture-pane", "-p", "-t", session, "-S", "-200")
        assert screens[-1] != screens[0]  # redrawn while trading
        view = screens[-1]
        assert f"dashboard http://127.0.0.1:{api}/ui" in view and "Temporal UI http://" in view
        for title in ("books (YES bid / ask)", "latest opportunities", "latest sagas", "latest copies"):
            assert title in view, view
        everything = _tmux("capture-pane", "-p", "-t", session, "-S", "-2000")
        assert everything.count("latest opportunities") == 1  # in place: the view is not printed again and again
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "C-c"], check=False)
        for _ in range(30):
            if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0:
                break
            time.sleep(1)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
