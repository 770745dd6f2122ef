"""The CLI as a user meets it: real processes, one-line errors, non-zero exits, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.migrate import head_revision

INERTIAL = Path(sys.executable).parent / "inertial"


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("INERTIAL_") and k != "DRY_RUN"}
    base.update({"INERTIAL_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", **env})
    return subprocess.run([str(INERTIAL), *args], capture_output=True, text=True, env=base, cwd=tmp_path, timeout=120)


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    result = run(["config", "show"], tmp_path, INERTIAL_KALSHI__PRIVATE_KEY="-----BEGIN topsecret")
    assert result.returncode == 0, result.stderr
    assert "topsecret" not in result.stdout
    assert "**********" in result.stdout
    assert "kalshi.private_key" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["config", "show"], {"INERTIAL_NOPE": "1"}, "unknown environment variable INERTIAL_NOPE"),
        (["up", "--once"], {"INERTIAL_DATABASE_URL": "::bad::"}, "INERTIAL_DATABASE_URL"),
        (
            ["migrate"],
            {"INERTIAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"},
            "cannot use database postgresql+asyncpg://postgres@127.0.0.1:1/none",
        ),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run(args, tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_migrate_up_and_down_on_sqlite(tmp_path: Path) -> None:
    up = run(["migrate"], tmp_path)
    assert up.returncode == 0, up.stderr
    assert f"revision {head_revision()}" in up.stdout
    down = run(["migrate", "base", "--down"], tmp_path)
    assert down.returncode == 0, down.stderr
    assert "revision None" in down.stdout


def test_doctor_reports_each_dependency_and_fails_on_a_bad_one(tmp_path: Path) -> None:
    good = run(["doctor"], tmp_path, INERTIAL_TEMPORAL__DEV_SERVER_PORT="17233", INERTIAL_TEMPORAL__UI_PORT="18233")
    assert "database" in good.stdout and "temporal" in good.stdout
    assert "run `inertial migrate`" in good.stdout
    assert good.returncode == 1
    assert run(["migrate"], tmp_path).returncode == 0
    healthy = run(["doctor"], tmp_path, INERTIAL_TEMPORAL__DEV_SERVER_PORT="17233", INERTIAL_TEMPORAL__UI_PORT="18233")
    assert healthy.returncode == 0, healthy.stdout
    bad = run(["doctor"], tmp_path, INERTIAL_REDIS_URL="redis://127.0.0.1:1/0")
    assert bad.returncode == 1
    assert "FAIL redis" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr
