"""The REST API section of the configuration (`[api]`, `INERTIAL_API__*`).

Bound to 127.0.0.1 by default: exposing it is a decision (a reverse proxy with TLS in front),
never a default.
"""

from __future__ import annotations

from pydantic import Field

from domain.settings import Section


class ApiSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
