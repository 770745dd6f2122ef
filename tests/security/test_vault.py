"""The vault on a real database file: what goes in sealed comes out only for its own row and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from security.credentials import Purpose
from security.envelope import NotAuthentic, VaultError, aad, new_key, open_sealed, seal
from security.masters import KeyFileSource, PassphraseSource
from security.vault import Vault, initialise
from storage.database import session_factory
from storage.tables import VaultDataKeyRow, VaultSecretRow

PASSPHRASE = "correct horse battery staple"
WALLET_KEY = "0x" + "4c" * 32


def kalshi_key() -> str:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return json.dumps({"key_id": "kid-1", "private_key": pem.decode()})


@pytest.fixture
async def vault(engine: AsyncEngine) -> Vault:
    await initialise(engine, PassphraseSource(PASSPHRASE))
    return await Vault.unlock(engine, PassphraseSource(PASSPHRASE))


async def test_a_credential_comes_back_only_through_the_vault_and_never_in_clear(
    vault: Vault, engine: AsyncEngine, tmp_path: Path
) -> None:
    await vault.add("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode(), label="hot wallet")
    kalshi = kalshi_key()
    await vault.add("acme", "main", Purpose.KALSHI_API, kalshi.encode())
    opened = await vault.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)
    assert opened.get_secret_value() == WALLET_KEY.encode()
    assert WALLET_KEY not in repr(opened) and WALLET_KEY not in str(opened)
    assert json.loads((await vault.open("acme", "main", Purpose.KALSHI_API)).get_secret_value()) == json.loads(kalshi)
    listed = await vault.listing("acme")
    assert [(s.purpose, s.label) for s in listed] == [("kalshi.api", ""), ("polymarket.private_key", "hot wallet")]
    assert "4c4c" not in json.dumps([s.model_dump(mode="json") for s in listed])
    await engine.dispose()
    stored = (tmp_path / "inertial.db").read_bytes()
    assert b"4c4c4c4c" not in stored and b"BEGIN PRIVATE KEY" not in stored and b"kid-1" not in stored


async def test_a_ciphertext_moved_to_another_row_does_not_decrypt(vault: Vault, engine: AsyncEngine) -> None:
    await vault.add("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode())
    await vault.add("acme", "spare", Purpose.POLYMARKET_PRIVATE_KEY, ("0x" + "11" * 32).encode())
    await vault.add("other", "main", Purpose.POLYMARKET_PRIVATE_KEY, ("0x" + "22" * 32).encode())
    async with session_factory(engine)() as session, session.begin():
        sealed = await session.scalar(select(VaultSecretRow.sealed).where(VaultSecretRow.account == "main"))
        await session.execute(update(VaultSecretRow).where(VaultSecretRow.account == "spare").values(sealed=sealed))
    with pytest.raises(NotAuthentic, match="moved from another row"):
        await vault.open("acme", "spare", Purpose.POLYMARKET_PRIVATE_KEY)
    async with session_factory(engine)() as session, session.begin():
        theirs = await session.get(VaultDataKeyRow, ("other", 1))
        assert theirs is not None
        await session.execute(
            update(VaultDataKeyRow).where(VaultDataKeyRow.tenant_id == "acme").values(wrapped=theirs.wrapped)
        )
    fresh = await Vault.unlock(engine, PassphraseSource(PASSPHRASE))
    with pytest.raises(NotAuthentic, match="data key of tenant acme"):
        await fresh.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)


async def test_a_flipped_bit_is_a_clear_error_never_a_wrong_key(vault: Vault, engine: AsyncEngine) -> None:
    await vault.add("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode())
    async with session_factory(engine)() as session, session.begin():
        row = await session.get(VaultSecretRow, ("acme", "main", "polymarket.private_key"))
        assert row is not None
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
    with pytest.raises(NotAuthentic, match="altered"):
        await vault.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)


async def test_wrong_passphrase_wrong_or_corrupted_key_file(engine: AsyncEngine, tmp_path: Path) -> None:
    await initialise(engine, PassphraseSource(PASSPHRASE))
    with pytest.raises(VaultError, match="wrong passphrase for the vault master"):
        await Vault.unlock(engine, PassphraseSource("not the passphrase"))
    with pytest.raises(VaultError, match="already initialised"):
        await initialise(engine, PassphraseSource(PASSPHRASE))
    with pytest.raises(VaultError, match="is a passphrase, not a keyfile"):
        await Vault.unlock(engine, KeyFileSource(tmp_path / "none.key"))
    with pytest.raises(VaultError, match="at least 12 characters"):
        PassphraseSource("short").create()
    made = KeyFileSource(tmp_path / "master.key").create()
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    other = KeyFileSource(tmp_path / "other.key")
    other.create()
    with pytest.raises(VaultError, match="is not the vault's master key"):
        other.open(made.params)
    (tmp_path / "other.key").write_text("not base64!\n")
    with pytest.raises(VaultError, match="is corrupted"):
        other.open(made.params)
    with pytest.raises(VaultError, match="cannot read the vault key file"):
        KeyFileSource(tmp_path / "missing.key").open(made.params)


async def test_rotating_the_master_rewraps_data_keys_and_retires_the_old_one(
    vault: Vault, engine: AsyncEngine, tmp_path: Path
) -> None:
    await vault.add("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode())
    async with session_factory(engine)() as session:
        sealed_before = await session.scalar(select(VaultSecretRow.sealed))
    key_file = KeyFileSource(tmp_path / "master.key")
    await vault.rotate_master(key_file)
    assert (await vault.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)).get_secret_value() == WALLET_KEY.encode()
    with pytest.raises(VaultError, match="is a keyfile, not a passphrase"):
        await Vault.unlock(engine, PassphraseSource(PASSPHRASE))
    reopened = await Vault.unlock(engine, key_file)
    assert (
        await reopened.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)
    ).get_secret_value() == WALLET_KEY.encode()
    async with session_factory(engine)() as session:
        assert await session.scalar(select(VaultSecretRow.sealed)) == sealed_before  # credentials untouched


async def test_rotating_a_data_key_reseals_the_tenant_and_erases_the_old_key(vault: Vault, engine: AsyncEngine) -> None:
    await vault.add("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY, WALLET_KEY.encode())
    await vault.add("other", "main", Purpose.POLYMARKET_PRIVATE_KEY, ("0x" + "22" * 32).encode())
    assert await vault.rotate_data_key("acme") == 2
    async with session_factory(engine)() as session:
        keys = {(r.tenant_id, r.version): r.wrapped for r in await session.scalars(select(VaultDataKeyRow))}
        versions = {r.tenant_id: r.key_version for r in await session.scalars(select(VaultSecretRow))}
    assert keys[("acme", 1)] is None and keys[("acme", 2)] and keys[("other", 1)]
    assert versions == {"acme": 2, "other": 1}
    fresh = await Vault.unlock(engine, PassphraseSource(PASSPHRASE))
    assert (await fresh.open("acme", "main", Purpose.POLYMARKET_PRIVATE_KEY)).get_secret_value() == WALLET_KEY.encode()


@pytest.mark.parametrize(
    ("purpose", "secret", "says"),
    [
        (Purpose.POLYMARKET_PRIVATE_KEY, "0x1234", "64 hex digits"),
        (Purpose.POLYMARKET_CLOB_API, "key=abc", "is a JSON object"),
        (Purpose.POLYMARKET_CLOB_API, '{"key": "k", "secret": "s"}', "missing ['passphrase']"),
        (Purpose.KALSHI_API, '{"key_id": "k", "private_key": "-----BEGIN nonsense"}', "not an RSA private key"),
        (Purpose.KALSHI_LEADER, '{"key_id": "k", "private_key": "p", "colour": "x"}', "unknown ['colour']"),
    ],
)
async def test_a_credential_that_would_not_sign_is_refused_and_nothing_is_stored(
    vault: Vault, purpose: Purpose, secret: str, says: str
) -> None:
    with pytest.raises(VaultError, match=says.replace("[", r"\[").replace("]", r"\]")) as refused:
        await vault.add("acme", "main", purpose, secret.encode())
    assert "nonsense" not in str(refused.value)
    assert await vault.listing("acme") == []


@given(st.binary(max_size=256), st.lists(st.text(max_size=8), max_size=4), st.lists(st.text(max_size=8), max_size=4))
def test_sealing_round_trips_and_binds_its_associated_data(plain: bytes, one: list[str], other: list[str]) -> None:
    key = new_key()
    sealed = seal(key, plain, aad(*one))
    assert open_sealed(key, sealed, aad(*one), "x") == plain
    if one != other:
        assert aad(*one) != aad(*other)
        with pytest.raises(NotAuthentic):
            open_sealed(key, sealed, aad(*other), "x")
