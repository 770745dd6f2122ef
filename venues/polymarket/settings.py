"""The Polymarket section of the configuration (`[polymarket]`, `INERTIAL_POLYMARKET__*`); defaults: the sandbox."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from domain.settings import Section, check_http_url


class PolymarketSettings(Section):
    clob_url: str = "http://127.0.0.1:8801"
    ws_url: str = "ws://127.0.0.1:8801/ws"
    gamma_url: str = "http://127.0.0.1:8801/gamma"
    data_url: str = "http://127.0.0.1:8801/data-api"
    rtds_url: str = "ws://127.0.0.1:8801/rtds"
    chain_id: int = 137
    private_key: SecretStr | None = None
    funder: str | None = None
    signature_type: int = Field(default=0, ge=0, le=2)
    api_key: str | None = None
    api_secret: SecretStr | None = None
    api_passphrase: SecretStr | None = None
    rpc_urls: list[str] = Field(default_factory=list)

    _urls = field_validator("clob_url", "ws_url", "gamma_url", "data_url", "rtds_url")(check_http_url)
