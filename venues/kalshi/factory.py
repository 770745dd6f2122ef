"""Build the Kalshi signer, REST client and stream from `venues.kalshi.settings.KalshiSettings`.

One place decides where the key comes from (inline PEM beats a key file) and which
host is used, so workers, streamers and the CLI cannot disagree about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from venues.kalshi.auth import KalshiSigner
from venues.kalshi.client import KalshiClient
from venues.kalshi.settings import KalshiKey, KalshiSettings
from venues.kalshi.stream import KalshiStream
from venues.ratelimit import KalshiTier, VenueRateLimiter


def signer_from_settings(settings: KalshiKey) -> KalshiSigner | None:
    """The key's signer, or None when no key is configured (public market data only)."""
    if settings.key_id is None:
        if settings.private_key is not None or settings.private_key_path is not None:
            raise ValueError("kalshi: a private key is configured without key_id")
        return None
    if settings.private_key is not None:
        pem = settings.private_key.get_secret_value().encode()
    elif settings.private_key_path is not None:
        pem = settings.private_key_path.expanduser().read_bytes()
    else:
        raise ValueError("kalshi: key_id is set but neither private_key nor private_key_path is")
    return KalshiSigner.from_pem(settings.key_id, pem)


def client_from_settings(
    settings: KalshiSettings,
    *,
    tier: KalshiTier = KalshiTier.BASIC,
    limiter: VenueRateLimiter | None = None,
    timeout: float = 10.0,
) -> KalshiClient:
    """Share `limiter` between every client of one account: Kalshi's limits are per account."""
    api_url, _ = settings.hosts()
    return KalshiClient(
        api_url,
        signer=signer_from_settings(settings),
        limiter=limiter or VenueRateLimiter.kalshi(tier),
        timeout=timeout,
    )


def stream_from_settings(settings: KalshiSettings, tickers: Sequence[str], **options: Any) -> KalshiStream:
    _, ws_url = settings.hosts()
    return KalshiStream(ws_url, tickers, signer=signer_from_settings(settings), **options)
