"""Market, user and RTDS WebSocket channels (`/ws/market`, `/ws/user`, `/rtds`).

RTDS (the Real-Time Data Socket, its own host on the venue): `{"action": "subscribe",
"subscriptions": [{"topic": "activity", "type": "trades" | "orders_matched" | "*", "filters":
"{\"market_slug\": ...}"}]}`, then every trade as `{topic, type, timestamp, payload}` (payload: the
Data API trade row).

Market: `{"assets_ids": [...], "type": "market"}` subscribes (later messages with
`"operation": "subscribe" | "unsubscribe"` change the set) and answers with one
JSON array holding a `book` per asset; then `price_change`, `last_trade_price`
and `tick_size_change` follow as they happen, plus `best_bid_ask` and
`market_resolved` for subscriptions with `"custom_feature_enabled": true`. User: `{"auth": {apiKey, secret,
passphrase}, "markets": [...], "type": "user"}`, then `order` and `trade` events of
that key. Text `PING` is answered `PONG` on both.

Each socket has one writer task draining its outbox, so the matching engine never
waits for a slow reader. Fault hooks: `take_seq_gap()` drops a message (Polymarket
has no sequence numbers, so a gap is a lost update), `should_drop_ws()` closes the
socket after N messages, `drop_ws_now` closes every socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from sandbox.polymarket.state import OVERFLOW, PolymarketState, Subscriber

log = logging.getLogger(__name__)

PONG = "PONG"
RTDS_PATH = "/rtds"


def ws_routes(state: PolymarketState) -> list[WebSocketRoute]:
    faults = state.faults

    async def writer(ws: WebSocket, sub: Subscriber) -> None:
        sent = 0
        while True:
            text = await sub.outbox.get()
            if text == OVERFLOW:
                log.warning("polymarket sandbox ws: reader too slow, disconnecting")
                await ws.close(code=1013)
                return
            if text != PONG and faults.take_seq_gap():
                continue
            await ws.send_text(text)
            sent += 1
            if faults.should_drop_ws(sent):
                await ws.close()
                return

    async def run(ws: WebSocket, sub: Subscriber, on_message: Any) -> None:
        await ws.accept()

        async def close() -> None:
            if ws.application_state is WebSocketState.CONNECTED:
                await ws.close()

        handle = faults.register_socket(close)
        state.subscribers.add(sub)
        task = asyncio.create_task(writer(ws, sub))
        try:
            while not task.done():
                text = await ws.receive_text()
                if text.strip() == "PING":
                    sub.deliver(PONG)
                    continue
                try:
                    message = orjson.loads(text)
                except orjson.JSONDecodeError:
                    log.warning("polymarket sandbox ws: malformed message %r", text[:200])
                    continue
                if isinstance(message, dict) and not await on_message(ws, sub, message):
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            state.subscribers.discard(sub)
            faults.unregister_socket(handle)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task

    async def on_market(ws: WebSocket, sub: Subscriber, message: dict[str, Any]) -> bool:
        assets = [str(a) for a in message.get("assets_ids") or []]
        if message.get("operation") == "unsubscribe":
            sub.assets.difference_update(assets)
            return True
        known = [a for a in assets if a in state.tokens]
        sub.assets.update(known)
        if "custom_feature_enabled" in message:
            sub.custom_features = bool(message["custom_feature_enabled"])
        if known and message.get("initial_dump", True):
            sub.deliver(orjson.dumps([state.book_message(a) for a in known]).decode())
        return True

    async def on_user(ws: WebSocket, sub: Subscriber, message: dict[str, Any]) -> bool:
        auth = message.get("auth")
        if sub.api_key is None:
            creds = state.credentials.get(str(auth.get("apiKey"))) if isinstance(auth, dict) else None
            if (
                creds is None
                or auth is None
                or (auth.get("secret"), auth.get("passphrase"))
                != (
                    creds.secret,
                    creds.passphrase,
                )
            ):
                await ws.close(code=1008)
                return False
            sub.api_key = creds.api_key
        markets = message.get("markets")
        if markets:
            sub.markets = (sub.markets or set()) | {str(m) for m in markets}
        return True

    async def on_rtds(ws: WebSocket, sub: Subscriber, message: dict[str, Any]) -> bool:
        action = message.get("action")
        subscriptions = message.get("subscriptions")
        if action not in ("subscribe", "unsubscribe") or not isinstance(subscriptions, list):
            log.warning("polymarket sandbox rtds: not a (un)subscribe message %.200r", message)
            return True
        for item in subscriptions:
            if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
                continue
            key = (item["topic"], str(item.get("type") or "*"))
            if action == "unsubscribe":
                sub.rtds.pop(key, None)
                continue
            sub.rtds[key] = _rtds_filters(item.get("filters"))
        return True

    async def market_socket(ws: WebSocket) -> None:
        await run(ws, Subscriber("market"), on_market)

    async def user_socket(ws: WebSocket) -> None:
        await run(ws, Subscriber("user"), on_user)

    async def rtds_socket(ws: WebSocket) -> None:
        await run(ws, Subscriber("rtds"), on_rtds)

    return [
        WebSocketRoute("/ws/market", market_socket),
        WebSocketRoute("/ws/user", user_socket),
        WebSocketRoute(RTDS_PATH, rtds_socket),
    ]


def _rtds_filters(raw: object) -> dict[str, str]:
    """RTDS filters arrive as a JSON text (`{"market_slug": ...}` or `{"event_slug": ...}`); others are ignored."""
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {k: str(v) for k, v in decoded.items() if k in ("market_slug", "event_slug")}
