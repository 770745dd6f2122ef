"""What the vault holds, checked before it is sealed: a credential that would not sign is refused at
`add`, not discovered at the first order."""

from __future__ import annotations

import base64
import json
import re
from enum import StrEnum
from typing import Any

from security.envelope import KEY_BYTES, VaultError
from venues.kalshi.auth import KalshiSigner

_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class Purpose(StrEnum):
    POLYMARKET_PRIVATE_KEY = "polymarket.private_key"  # the wallet key that signs orders (hex)
    POLYMARKET_CLOB_API = "polymarket.clob_api"  # {"key", "secret", "passphrase"}
    KALSHI_API = "kalshi.api"  # {"key_id", "private_key"}: the RSA key in PEM
    KALSHI_LEADER = "kalshi.leader"  # a copy leader's read-only key, the same shape
    TEMPORAL_CODEC = "temporal.codec"  # a payload codec key (security/codec.py): 32 bytes in base64


def purpose_of(name: str) -> Purpose:
    try:
        return Purpose(name)
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise VaultError(f"unknown credential purpose {name!r}; one of {known}") from None


def checked(purpose: Purpose, secret: bytes) -> bytes:
    """`secret` as it will be sealed (trimmed), or a `VaultError` saying what is wrong with it (never the value)."""
    text = secret.decode("utf-8", "replace").strip()
    if purpose is Purpose.POLYMARKET_PRIVATE_KEY:
        if not _HEX_KEY.match(text):
            raise VaultError("a Polymarket private key is 64 hex digits (optionally 0x-prefixed)")
        return text.encode()
    if purpose is Purpose.TEMPORAL_CODEC:
        try:
            if len(base64.b64decode(text, validate=True)) == KEY_BYTES:
                return text.encode()
        except ValueError:
            pass
        raise VaultError(f"a codec key is {KEY_BYTES} bytes in base64")
    fields = _json_object(purpose, text)
    if purpose is Purpose.POLYMARKET_CLOB_API:
        _require(purpose, fields, ("key", "secret", "passphrase"))
    else:
        _require(purpose, fields, ("key_id", "private_key"))
        try:
            KalshiSigner.from_pem(str(fields["key_id"]), str(fields["private_key"]))
        except (ValueError, TypeError):
            raise VaultError(f"{purpose}: private_key is not an RSA private key in PEM") from None
    return json.dumps(fields, sort_keys=True).encode()


def _json_object(purpose: Purpose, text: str) -> dict[str, Any]:
    try:
        fields = json.loads(text)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise VaultError(f"{purpose} is a JSON object")
    return fields


def _require(purpose: Purpose, fields: dict[str, Any], names: tuple[str, ...]) -> None:
    missing = [n for n in names if not isinstance(fields.get(n), str) or not fields[n]]
    extra = sorted(set(fields) - set(names))
    if missing or extra:
        raise VaultError(f"{purpose} has exactly the fields {', '.join(names)} (missing {missing}, unknown {extra})")
