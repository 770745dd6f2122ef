"""`inertial vault …` as a person runs it: secrets in through stdin, out never; every mistake one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner, Result

from control.cli.main import app
from tests.security.test_vault import WALLET_KEY, kalshi_key

PASSPHRASE = "a long enough vault passphrase"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"INERTIAL_DATA_DIR": str(tmp_path), **extra}


def _run(tmp_path: Path, *args: str, stdin: str | None = None, **env: str) -> Result:
    return CliRunner().invoke(app, ["vault", *args], input=stdin, env=_env(tmp_path, **env))


def _one_line_error(result: Result, says: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], result.output


def test_init_add_list_rotate_remove_and_audit(tmp_path: Path) -> None:
    made = _run(tmp_path, "init")
    assert made.exit_code == 0 and "vault initialised" in made.output and "(keyfile)" in made.output, made.output
    assert (tmp_path / "vault.key").stat().st_mode & 0o777 == 0o600
    _one_line_error(_run(tmp_path, "init"), "already initialised")
    added = _run(tmp_path, "add", "polymarket.private_key", "--label", "hot", stdin=WALLET_KEY)
    assert added.exit_code == 0 and "polymarket.private_key" in added.output and WALLET_KEY not in added.output
    key_file = tmp_path / "kalshi.json"
    key_file.write_text(kalshi_key())
    added = _run(tmp_path, "add", "kalshi.api", "--account", "demo", "--from-file", str(key_file))
    assert added.exit_code == 0, added.output
    listed = _run(tmp_path, "list")
    assert listed.exit_code == 0 and listed.output.count("\n") == 2 and "hot" in listed.output, listed.output
    assert "4c4c" not in listed.output and "PRIVATE KEY" not in listed.output
    codec = _run(tmp_path, "rotate", "codec")
    assert codec.exit_code == 0 and "new codec key codec-" in codec.output, codec.output
    assert "temporal.codec" in _run(tmp_path, "list").output
    rotated = _run(tmp_path, "rotate", "data-key")
    assert rotated.exit_code == 0 and "data key v2" in rotated.output
    moved = _run(tmp_path, "rotate", "master", "--to", "passphrase", INERTIAL_VAULT__NEW_PASSPHRASE=PASSPHRASE)
    assert moved.exit_code == 0 and "set vault.master = passphrase" in moved.output, moved.output
    _one_line_error(_run(tmp_path, "list"), "is a passphrase, not a keyfile")
    as_now = {"INERTIAL_VAULT__MASTER": "passphrase", "INERTIAL_VAULT__PASSPHRASE": PASSPHRASE}
    listed = _run(tmp_path, "list", **as_now)
    assert listed.exit_code == 0 and "key v2" in listed.output, listed.output
    removed = _run(tmp_path, "remove", "kalshi.api", "--account", "demo", **as_now)
    assert removed.exit_code == 0 and _run(tmp_path, "list", **as_now).output.count("\n") == 2
    with sqlite3.connect(tmp_path / "inertial.db") as db:
        actions = [a for (a,) in db.execute("SELECT action FROM audit_events WHERE action LIKE 'vault%' ORDER BY id")]
    assert actions == [
        "vault_add",
        "vault_add",
        "vault_new_codec_key",
        "vault_rotate_data_key",
        "vault_rotate_master",
        "vault_remove",
    ]


def test_every_mistake_is_one_line_and_nothing_is_lost(tmp_path: Path) -> None:
    _one_line_error(_run(tmp_path, "list"), "not initialised: run `inertial vault init`")
    assert _run(tmp_path, "init").exit_code == 0
    assert _run(tmp_path, "add", "polymarket.private_key", stdin=WALLET_KEY).exit_code == 0
    _one_line_error(_run(tmp_path, "add", "binance.key", stdin="x"), "unknown credential purpose 'binance.key'")
    _one_line_error(_run(tmp_path, "add", "polymarket.private_key", stdin="0xabc"), "64 hex digits")
    _one_line_error(_run(tmp_path, "remove", "kalshi.api"), "has no kalshi.api for account default")
    _one_line_error(_run(tmp_path, "rotate", "master", "--to", "keyfile"), "needs --key-file")
    as_passphrase = {"INERTIAL_VAULT__MASTER": "passphrase", "INERTIAL_VAULT__PASSPHRASE": "wrong but long enough"}
    _one_line_error(_run(tmp_path, "list", **as_passphrase), "is a keyfile, not a passphrase")
    (tmp_path / "vault.key").write_text("damaged\n")
    _one_line_error(_run(tmp_path, "list"), "is corrupted")
    (tmp_path / "vault.key").unlink()
    _one_line_error(_run(tmp_path, "list"), "cannot read the vault key file")
    with sqlite3.connect(tmp_path / "inertial.db") as db:
        assert db.execute("SELECT count(*) FROM vault_secrets").fetchone() == (1,)
