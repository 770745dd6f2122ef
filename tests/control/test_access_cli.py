"""`inertial tenants|users|keys`: a key is printed once, kept only as a hash, and works until revoked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from control.app.access import Access, Unauthorized
from control.cli.main import app
from storage.database import create_engine


def invoke(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"INERTIAL_DATA_DIR": str(tmp_path)})


async def test_tenant_user_key_lifecycle(tmp_path: Path) -> None:
    made = await asyncio.to_thread(invoke, tmp_path, "tenants", "create", "acme", "--tier", "enterprise")
    assert made.exit_code == 0, made.output
    assert "inertial keys create owner --tenant acme" in made.output
    added = await asyncio.to_thread(invoke, tmp_path, "users", "add", "bob", "--role", "trader", "--tenant", "acme")
    assert added.exit_code == 0, added.output
    key = await asyncio.to_thread(invoke, tmp_path, "keys", "create", "bob", "--tenant", "acme")
    assert key.exit_code == 0, key.output
    secret = key.output.strip().splitlines()[-1]
    assert secret.startswith("ie_")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inertial.db'}")
    try:
        caller = await Access(engine).authenticate(secret)
        assert (caller.tenant_id, caller.user_id, caller.role, caller.tier) == ("acme", "bob", "trader", "enterprise")
        listed = await asyncio.to_thread(invoke, tmp_path, "keys", "list", "--tenant", "acme")
        assert caller.key_id is not None and caller.key_id in listed.output and secret not in listed.output
        assert (await asyncio.to_thread(invoke, tmp_path, "keys", "list")).output.strip() == ""  # default tenant
        revoked = await asyncio.to_thread(invoke, tmp_path, "keys", "revoke", str(caller.key_id), "--tenant", "acme")
        assert revoked.exit_code == 0
        with pytest.raises(Unauthorized):
            await Access(engine).authenticate(secret)
        assert "REVOKED" in (await asyncio.to_thread(invoke, tmp_path, "keys", "list", "--tenant", "acme")).output
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "x", "--role", "god"), "unknown role 'god'"),
        (("keys", "create", "nobody"), "no user nobody in tenant default"),
        (("keys", "revoke", "0000"), "no key 0000 in tenant default"),
        (("tenants", "create", "Bad/Id"), "tenant id 'Bad/Id'"),
        (("keys", "create", "owner", "--tenant", "ghost"), "no user owner in tenant ghost"),
    ],
)
async def test_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = await asyncio.to_thread(invoke, tmp_path, *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


async def test_link_code_links_telegram_once(tmp_path: Path) -> None:
    code = (await asyncio.to_thread(invoke, tmp_path, "users", "link", "owner")).output.split()[2]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inertial.db'}")
    try:
        access = Access(engine)
        linked = await access.redeem_link_code(code, "4242")
        assert (linked.tenant_id, linked.user_id) == ("default", "owner")
        assert (await access.telegram_caller("4242")).role == "owner"
        with pytest.raises(Unauthorized, match="used or expired"):
            await access.redeem_link_code(code, "999")
        with pytest.raises(Unauthorized, match="not linked"):
            await access.telegram_caller("999")
    finally:
        await engine.dispose()
