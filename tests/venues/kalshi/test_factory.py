from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from venues.kalshi.auth import verify_signature
from venues.kalshi.factory import client_from_settings, signer_from_settings, stream_from_settings
from venues.kalshi.settings import KalshiSettings


@pytest.fixture(scope="module")
def pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def test_key_from_file_or_inline(pem: bytes, tmp_path: Path) -> None:
    path = tmp_path / "kalshi.pem"
    path.write_bytes(pem)
    from_file = signer_from_settings(KalshiSettings(key_id="k1", private_key_path=path))
    inline = signer_from_settings(KalshiSettings(key_id="k1", private_key=SecretStr(pem.decode())))
    assert from_file is not None and inline is not None
    headers = from_file.headers("GET", "/trade-api/v2/portfolio/balance")
    assert verify_signature(inline.public_key, headers, "GET", "/trade-api/v2/portfolio/balance")


def test_no_key_means_public_only_and_half_configured_keys_are_refused(pem: bytes) -> None:
    assert signer_from_settings(KalshiSettings()) is None
    with pytest.raises(ValueError, match="key_id"):
        signer_from_settings(KalshiSettings(private_key=SecretStr(pem.decode())))
    with pytest.raises(ValueError, match="private_key"):
        signer_from_settings(KalshiSettings(key_id="k1"))


async def test_hosts_follow_the_environment() -> None:
    demo = client_from_settings(KalshiSettings(environment="demo"))
    assert demo.base_url == "https://demo-api.kalshi.co/trade-api/v2"
    await demo.aclose()
    stream = stream_from_settings(KalshiSettings(environment="prod"), ["KXA-1"])
    assert stream.transport.url == "wss://api.elections.kalshi.com/trade-api/ws/v2"
    sandbox = client_from_settings(KalshiSettings(api_url="http://127.0.0.1:9999/trade-api/v2"))
    assert sandbox.base_url == "http://127.0.0.1:9999/trade-api/v2"
    await sandbox.aclose()
