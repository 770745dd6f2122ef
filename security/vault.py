"""The credential vault: envelope encryption with one data key per tenant, wrapped by one master key.

Each credential is sealed (AES-256-GCM) under its tenant's current data key with associated data
naming its tenant, account and purpose; each data key is sealed under the master with associated
data naming its tenant and version. So a ciphertext moved to another row, or a data key moved to
another tenant, does not authenticate. Rotation never stops signing: the processes that sign hold
their credentials already opened, a master rotation only re-wraps the data keys, and a data-key
rotation re-seals one tenant's credentials in one transaction.

Opened credentials are returned as `SecretBytes` (masked when printed or logged) and never written
anywhere; there is no export.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, SecretBytes
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.models import utc_now
from security.credentials import Purpose, checked
from security.envelope import NotAuthentic, VaultError, aad, new_key, open_sealed, seal
from security.masters import MasterKey, MasterSource
from storage.database import session_factory
from storage.tables import VaultDataKeyRow, VaultMasterRow, VaultSecretRow

_CHECK = b"inertial vault master check"


class VaultNotInitialised(VaultError):
    """No master key yet: `inertial vault init` (the embedded default makes one on its first run)."""


class SecretView(BaseModel):
    """What `vault list` shows: never the value."""

    tenant_id: str
    account: str
    purpose: str
    label: str
    key_version: int
    created_at: datetime
    updated_at: datetime


class MasterView(BaseModel):
    id: str
    kind: str
    created_at: datetime


def _master_aad(master_id: str) -> bytes:
    return aad("master", master_id)


def _key_aad(tenant_id: str, version: int) -> bytes:
    return aad("data-key", tenant_id, version)


def _secret_aad(tenant_id: str, account: str, purpose: str) -> bytes:
    return aad("secret", tenant_id, account, purpose)


async def _active_master(session: AsyncSession) -> VaultMasterRow:
    row = await session.scalar(select(VaultMasterRow).where(VaultMasterRow.retired_at.is_(None)))
    if row is None:
        raise VaultNotInitialised("the vault is not initialised: run `inertial vault init`")
    return row


def _opened(row: VaultMasterRow, source: MasterSource) -> MasterKey:
    if row.kind != source.kind:
        raise VaultError(f"the vault's master is a {row.kind}, not a {source.kind}: configure [vault] master")
    master = source.open(row.params)
    try:
        master.unwrap(row.check_value, _master_aad(row.id), "the vault master check")
    except NotAuthentic:
        what = {"passphrase": "passphrase", "keyfile": "key file", "pkcs11": "HSM key"}.get(row.kind, row.kind)
        raise VaultError(f"wrong {what} for the vault master {row.id}: nothing was decrypted") from None
    return master


async def initialise(engine: AsyncEngine, source: MasterSource) -> MasterView:
    """Create the vault's master key once; a second `init` is refused (rotate instead)."""
    async with session_factory(engine)() as session, session.begin():
        if await session.scalar(select(VaultMasterRow.id).where(VaultMasterRow.retired_at.is_(None))):
            raise VaultError("the vault is already initialised; `inertial vault rotate master` changes its key")
        row = _new_master_row(source.create())
        session.add(row)
        await session.flush()
        return MasterView(id=row.id, kind=row.kind, created_at=row.created_at)


def _new_master_row(master: MasterKey) -> VaultMasterRow:
    master_id = secrets.token_hex(8)
    return VaultMasterRow(
        id=master_id,
        kind=master.kind,
        params=master.params,
        check_value=master.wrap(_CHECK, _master_aad(master_id)),
        created_at=utc_now(),
    )


@dataclass
class Vault:
    """An unlocked vault: `unlock` checks the master once; data keys are unwrapped on first use and kept."""

    engine: AsyncEngine
    master_id: str
    _master: MasterKey
    _data_keys: dict[tuple[str, int], bytes]

    def __repr__(self) -> str:
        return f"Vault(master={self.master_id})"

    @classmethod
    async def unlock(cls, engine: AsyncEngine, source: MasterSource) -> Vault:
        async with session_factory(engine)() as session:
            row = await _active_master(session)
            return cls(engine, row.id, _opened(row, source), {})

    async def add(self, tenant_id: str, account: str, purpose: Purpose, secret: bytes, label: str = "") -> SecretView:
        """Seal `secret` for the account (replacing what was there); refused if it would not sign."""
        value = checked(purpose, secret)
        now = utc_now()
        async with session_factory(self.engine)() as session, session.begin():
            version, key = await self._current_key(session, tenant_id)
            row = await session.get(VaultSecretRow, (tenant_id, account, purpose.value))
            sealed = seal(key, value, _secret_aad(tenant_id, account, purpose.value))
            if row is None:
                row = VaultSecretRow(
                    tenant_id=tenant_id, account=account, purpose=purpose.value, created_at=now, label=label
                )
                session.add(row)
            row.key_version, row.sealed, row.updated_at = version, sealed, now
            row.label = label or row.label
            await session.flush()
            return SecretView.model_validate(row, from_attributes=True)

    async def listing(self, tenant_id: str) -> list[SecretView]:
        async with session_factory(self.engine)() as session:
            rows = await session.scalars(
                select(VaultSecretRow)
                .where(VaultSecretRow.tenant_id == tenant_id)
                .order_by(VaultSecretRow.account, VaultSecretRow.purpose)
            )
            return [SecretView.model_validate(r, from_attributes=True) for r in rows]

    async def remove(self, tenant_id: str, account: str, purpose: Purpose) -> SecretView:
        async with session_factory(self.engine)() as session, session.begin():
            row = await session.get(VaultSecretRow, (tenant_id, account, purpose.value))
            if row is None:
                raise VaultError(f"tenant {tenant_id} has no {purpose} for account {account}")
            view = SecretView.model_validate(row, from_attributes=True)
            await session.delete(row)
            return view

    async def open(self, tenant_id: str, account: str, purpose: Purpose) -> SecretBytes:
        """The credential, for the process that signs with it; masked if printed."""
        async with session_factory(self.engine)() as session:
            row = await session.get(VaultSecretRow, (tenant_id, account, purpose.value))
            if row is None:
                raise VaultError(f"tenant {tenant_id} has no {purpose} for account {account}")
            key = await self._key(session, tenant_id, row.key_version)
        what = f"the sealed {purpose} of {tenant_id}/{account}"
        return SecretBytes(open_sealed(key, row.sealed, _secret_aad(tenant_id, account, purpose.value), what))

    async def rotate_data_key(self, tenant_id: str) -> int:
        """A new data key for the tenant; every credential re-sealed under it and the old key erased, at once."""
        async with session_factory(self.engine)() as session, session.begin():
            old_version, _ = await self._current_key(session, tenant_id)
            version, key = old_version + 1, new_key()
            session.add(self._wrapped(tenant_id, version, key))
            rows = await session.scalars(select(VaultSecretRow).where(VaultSecretRow.tenant_id == tenant_id))
            for row in rows:
                where = _secret_aad(tenant_id, row.account, row.purpose)
                plain = open_sealed(
                    await self._key(session, tenant_id, row.key_version), row.sealed, where, f"the sealed {row.purpose}"
                )
                row.sealed, row.key_version = seal(key, plain, where), version
            await session.execute(
                update(VaultDataKeyRow)
                .where(VaultDataKeyRow.tenant_id == tenant_id, VaultDataKeyRow.version < version)
                .values(wrapped=None, retired_at=utc_now())
            )
        self._data_keys = {k: v for k, v in self._data_keys.items() if k[0] != tenant_id or k[1] == version}
        self._data_keys[(tenant_id, version)] = key
        return version

    async def rotate_master(self, source: MasterSource) -> MasterView:
        """A new master key: every data key re-wrapped under it in one transaction, the old master retired.
        Credentials are not touched, and processes that already opened theirs keep signing."""
        new_master = source.create()
        async with session_factory(self.engine)() as session, session.begin():
            old = await _active_master(session)
            if old.id != self.master_id:
                raise VaultError("the vault master changed since this process unlocked it; unlock again")
            row = _new_master_row(new_master)
            session.add(row)
            await session.flush()
            keys = await session.scalars(select(VaultDataKeyRow).where(VaultDataKeyRow.wrapped.is_not(None)))
            for key_row in keys:
                where = _key_aad(key_row.tenant_id, key_row.version)
                assert key_row.wrapped is not None
                plain = self._master.unwrap(key_row.wrapped, where, f"the data key of {key_row.tenant_id}")
                key_row.wrapped, key_row.master_id = new_master.wrap(plain, where), row.id
            old.retired_at = utc_now()
        self.master_id, self._master = row.id, new_master
        return MasterView(id=row.id, kind=row.kind, created_at=row.created_at)

    # --- data keys --------------------------------------------------------------------------------

    def _wrapped(self, tenant_id: str, version: int, key: bytes) -> VaultDataKeyRow:
        return VaultDataKeyRow(
            tenant_id=tenant_id,
            version=version,
            master_id=self.master_id,
            wrapped=self._master.wrap(key, _key_aad(tenant_id, version)),
            created_at=utc_now(),
        )

    async def _current_key(self, session: AsyncSession, tenant_id: str) -> tuple[int, bytes]:
        """The tenant's newest data key, made on the tenant's first credential."""
        version = await session.scalar(
            select(VaultDataKeyRow.version)
            .where(VaultDataKeyRow.tenant_id == tenant_id, VaultDataKeyRow.wrapped.is_not(None))
            .order_by(VaultDataKeyRow.version.desc())
            .limit(1)
        )
        if version is None:
            key = new_key()
            session.add(self._wrapped(tenant_id, 1, key))
            await session.flush()
            self._data_keys[(tenant_id, 1)] = key
            return 1, key
        return version, await self._key(session, tenant_id, version)

    async def _key(self, session: AsyncSession, tenant_id: str, version: int) -> bytes:
        cached = self._data_keys.get((tenant_id, version))
        if cached is not None:
            return cached
        row = await session.get(VaultDataKeyRow, (tenant_id, version))
        if row is None or row.wrapped is None:
            raise VaultError(f"data key {version} of tenant {tenant_id} is gone (rotated or erased)")
        if row.master_id != self.master_id:
            raise VaultError("the vault master was rotated since this process unlocked it; unlock with the new one")
        key = self._master.unwrap(row.wrapped, _key_aad(tenant_id, version), f"the data key of tenant {tenant_id}")
        self._data_keys[(tenant_id, version)] = key
        return key
