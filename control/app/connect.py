"""How an operator's front end reaches the running system: the configured Temporal, or the dev server
that `inertial up` embeds. It never starts a server itself."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import PayloadCodec

from control.app.errors import Unavailable
from control.config import Settings
from temporal.client import connect


async def operator_client(settings: Settings, codec: PayloadCodec | None = None) -> Client:
    cfg = settings.temporal
    address = cfg.address or f"127.0.0.1:{cfg.dev_server_port}"
    try:
        return await connect(address, cfg.namespace, codec)
    except RuntimeError as exc:
        raise Unavailable(f"cannot reach Temporal at {address}: {exc} (is `inertial up` running?)") from None
