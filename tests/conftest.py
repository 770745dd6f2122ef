"""Fixtures shared by the whole suite.

Recorded venue data lives in ../shared/data (never copied into the repo); tests that
need it take `shared_data` and are skipped when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("INERTIAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"recorded venue data not found at {SHARED_DATA}")
    return SHARED_DATA
