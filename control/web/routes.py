"""Serve the dashboard from the API process: every asset is a local file (no CDN, nothing fetched from
the internet), and the page talks to the same `/v1` routes and stream as any other client, so what it
shows and allows follows the key's role and tenant, checked by the server."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")


def mount_dashboard(app: FastAPI) -> None:
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="dashboard")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/")
