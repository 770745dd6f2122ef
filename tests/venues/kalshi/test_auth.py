from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from kalshi_python_sync.auth import KalshiAuth

from venues.kalshi.auth import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    KalshiSigner,
    signing_message,
    verify_signature,
)


@pytest.fixture(scope="module")
def private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def signer(private_pem: bytes) -> KalshiSigner:
    return KalshiSigner.from_pem("key-123", private_pem, clock_ms=lambda: 1_700_000_000_123)


def test_headers_carry_key_ms_timestamp_and_verifiable_signature(signer: KalshiSigner) -> None:
    headers = signer.headers("get", "/trade-api/v2/portfolio/balance")
    assert headers[KEY_HEADER] == "key-123"
    assert headers[TIMESTAMP_HEADER] == "1700000000123"
    assert verify_signature(signer.public_key, headers, "GET", "/trade-api/v2/portfolio/balance")


def test_query_string_is_not_signed(signer: KalshiSigner) -> None:
    headers = signer.headers("GET", "/trade-api/v2/portfolio/orders?limit=5&cursor=abc")
    assert verify_signature(signer.public_key, headers, "GET", "/trade-api/v2/portfolio/orders")
    assert signing_message(1, "get", "https://h/trade-api/v2/x?y=1") == b"1GET/trade-api/v2/x"


def test_signature_does_not_verify_for_another_request(signer: KalshiSigner) -> None:
    headers = signer.headers("POST", "/trade-api/v2/portfolio/orders")
    public = signer.public_key
    assert not verify_signature(public, headers, "DELETE", "/trade-api/v2/portfolio/orders")
    assert not verify_signature(public, headers, "POST", "/trade-api/v2/portfolio/order")
    assert not verify_signature(
        public, {**headers, TIMESTAMP_HEADER: "1700000000124"}, "POST", "/trade-api/v2/portfolio/orders"
    )
    assert not verify_signature(public, {**headers, SIGNATURE_HEADER: "not base64!"}, "POST", "/x")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert not verify_signature(other, headers, "POST", "/trade-api/v2/portfolio/orders")


def test_header_names_match_case_insensitively(signer: KalshiSigner) -> None:
    headers = {k.lower(): v for k, v in signer.ws_headers().items()}
    assert verify_signature(signer.public_key, headers, "GET", "/trade-api/ws/v2")


def test_pss_salt_is_digest_length(signer: KalshiSigner) -> None:
    """Verifying with an explicit 32-byte salt proves the salt length Kalshi requires."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = base64.b64decode(signer.sign(5, "GET", "/trade-api/v2/markets"))
    signer.public_key.verify(
        signature,
        b"5GET/trade-api/v2/markets",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_we_sign_exactly_what_kalshi_python_sync_signs(
    signer: KalshiSigner, private_pem: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PSS is randomized, so compare the signed messages: each side's signature verifies under the other's message."""
    monkeypatch.setattr("kalshi_python_sync.auth.time.time", lambda: 1_700_000_000.123)
    theirs = KalshiAuth("key-123", private_pem.decode()).create_auth_headers(
        "post", "https://demo-api.kalshi.co/trade-api/v2/portfolio/orders?limit=3"
    )
    assert theirs[TIMESTAMP_HEADER] == "1700000000123"
    assert verify_signature(signer.public_key, theirs, "POST", "/trade-api/v2/portfolio/orders")
    ours = signer.headers("POST", "https://demo-api.kalshi.co/trade-api/v2/portfolio/orders?limit=3")
    assert ours[TIMESTAMP_HEADER] == theirs[TIMESTAMP_HEADER]
    assert verify_signature(signer.public_key, ours, "POST", "/trade-api/v2/portfolio/orders")


def test_from_pem_rejects_non_rsa_keys() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="RSA"):
        KalshiSigner.from_pem("k", pem)
