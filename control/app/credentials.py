"""Venue credentials of the caller's tenant, in the vault: owners' business, audited, never shown.

There is deliberately no operation that returns a credential: the processes that sign open them
from the vault themselves (`security.vault.Vault.open`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.access import Caller, Role
from control.app.audit import Audit
from security.codec import add_codec_key
from security.credentials import Purpose
from security.masters import MasterSource
from security.vault import MasterView, SecretView, Vault


@dataclass(frozen=True, slots=True)
class Credentials:
    engine: AsyncEngine
    vault: Vault

    async def add(self, caller: Caller, account: str, purpose: Purpose, secret: bytes, label: str = "") -> SecretView:
        caller.require(Role.OWNER)
        view = await self.vault.add(caller.tenant_id, account, purpose, secret, label)
        await Audit(self.engine).record(caller, "vault_add", f"{account}:{purpose}", key_version=view.key_version)
        return view

    async def listing(self, caller: Caller) -> list[SecretView]:
        caller.require(Role.OWNER)
        return await self.vault.listing(caller.tenant_id)

    async def remove(self, caller: Caller, account: str, purpose: Purpose) -> SecretView:
        caller.require(Role.OWNER)
        view = await self.vault.remove(caller.tenant_id, account, purpose)
        await Audit(self.engine).record(caller, "vault_remove", f"{account}:{purpose}")
        return view

    async def rotate_data_key(self, caller: Caller) -> int:
        caller.require(Role.OWNER)
        version = await self.vault.rotate_data_key(caller.tenant_id)
        await Audit(self.engine).record(caller, "vault_rotate_data_key", caller.tenant_id, version=version)
        return version

    async def new_codec_key(self, caller: Caller) -> SecretView:
        """A new Temporal payload key for the caller's tenant's namespace; old payloads stay readable."""
        caller.require(Role.OWNER)
        view = await add_codec_key(self.vault, caller.tenant_id)
        await Audit(self.engine).record(caller, "vault_new_codec_key", view.account)
        return view

    async def rotate_master(self, caller: Caller, source: MasterSource) -> MasterView:
        """The whole vault's master: an operator's act, recorded in the operator's tenant."""
        caller.require(Role.OWNER)
        view = await self.vault.rotate_master(source)
        await Audit(self.engine).record(caller, "vault_rotate_master", view.id, kind=view.kind)
        return view
