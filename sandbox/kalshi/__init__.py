"""Sandbox Kalshi venue: trade API v2, WebSocket v2 and admin API over the shared matching engine."""

from sandbox.kalshi.app import build_app
from sandbox.kalshi.venue import KalshiVenue

__all__ = ["KalshiVenue", "build_app"]
