"""The base of every settings section and the validators they share.

Each package owns its own section (venues/polymarket/settings.py, venues/kalshi/settings.py,
temporal/settings.py); control/config.py composes them with the file and environment sources.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

HOST_PORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


class Section(BaseModel):
    """Unknown keys are errors: a typo in a setting must not silently do nothing."""

    model_config = ConfigDict(extra="forbid")


def check_http_url(value: str) -> str:
    if not re.match(r"^(https?|wss?)://[^\s/]+", value):
        raise ValueError(f"not a URL: {value!r} (expected http(s):// or ws(s)://)")
    return value.rstrip("/")
