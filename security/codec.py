"""Every Temporal payload sealed (AES-256-GCM) before it leaves the process, so the server, its
database and its web UI hold no order, price, account or credential in clear.

Keys are the vault's `temporal.codec` credentials of the namespace's tenant (the shared namespace's
owner for the shared tier, the tenant itself for an enterprise namespace): the Temporal codec has no
per-workflow context, so the key follows the namespace. Each sealed payload names its key, so a
rotation (a new key added) keeps old histories readable while new payloads use the newest key.
Search attributes are not payloads the server may not read: they carry only ids and states.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from domain.accounts import DEFAULT_TENANT
from security.credentials import Purpose
from security.envelope import VaultError, aad, new_key, open_sealed, seal
from security.vault import SecretView, Vault

NAMESPACE_OWNER = DEFAULT_TENANT  # the shared namespace's codec key is this tenant's; enterprise: the tenant's own
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise VaultError(f"codec key {current!r} is not among the codec's keys")
        self._keys = dict(keys)
        self._current = current

    def __repr__(self) -> str:
        return f"EncryptionCodec(current={self._current!r}, keys={len(self._keys)})"

    @property
    def key_id(self) -> str:
        return self._current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key = self._keys[self._current]
        where = aad("payload", self._current)
        return [
            Payload(
                metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
                data=seal(key, p.SerializeToString(), where),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)  # written before encryption was on, or by a tool that does not encrypt
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode()
            key = self._keys.get(key_id)
            if key is None:
                raise VaultError(f"a payload is sealed under codec key {key_id!r}, which this process does not hold")
            decoded = Payload()
            decoded.ParseFromString(open_sealed(key, p.data, aad("payload", key_id), f"a payload under {key_id}"))
            out.append(decoded)
        return out


async def codec_keys(vault: Vault, tenant_id: str, *, create: bool = False) -> EncryptionCodec:
    """The tenant's codec keys from the vault (the newest encodes); `create` makes the first one."""
    views = [v for v in await vault.listing(tenant_id) if v.purpose == Purpose.TEMPORAL_CODEC]
    if not views:
        if not create:
            raise VaultError(f"tenant {tenant_id} has no Temporal codec key: `inertial vault rotate codec`")
        views = [await add_codec_key(vault, tenant_id)]
    keys = {}
    for view in views:
        secret = await vault.open(tenant_id, view.account, Purpose.TEMPORAL_CODEC)
        keys[view.account] = base64.b64decode(secret.get_secret_value())
    newest = max(views, key=lambda v: (v.created_at, v.account))
    return EncryptionCodec(keys, newest.account)


async def add_codec_key(vault: Vault, tenant_id: str) -> SecretView:
    """A new codec key: new payloads use it from the next start; old ones stay readable."""
    key_id = f"codec-{secrets.token_hex(4)}"
    return await vault.add(tenant_id, key_id, Purpose.TEMPORAL_CODEC, base64.b64encode(new_key()))
