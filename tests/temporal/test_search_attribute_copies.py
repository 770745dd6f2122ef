"""The operators' copies of the search attributes are generated from the one list and checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from temporal import search_attributes as sa


def test_the_committed_copies_are_up_to_date() -> None:
    assert sa.stale_copies() == []


def test_the_compose_file_starts_the_server_with_every_attribute() -> None:
    compose = yaml.safe_load((sa.ROOT / "docker-compose.yml").read_text())
    flags = [f for f in compose["services"]["temporal"]["command"] if f.startswith("--search-attribute=")]
    assert flags == [f"--search-attribute={key.name}={sa.cli_type(key)}" for key in sa.ALL]


def test_a_stale_copy_is_found_and_regenerated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in sa.COPIES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sa.ROOT / name, tmp_path / name)
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("      - --search-attribute=TenantId=Keyword\n", ""))
    assert sa.stale_copies(tmp_path) == ["docker-compose.yml"]
    monkeypatch.setattr(sa, "ROOT", tmp_path)
    assert sa.main(["--check"]) == 1
    assert sa.main([]) == 0
    assert sa.stale_copies(tmp_path) == []
    assert "TenantId=Keyword" in compose.read_text()


def test_a_file_without_its_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="BEGIN search attributes"):
        sa.regenerated("no markers here\n", sa.COPIES["docker-compose.yml"])
