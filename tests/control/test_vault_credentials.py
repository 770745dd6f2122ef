"""Live trading signs with the vault's credentials; paper mode never reads them; two sources are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from control.config import Settings
from control.services import ServiceError, open_vault, with_vault_credentials
from security.credentials import Purpose
from security.envelope import VaultError
from tests.security.test_vault import WALLET_KEY, kalshi_key
from venues.kalshi.factory import signer_from_settings


async def test_live_settings_take_the_default_accounts_credentials_from_the_vault(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, dry_run=False)
    vault = await open_vault(settings, engine)  # the embedded default: a key-file vault made on first use
    kalshi = kalshi_key()
    await vault.add("default", "default", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode())
    clob = {"key": "k", "secret": "s", "passphrase": "p"}
    await vault.add("default", "default", Purpose.POLYMARKET_CLOB_API, json.dumps(clob).encode())
    await vault.add("default", "default", Purpose.KALSHI_API, kalshi.encode())
    await vault.add("other", "default", Purpose.KALSHI_API, kalshi_key().encode())
    live = await with_vault_credentials(settings, vault)
    assert live.polymarket.private_key is not None and live.polymarket.private_key.get_secret_value() == WALLET_KEY
    assert live.polymarket.api_key == "k" and WALLET_KEY not in repr(live)
    signer = signer_from_settings(live.kalshi)
    assert signer is not None and signer.key_id == "kid-1"
    paper = Settings(data_dir=tmp_path, dry_run=True)
    assert await with_vault_credentials(paper, vault) == paper
    both = Settings(data_dir=tmp_path, dry_run=False, polymarket={"private_key": SecretStr("0x" + "11" * 32)})
    with pytest.raises(ServiceError, match="the Polymarket private key is both in the vault and in the configuration"):
        await with_vault_credentials(both, vault)


async def test_a_passphrase_vault_is_never_made_behind_the_users_back(engine: AsyncEngine, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, vault={"master": "passphrase", "passphrase": SecretStr("long enough phrase")}
    )
    with pytest.raises(VaultError, match="not initialised: run `inertial vault init`"):
        await open_vault(settings, engine)
