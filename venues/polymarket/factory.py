"""Build the Polymarket pieces from `PolymarketSettings`: the one place settings meet this package.

`ws_url` is the WebSocket base (production `wss://ws-subscriptions-clob.polymarket.com/ws`);
the market and user channels live at `/market` and `/user` under it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from venues.polymarket.auth import ApiCreds
from venues.polymarket.book_feed import PolymarketBookFeed
from venues.polymarket.chain import Polygon
from venues.polymarket.client import PolymarketClient
from venues.polymarket.eip712 import Wallet
from venues.polymarket.messages import UserEvent
from venues.polymarket.orders import SignatureType
from venues.polymarket.settings import PolymarketSettings
from venues.polymarket.streams import MarketStream, UserStream


def creds_from_settings(settings: PolymarketSettings) -> ApiCreds | None:
    if settings.api_key and settings.api_secret and settings.api_passphrase:
        return ApiCreds(
            settings.api_key, settings.api_secret.get_secret_value(), settings.api_passphrase.get_secret_value()
        )
    return None


def client_from_settings(settings: PolymarketSettings) -> PolymarketClient:
    """A client for the configured hosts; without a private key it serves public data only."""
    wallet = Wallet(settings.private_key.get_secret_value()) if settings.private_key else None
    return PolymarketClient(
        settings.clob_url,
        settings.gamma_url,
        settings.data_url,
        wallet=wallet,
        creds=creds_from_settings(settings),
        chain_id=settings.chain_id,
        funder=settings.funder,
        signature_type=SignatureType(settings.signature_type),
    )


def market_stream_from_settings(
    settings: PolymarketSettings, feed: PolymarketBookFeed, rest: PolymarketClient | None = None
) -> MarketStream:
    return MarketStream(feed, url=f"{settings.ws_url}/market", rest=rest)


def user_stream_from_settings(
    settings: PolymarketSettings,
    on_event: Callable[[UserEvent], Awaitable[None] | None],
    markets: Sequence[str] = (),
) -> UserStream:
    creds = creds_from_settings(settings)
    if creds is None:
        raise ValueError("the user channel needs INERTIAL_POLYMARKET__API_KEY, __API_SECRET and __API_PASSPHRASE")
    return UserStream(creds, on_event, markets=markets, url=f"{settings.ws_url}/user")


def polygon_from_settings(settings: PolymarketSettings, *, dry_run: bool) -> Polygon:
    if not settings.rpc_urls:
        raise ValueError("no Polygon RPC URLs configured (INERTIAL_POLYMARKET__RPC_URLS)")
    key = settings.private_key.get_secret_value() if settings.private_key else None
    return Polygon(settings.rpc_urls, chain_id=settings.chain_id, private_key=key, dry_run=dry_run)
