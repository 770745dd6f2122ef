"""`pairs suggest|list|confirm|reject` end to end against a SQLite database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from control.cli.pairs import app
from matching.candidates import pair_id

KALSHI_MARKETS = "nautilus_trader/kalshi_pr3659_synthetic/http_markets.json"


def gamma(condition: str, question: str) -> dict[str, object]:
    return {
        "conditionId": condition,
        "question": question,
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": f'["{condition}1", "{condition}2"]',
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "endDate": "2025-03-15T23:59:00Z",
        "active": True,
        "description": "Resolves Yes if BTC/USD exceeds the price by March 15.",
    }


def test_suggest_list_confirm_reject(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INERTIAL_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "400")
    poly = tmp_path / "gamma.json"
    poly.write_text(
        json.dumps(
            [
                gamma("0xaaa", "Will Bitcoin exceed $100,000 by March 15?"),
                gamma("0xbbb", "Will Bitcoin exceed $120,000 by March 15?"),
            ]
        )
    )
    runner = CliRunner()
    out = runner.invoke(app, ["suggest", str(poly), str(shared_data / KALSHI_MARKETS), "--min-confidence", "0"])
    assert out.exit_code == 0, out.output
    assert "2 candidate pairs stored" in out.output

    listed = runner.invoke(app, ["list", "--status", "candidate"])
    assert listed.exit_code == 0 and "thresholds_differ" in listed.output
    good = pair_id("0xaaa", "KXBTC-25MAR15-B100000")
    bad = pair_id("0xbbb", "KXBTC-25MAR15-B100000")
    assert runner.invoke(app, ["confirm", good, "--by", "alice"]).exit_code == 0
    assert runner.invoke(app, ["reject", bad, "--by", "alice"]).exit_code == 0
    confirmed = runner.invoke(app, ["list", "--status", "confirmed"])
    assert good in confirmed.output and bad not in confirmed.output
    missing = runner.invoke(app, ["confirm", "pm-nope", "--by", "alice"])
    assert missing.exit_code == 1 and "no pair" in missing.output
    assert _audited(tmp_path / "cli.db") == [
        ("default", "cli:alice", "pair_confirmed", good, "cli"),
        ("default", "cli:alice", "pair_rejected", bad, "cli"),
    ]
    assert "cli:alice" in confirmed.output  # who decided is kept on the pair


def _audited(db: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT tenant_id, actor, action, subject, interface FROM audit_events"
            " WHERE action IN ('pair_confirmed', 'pair_rejected') ORDER BY id"
        ).fetchall()
