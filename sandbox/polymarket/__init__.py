"""Local Polymarket venue (CLOB REST + WebSockets + Gamma + Data API + admin) on the shared matching engine."""

from sandbox.polymarket.app import SandboxUrls, build_app, serve
from sandbox.polymarket.state import PolymarketState

__all__ = ["PolymarketState", "SandboxUrls", "build_app", "serve"]
