"""The vault with its master key inside an HSM (SoftHSM2 through PKCS#11): the key never leaves it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pkcs11 import Attribute, KeyType
from sqlalchemy import select
from typer.testing import CliRunner, Result

from control.cli.main import app
from security.credentials import Purpose
from security.envelope import NotAuthentic, VaultError
from security.pkcs11 import Pkcs11Source, _lib
from security.vault import Vault, initialise
from storage import migrate
from storage.database import create_engine, session_factory
from storage.tables import VaultDataKeyRow
from tests.security.test_vault import WALLET_KEY

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, PIN = "inertial-test", "246810"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One token for the session: a PKCS#11 module reads its configuration once per process."""
    if not MODULE.exists() or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (.ci/run installs Debian's softhsm2)")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    made = subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "13579111"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    yield MODULE


async def test_an_hsm_master_seals_opens_rotates_and_keeps_its_key(softhsm: Path, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hsm.db'}")
    await migrate.upgrade(engine)
    source = Pkcs11Source(softhsm, TOKEN, PIN)
    await initialise(engine, source)
    vault = await Vault.unlock(engine, source)
    await vault.add("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode())
    reopened = await Vault.unlock(engine, source)
    assert (
        await reopened.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)
    ).get_secret_value() == WALLET_KEY.encode()
    token = _lib(str(softhsm)).get_token(token_label=TOKEN)
    with token.open(user_pin=PIN) as session:
        [key] = session.get_objects(
            {Attribute.KEY_TYPE: KeyType.AES, Attribute.LABEL: vault._master.params["key_label"]}
        )
        assert key[Attribute.EXTRACTABLE] is False and key[Attribute.SENSITIVE] is True
    rotated = await vault.rotate_master(source)  # a new key inside the token; data keys re-wrapped
    assert rotated.kind == "pkcs11"
    fresh = await Vault.unlock(engine, source)
    assert (await fresh.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)).get_secret_value() == WALLET_KEY.encode()
    async with session_factory(engine)() as s, s.begin():
        row = await s.scalar(select(VaultDataKeyRow))
        assert row is not None and row.wrapped is not None
        row.wrapped = row.wrapped[:-1] + bytes([row.wrapped[-1] ^ 1])
    with pytest.raises(NotAuthentic, match="does not authenticate under the HSM key"):
        await (await Vault.unlock(engine, source)).open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)
    with pytest.raises(VaultError, match="wrong PIN for HSM token"):
        await Vault.unlock(engine, Pkcs11Source(softhsm, TOKEN, "000000"))
    with pytest.raises(VaultError, match="no HSM token labelled 'absent'"):
        Pkcs11Source(softhsm, "absent", PIN).create()
    with pytest.raises(VaultError, match="cannot load the PKCS#11 module"):
        Pkcs11Source(tmp_path / "nothing.so", TOKEN, PIN).create()
    await engine.dispose()


def test_the_cli_moves_a_vault_into_the_hsm_and_a_missing_token_is_one_line(softhsm: Path, tmp_path: Path) -> None:
    def run(*args: str, input: str | None = None, **env: str) -> Result:
        return CliRunner().invoke(app, ["vault", *args], input=input, env={"INERTIAL_DATA_DIR": str(tmp_path), **env})

    assert run("init").exit_code == 0
    assert run("add", "polymarket.private_key", input=WALLET_KEY).exit_code == 0
    hsm = {"INERTIAL_VAULT__PKCS11_MODULE": str(softhsm), "INERTIAL_VAULT__PKCS11_TOKEN": TOKEN}
    moved = run("rotate", "master", "--to", "pkcs11", **hsm, INERTIAL_VAULT__PKCS11_PIN=PIN)
    assert moved.exit_code == 0 and "(pkcs11)" in moved.output, moved.output
    listed = run("list", **hsm, INERTIAL_VAULT__MASTER="pkcs11", INERTIAL_VAULT__PKCS11_PIN=PIN)
    assert listed.exit_code == 0 and "polymarket.private_key" in listed.output, listed.output
    unplugged = {"INERTIAL_VAULT__PKCS11_TOKEN": "unplugged", "INERTIAL_VAULT__PKCS11_PIN": PIN}
    for command, env, says in (
        ("init", {**unplugged, "INERTIAL_DATA_DIR": str(tmp_path / "new")}, "no HSM token labelled 'unplugged'"),
        ("list", {"INERTIAL_VAULT__PKCS11_PIN": "000000"}, "wrong PIN for HSM token"),
        ("list", {}, "set INERTIAL_VAULT__PKCS11_PIN"),
    ):
        result = run(command, **{**hsm, "INERTIAL_VAULT__MASTER": "pkcs11", **env})
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1 and says in lines[0], result.output
