"""The Telegram section of the configuration (`[telegram]`, `INERTIAL_TELEGRAM__*`).

With no token, `inertial up` runs the local Bot API sandbox and points the bot at it, so a newcomer
can chat with the bot from the CLI (`inertial sandbox telegram say ...`) and nothing leaves the machine.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from domain.settings import Section, check_http_url

TELEGRAM_API = "https://api.telegram.org"


class TelegramSettings(Section):
    enabled: bool = True
    token: SecretStr | None = None
    api_url: str = TELEGRAM_API
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=0, le=65535)
    webhook_secret: SecretStr | None = None
    sandbox_port: int = Field(default=8081, ge=0, le=65535)
    confirm_seconds: int = Field(default=120, ge=5, le=3600)
    alert_poll_seconds: float = Field(default=2.0, gt=0, le=60)

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram allows 1-256 of A-Z, a-z, 0-9, _ and - in the secret-token header."""
        if value is not None:
            secret = value.get_secret_value()
            if not (1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)):
                raise ValueError("webhook_secret: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value
