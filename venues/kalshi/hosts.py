"""Where Kalshi lives, per environment: the one table every client, stream and setting reads."""

from __future__ import annotations

from typing import Literal

Environment = Literal["sandbox", "demo", "prod"]

HOSTS: dict[str, tuple[str, str]] = {
    "sandbox": ("http://127.0.0.1:8802/trade-api/v2", "ws://127.0.0.1:8802/trade-api/ws/v2"),
    "demo": ("https://demo-api.kalshi.co/trade-api/v2", "wss://demo-api.kalshi.co/trade-api/ws/v2"),
    "prod": ("https://api.elections.kalshi.com/trade-api/v2", "wss://api.elections.kalshi.com/trade-api/ws/v2"),
}
"""(REST base, WebSocket URL) per environment."""

PROD_BASE_URL = HOSTS["prod"][0]
DEMO_BASE_URL = HOSTS["demo"][0]
