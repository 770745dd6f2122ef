"""Paper trading (`DRY_RUN=1`): our own accounts on the local sandbox venues, never a real venue.

The keys are created once and kept in the data directory, so a restarted paper
session keeps its sandbox identity. Provisioning goes through the sandboxes' admin
API over HTTP only, so it works the same whether the sandboxes run in this process
(`inertial up`) or as their own (`inertial sandbox`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from control.config import Settings
from sandbox.handles import Sandboxes
from venues.kalshi.settings import KalshiKey
from venues.polymarket.eip712 import Wallet

PAPER_ACCOUNT = "paper"
PAPER_KEY_ID = "paper-key"
PAPER_USDC_MICRO = 100_000 * 1_000_000
PAPER_KALSHI_CENTS = 100_000 * 100
SANDBOX_LEADER_WALLET = "0x1eade50000000000000000000000000000000001"
SANDBOX_LEADER_ACCOUNT = "sandbox-leader"
SANDBOX_LEADER_KEY_ID = "sandbox-leader-key"


class PaperProvisioningError(RuntimeError):
    """A sandbox refused to set up the paper account; the message says which call and why."""


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


KEY_MAKERS = {
    "polymarket_private_key": lambda: "0x" + secrets.token_hex(32),
    "kalshi_private_key_pem": _rsa_pem,
    "kalshi_leader_private_key_pem": _rsa_pem,
}


def _load_or_create_keys(path: Path) -> dict[str, str]:
    """Keys a data directory lacks (a new one, or one from before a key existed) are made and kept."""
    keys: dict[str, str] = orjson.loads(path.read_bytes()) if path.is_file() else {}
    missing = [name for name in KEY_MAKERS if name not in keys]
    if not missing:
        return keys
    keys.update({name: KEY_MAKERS[name]() for name in missing})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(orjson.dumps(keys))
    return keys


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def _admin(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> dict[str, object]:
    response = await http.post(url, json=body)
    if response.status_code >= 400:
        raise PaperProvisioningError(f"sandbox admin call {url} failed: {response.status_code} {response.text[:200]}")
    result: dict[str, object] = response.json()
    return result


def point_at_sandboxes(settings: Settings, sandboxes: Sandboxes) -> Settings:
    """Paper mode trades only the in-process sandboxes, whatever venue URLs are configured."""
    if sandboxes.polymarket_urls is None or sandboxes.kalshi is None:
        raise PaperProvisioningError("paper mode needs both sandbox venues running")
    urls = sandboxes.polymarket_urls
    polymarket = settings.polymarket.model_copy(
        update={
            "clob_url": urls.clob,
            "ws_url": f"{urls.ws}/ws",
            "gamma_url": urls.gamma,
            "data_url": urls.data_api,
            "rtds_url": urls.rtds,
        }
    )
    kalshi = settings.kalshi.model_copy(
        update={"environment": "sandbox", "api_url": sandboxes.kalshi.api_url, "ws_url": sandboxes.kalshi.ws_url}
    )
    return settings.model_copy(update={"polymarket": polymarket, "kalshi": kalshi})


async def provision(settings: Settings) -> Settings:
    """Register and fund the paper accounts and the sandbox leader's; returns settings carrying the
    paper accounts' credentials and the leader's read-only Kalshi key (as a follower would give it)."""
    keys = _load_or_create_keys(settings.data_dir / "paper-keys.json")
    wallet = Wallet(keys["polymarket_private_key"])
    kalshi_base = settings.kalshi.hosts()[0].removesuffix("/trade-api/v2")
    async with httpx.AsyncClient(timeout=10) as http:
        registered = await _admin(
            http,
            f"{kalshi_base}/_sandbox/keys",
            {
                "account": PAPER_ACCOUNT,
                "public_key_pem": _public_pem(keys["kalshi_private_key_pem"]),
                "key_id": PAPER_KEY_ID,
            },
        )
        await _admin(http, f"{kalshi_base}/_sandbox/accounts/{PAPER_ACCOUNT}/fund", {"cents": PAPER_KALSHI_CENTS})
        await _admin(
            http, f"{settings.polymarket.clob_url}/_sandbox/accounts/{wallet.address}/fund", {"usdc": PAPER_USDC_MICRO}
        )
        leader = await _admin(
            http,
            f"{kalshi_base}/_sandbox/keys",
            {
                "account": SANDBOX_LEADER_ACCOUNT,
                "public_key_pem": _public_pem(keys["kalshi_leader_private_key_pem"]),
                "key_id": SANDBOX_LEADER_KEY_ID,
            },
        )
        await _admin(
            http, f"{kalshi_base}/_sandbox/accounts/{SANDBOX_LEADER_ACCOUNT}/fund", {"cents": PAPER_KALSHI_CENTS}
        )
        await _admin(
            http,
            f"{settings.polymarket.clob_url}/_sandbox/accounts/{SANDBOX_LEADER_WALLET}/fund",
            {"usdc": PAPER_USDC_MICRO},
        )
    kalshi = settings.kalshi.model_copy(
        update={"key_id": str(registered["key_id"]), "private_key": SecretStr(keys["kalshi_private_key_pem"])}
    )
    leader_key = KalshiKey(key_id=str(leader["key_id"]), private_key=SecretStr(keys["kalshi_leader_private_key_pem"]))
    copytrade = settings.copytrade.model_copy(
        update={"kalshi_leaders": {**settings.copytrade.kalshi_leaders, SANDBOX_LEADER_ACCOUNT: leader_key}}
    )
    polymarket = settings.polymarket.model_copy(
        update={"private_key": SecretStr(keys["polymarket_private_key"]), "funder": None}
    )
    return settings.model_copy(update={"kalshi": kalshi, "polymarket": polymarket, "copytrade": copytrade})
