"""The Kalshi section of the configuration (`[kalshi]`, `INERTIAL_KALSHI__*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator

from domain.settings import Section, check_http_url
from venues.kalshi.hosts import HOSTS, Environment


class KalshiKey(Section):
    """One API key: the account's own, or a leader's read-only key its follower provided."""

    key_id: str | None = None
    private_key_path: Path | None = None
    private_key: SecretStr | None = None


class KalshiSettings(KalshiKey):
    environment: Environment = "sandbox"
    api_url: str | None = None
    ws_url: str | None = None

    @field_validator("api_url", "ws_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    def hosts(self) -> tuple[str, str]:
        """REST base and WebSocket URL for the chosen environment, unless overridden."""
        rest, ws = HOSTS[self.environment]
        return self.api_url or rest, self.ws_url or ws
