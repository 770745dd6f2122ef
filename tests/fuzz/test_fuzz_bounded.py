"""Bounded runs of the fuzzers (`make fuzz` runs them long): the sanitized C parser on mutated recorded
frames, alone and against the pure-Python parser; the leader-event and Telegram-command decoders."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("mode", "runs"), [("native", 20_000), ("differential", 1_000)])
def test_a_bounded_fuzz_run_finds_no_crash_leak_or_disagreement(
    mode: str, runs: int, shared_data: Path, tmp_path: Path
) -> None:
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed (.ci/run installs it)")
    env = {"FUZZ_BUILD": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(ROOT / "fuzz" / "run.sh"), mode, str(runs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / f"{mode}.log").read_text()[-3000:]
    assert f"no crash, sanitizer report, disagreement or native leak in {runs} runs" in done.stdout
    assert f"stat::number_of_executed_units: {runs}" in (tmp_path / f"{mode}.log").read_text()


def test_a_bounded_fuzz_run_of_the_leader_and_telegram_decoders_finds_nothing(
    shared_data: Path, tmp_path: Path
) -> None:
    """Every mutated Data API row, RTDS frame, Kalshi fill and Telegram command decodes or is a clear error."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fuzz.decoders",
            "-runs=20000",
            "-max_len=4096",
            f"-artifact_prefix={tmp_path}/",
            str(tmp_path / "corpus"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done 20000 runs" in done.stderr
