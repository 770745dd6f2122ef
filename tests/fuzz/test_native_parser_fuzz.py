"""A bounded run of the native-parser fuzzer (`make fuzz` runs it long): the sanitized C parser on
mutated recorded frames, alone and against the pure-Python parser."""

from __future__ import annotations

import shutil
import subprocess
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
