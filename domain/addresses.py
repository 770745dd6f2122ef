"""Polygon wallet addresses as we key them: lowercase hex, checked once where they come in."""

from __future__ import annotations

import re

WALLET = re.compile(r"^0x[0-9a-f]{40}$")


def valid_wallet(address: str) -> str:
    """A Polymarket proxy wallet as we key it (lowercase hex); a clear error otherwise."""
    wallet = address.strip().lower()
    if not WALLET.match(wallet):
        raise ValueError(f"{address!r} is not a wallet address (0x followed by 40 hex digits)")
    return wallet
