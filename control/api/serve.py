"""Serve the REST API inside a running process (`inertial up`) or as its own (`inertial api`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from control.api.app import create_api
from control.api.codec_server import codec_server
from control.api.stream import BookTops
from control.app.access import Access
from control.config import Settings
from control.services import Services
from sandbox.serving import serve_app
from security.codec import NAMESPACE_OWNER


class ApiPortTaken(Exception):
    pass


@contextlib.asynccontextmanager
async def serving_api(settings: Settings, svc: Services, book_tops: BookTops | None = None) -> AsyncIterator[str]:
    """Yield the API's base URL; a port in use is an `ApiPortTaken` that names the setting to change."""
    ops = svc.operations(settings)
    cfg = settings.api
    decoder = None
    if svc.codec is not None:
        ui = svc.temporal_ui.rstrip("/") if svc.temporal_ui else None
        origins = [ui, ui.replace("127.0.0.1", "localhost")] if ui else []
        decoder = codec_server(svc.codec, Access(svc.engine), NAMESPACE_OWNER, settings.temporal.namespace, origins)
    async with contextlib.AsyncExitStack() as stack:
        try:
            url = await stack.enter_async_context(
                serve_app(create_api(ops, book_tops=book_tops, codec_server=decoder), cfg.host, cfg.port)
            )
        except (OSError, SystemExit):  # uvicorn exits when it cannot bind
            raise ApiPortTaken(
                f"cannot serve the API on {cfg.host}:{cfg.port} (in use?); set INERTIAL_API__PORT or [api] port"
            ) from None
        yield url
